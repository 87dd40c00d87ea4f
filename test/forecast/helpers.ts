// Shared by the forecast tests: where the real traces are, and running the
// built CLI (bin/umbra.js loads dist/; rebuilt here when older than the sources).
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const UMBRA_BIN = join(ROOT, 'bin', 'umbra.js');

/** The shipped real series: the repo's traces/ once it has them, else ../shared/traces. */
export function tracesDir(): string {
  for (const d of [join(ROOT, 'traces'), join(ROOT, '..', 'shared', 'traces')]) if (existsSync(join(d, 'R_BASELINE.md'))) return d;
  throw new Error('no traces folder with R_BASELINE.md found (expected ../shared/traces)');
}

function newestMtimeMs(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(p).map((f) => newestMtimeMs(join(p, f))));
}

let built = false;
export function ensureBuilt(): void {
  if (built) return;
  const probe = join(ROOT, 'dist', 'experiments', 'cli', 'commands', 'forecast.js');
  const sources = [join(ROOT, 'policies', 'forecast'), join(ROOT, 'traces', 'series-csv.ts'), join(ROOT, 'experiments', 'cli')];
  if (!existsSync(probe) || statSync(probe).mtimeMs < Math.max(...sources.map(newestMtimeMs))) {
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', ROOT], { stdio: 'ignore' });
    } catch {
      // tsc still emits when someone else's in-progress file has a type error
    }
  }
  built = true;
}

export function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  ensureBuilt();
  return new Promise((resolve) => {
    execFile(process.execPath, [UMBRA_BIN, ...args], { cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}
