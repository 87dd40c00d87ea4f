// Run the built CLI for policy tests, rebuilding dist/ first when policies/
// or the CLI sources are newer than it.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function newest(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(p).map((f) => newest(join(p, f))));
}

let built = false;
function ensureBuilt(): void {
  if (built) return;
  const probe = join(ROOT, 'dist', 'policies', 'registry.js');
  const src = Math.max(newest(join(ROOT, 'policies')), newest(join(ROOT, 'experiments', 'cli')));
  if (!existsSync(probe) || statSync(probe).mtimeMs < src) {
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', ROOT], { stdio: 'ignore' });
    } catch {
      // tsc still emits when someone else's in-progress file has a type error
    }
  }
  built = true;
}

export function umbra(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  ensureBuilt();
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'umbra.js'), ...args], { cwd: ROOT, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}
