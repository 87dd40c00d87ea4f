// The CLI tests run bin/umbra.js, which loads dist/ (as do the sweep's worker
// threads). Rebuild dist/ once per test file when it is missing or older than
// any source it compiles from, e.g. when vitest runs without `npm test`.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const UMBRA_BIN = join(ROOT, 'bin', 'umbra.js');

const SOURCE_DIRS = ['experiments', 'traces', 'sim', 'policies', 'util', 'runner'];

function newestMtimeMs(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(p).map((f) => newestMtimeMs(join(p, f))));
}

let done = false;
export function ensureDistFresh(): void {
  if (done) return;
  const probe = join(ROOT, 'dist', 'experiments', 'cli', 'main.js');
  const newest = Math.max(...SOURCE_DIRS.map((d) => newestMtimeMs(join(ROOT, d))));
  if (!existsSync(probe) || statSync(probe).mtimeMs < newest) {
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', ROOT], { stdio: 'ignore' });
    } catch {
      // tsc still emits when someone else's in-progress file has a type error
    }
  }
  done = true;
}
