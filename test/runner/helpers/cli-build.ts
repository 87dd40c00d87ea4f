// The CLI tests load dist/: rebuild it when any source it compiles from
// (runner/ and native/ included) is newer than the build.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function newestMtimeMs(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(p).map((f) => newestMtimeMs(join(p, f))));
}

let done = false;
export function ensureDistFresh(): void {
  if (done) return;
  const probe = join(ROOT, 'dist', 'experiments', 'cli', 'commands', 'compare.js');
  const sources = ['experiments', 'traces', 'sim', 'policies', 'util', 'runner'].map((d) => join(ROOT, d));
  if (!existsSync(probe) || statSync(probe).mtimeMs < Math.max(...sources.map(newestMtimeMs))) {
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', ROOT], { stdio: 'ignore' });
    } catch {
      // tsc still emits when someone else's in-progress file has a type error
    }
  }
  done = true;
}
