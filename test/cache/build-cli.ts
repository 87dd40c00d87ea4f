// The CLI tests run the real binary, which loads dist/. Rebuild when dist is
// missing or older than the cache-sim sources (e.g. vitest run without `npm test`).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const UMBRA_BIN = join(ROOT, 'bin', 'umbra.js');

function newestMtimeMs(paths: string[]): number {
  let newest = 0;
  for (const p of paths) {
    const st = statSync(p);
    if (st.isDirectory()) newest = Math.max(newest, newestMtimeMs(readdirSync(p).map((f) => join(p, f))));
    else newest = Math.max(newest, st.mtimeMs);
  }
  return newest;
}

export function ensureBuilt(): void {
  const built = join(ROOT, 'dist', 'experiments', 'cli', 'commands', 'cache-sim.js');
  const sources = [join(ROOT, 'sim', 'cache'), join(ROOT, 'experiments', 'cli', 'commands', 'cache-sim.ts'), join(ROOT, 'experiments', 'cli', 'main.ts')];
  if (existsSync(built) && statSync(built).mtimeMs >= newestMtimeMs(sources)) return;
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', ROOT], { stdio: 'ignore' });
  } catch {
    // tsc still emits when other in-progress files have type errors
  }
}
