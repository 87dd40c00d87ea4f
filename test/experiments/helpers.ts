// Shared by the experiment tests: the fixture folder, building the CLI
// (bin/umbra.js and the sweep's worker threads load dist/; rebuilt here when
// older than the sources), running it, and copying fixture specs into temp
// folders with their relative paths intact.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDistFresh, ROOT, UMBRA_BIN } from '../helpers/dist-build.js';

export { ROOT, UMBRA_BIN } from '../helpers/dist-build.js';
export const FIXTURES = join(ROOT, 'test', 'experiments', 'fixtures');
/** dist/ rebuilt when older than the sources (test/helpers/dist-build.ts). */
export const ensureBuilt = ensureDistFresh;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runOnce(args: string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [UMBRA_BIN, ...args], { cwd, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

/** A failure to load dist/ itself: another process was rewriting it (several people share this checkout). */
const HALF_BUILT = /SyntaxError|ERR_MODULE_NOT_FOUND|Cannot find module|does not provide an export named|dist\/ is missing/;

export async function runCli(args: string[], cwd = ROOT): Promise<CliResult> {
  ensureBuilt();
  let r = await runOnce(args, cwd);
  for (let i = 0; i < 2 && r.code !== 0 && HALF_BUILT.test(r.stderr); i++) {
    await new Promise((res) => setTimeout(res, 2000));
    r = await runOnce(args, cwd);
  }
  return r;
}

export function spawnCli(args: string[], cwd = ROOT): ChildProcess {
  ensureBuilt();
  return spawn(process.execPath, [UMBRA_BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `umbra-${prefix}-`));
}

/**
 * A copy of the fixtures folder in a temp dir (so specs can be edited), with
 * the repository's traces reachable at the same relative path.
 */
export function fixtureCopy(prefix: string): { dir: string; specs: string } {
  const dir = tempDir(prefix);
  const specs = join(dir, 'test', 'experiments', 'fixtures');
  cpSync(FIXTURES, specs, { recursive: true });
  cpSync(join(ROOT, 'traces'), join(dir, 'traces'), { recursive: true });
  return { dir, specs };
}

/** Write a variant of a fixture spec: `edit` gets and returns the YAML text. */
export function specVariant(specsDir: string, from: string, to: string, edit: (text: string) => string): string {
  const p = join(specsDir, to);
  writeFileSync(p, edit(readFileSync(join(specsDir, from), 'utf8')));
  return p;
}

export function read(p: string): string {
  return readFileSync(p, 'utf8');
}
