// Shared by the forecast tests: where the real traces are, and running the
// built CLI (bin/umbra.js loads dist/; rebuilt here when older than the sources).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/dist-build.js';

/** The shipped real series: the repo's traces/ once it has them, else ../shared/traces. */
export function tracesDir(): string {
  for (const d of [join(ROOT, 'traces'), join(ROOT, '..', 'shared', 'traces')]) if (existsSync(join(d, 'R_BASELINE.md'))) return d;
  throw new Error('no traces folder with R_BASELINE.md found (expected ../shared/traces)');
}

/** The built CLI, as the experiment tests run it (dist/ rebuilt when stale). */
export { runCli } from '../experiments/helpers.js';
