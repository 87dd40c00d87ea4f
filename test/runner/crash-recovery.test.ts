// A runner killed with SIGKILL cannot clean up: its frozen group, throttled
// process and cgroups stay. The journal it wrote must let the next start (or
// `umbra cleanup`) restore everything. SIGTERM must restore at once. Real
// cgroups (as root) on this host.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replayLeftoverJournals } from '../../runner/journal/replay.js';
import { defaultHostFs } from '../../runner/fs/default-fs.js';
import { isAlive } from '../../runner/process/procfs.js';
import { startHostPlatform } from '../../runner/host-setup.js';

const CG = '/sys/fs/cgroup';
const root = typeof process.geteuid === 'function' && process.geteuid() === 0;
const v1 = existsSync(join(CG, 'freezer', 'cgroup.procs')) && existsSync(join(CG, 'cpu', 'cpu.cfs_quota_us'));
const skipReason = !root ? 'needs root to create cgroups' : !v1 ? 'needs cgroup v1 freezer and cpu hierarchies (this test drives real cgroups)' : '';
if (skipReason) console.warn(`crash-recovery tests skipped: ${skipReason}`);

const viteNode = join(process.cwd(), 'node_modules', '.bin', 'vite-node');
const fixture = join(process.cwd(), 'test', 'runner', 'fixtures', 'crash-child.ts');

let dir: string;
let child: ChildProcess | null = null;
const leftoverPids: number[] = [];

function groupsOf(runName: string): string[] {
  return readdirSync(CG)
    .map((h) => join(CG, h, runName))
    .filter((p) => existsSync(p));
}

interface ChildInfo {
  runName: string;
  journalPath: string;
  pids: number[];
  refused: unknown[];
}

async function startChild(journalDir: string): Promise<ChildInfo> {
  child = spawn(process.execPath, [viteNode, fixture, journalDir, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const rl = createInterface({ input: child.stdout! });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not report within 30 s: ${stderr}`)), 30_000);
    rl.once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child!.once('exit', (code) => reject(new Error(`child exited ${code}: ${stderr}`)));
  });
  const info = JSON.parse(line) as ChildInfo;
  leftoverPids.push(...info.pids);
  return info;
}

function waitExit(c: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) resolve({ code: c.exitCode, signal: c.signalCode });
    else c.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'umbra-crash-test-'));
});
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    // Its journal is only replayed once its owner is really gone.
    await waitExit(child);
  }
  child = null;
  // Whatever a failing test left, undo it (the journals are in dir).
  replayLeftoverJournals(join(dir, 'journal'), { fs: defaultHostFs(), procRoot: '/proc', killGraceMs: 200 });
  for (const p of leftoverPids.splice(0)) if (isAlive('/proc', p)) process.kill(p, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
afterAll(() => {
  expect(readdirSync(CG).flatMap((h) => (existsSync(join(CG, h)) ? readdirSync(join(CG, h)).filter((n) => n.startsWith('umbra-') && n.includes(String(process.pid))) : []))).toEqual([]);
});

describe.skipIf(!!skipReason)('crash recovery (real cgroups)', () => {
  it('after SIGKILL the groups, the frozen task and the processes remain; `umbra cleanup` replay restores everything', async () => {
    const journalDir = join(dir, 'journal');
    const info = await startChild(journalDir);
    expect(info.refused).toEqual([]);
    const [spinPid, napPid] = info.pids;
    // FREEZING while the kernel is still stopping its threads.
    expect(readFileSync(join(CG, 'freezer', info.runName, 'spin', 'freezer.state'), 'utf8').trim()).toMatch(/^(FROZEN|FREEZING)$/);
    child!.kill('SIGKILL');
    await waitExit(child!);
    // The crash left its state behind...
    expect(groupsOf(info.runName).length).toBeGreaterThan(0);
    expect(isAlive('/proc', spinPid)).toBe(true);
    expect(readFileSync(join(CG, 'freezer', info.runName, 'spin', 'freezer.state'), 'utf8').trim()).toMatch(/^(FROZEN|FREEZING)$/);
    expect(existsSync(info.journalPath)).toBe(true);
    // ...and the journal undoes all of it.
    const results = replayLeftoverJournals(journalDir, { fs: defaultHostFs(), procRoot: '/proc', killGraceMs: 1000 });
    expect(results.map((r) => [r.runId, r.outcome])).toEqual([[info.runName.slice('umbra-'.length), 'restored']]);
    expect(results[0].report?.thawed).toContain(join(CG, 'freezer', info.runName, 'spin', 'freezer.state'));
    expect(groupsOf(info.runName)).toEqual([]);
    expect(isAlive('/proc', spinPid)).toBe(false);
    expect(isAlive('/proc', napPid)).toBe(false);
    expect(existsSync(info.journalPath)).toBe(false);
    expect(existsSync(join(dir, info.runName))).toBe(false);
  });

  it('the next start replays a dead run’s journal before doing anything else', async () => {
    const journalDir = join(dir, 'journal');
    const info = await startChild(journalDir);
    child!.kill('SIGKILL');
    await waitExit(child!);
    expect(groupsOf(info.runName).length).toBeGreaterThan(0);
    const next = await startHostPlatform({ journalDir, scratchRoot: dir, tasks: [], killGraceMs: 500 });
    try {
      expect(next.replayed.map((r) => r.outcome)).toEqual(['restored']);
      expect(groupsOf(info.runName)).toEqual([]);
      for (const p of info.pids) expect(isAlive('/proc', p)).toBe(false);
    } finally {
      await next.platform.close();
    }
    expect(groupsOf(next.runName)).toEqual([]);
  });

  it('SIGTERM restores at once: thawed, stopped, groups removed, journal deleted, and the runner still dies of SIGTERM', async () => {
    const journalDir = join(dir, 'journal');
    const info = await startChild(journalDir);
    child!.kill('SIGTERM');
    const exit = await waitExit(child!);
    expect(exit.signal).toBe('SIGTERM');
    expect(groupsOf(info.runName)).toEqual([]);
    for (const p of info.pids) expect(isAlive('/proc', p)).toBe(false);
    expect(existsSync(info.journalPath)).toBe(false);
    expect(existsSync(join(dir, info.runName))).toBe(false);
  });
});
