// HostPlatform on this host's real cgroups (as root): memory limits, CPU
// quota and freezer measured through the task's own CPU time, affinity
// without cgroups, refusals with reasons, and restore after a failed start.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHostPlatform, type HostPlatformOptions } from '../../runner/host-setup.js';
import type { HostPlatform } from '../../runner/host-platform.js';
import { isAlive } from '../../runner/process/procfs.js';
import { nativeAddon } from '../../native/addon.js';

const CG = '/sys/fs/cgroup';
const root = typeof process.geteuid === 'function' && process.geteuid() === 0;
const v1 = ['cpu', 'cpuacct', 'freezer', 'memory'].every((c) => existsSync(join(CG, c, 'cgroup.procs')));
const skipReason = !root ? 'needs root' : !v1 ? 'needs cgroup v1 cpu, cpuacct, freezer and memory hierarchies' : '';
if (skipReason) console.warn(`host-real tests skipped: ${skipReason}`);

let platform: HostPlatform | null = null;
let dir = '';
afterEach(async () => {
  await platform?.close();
  platform = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

async function start(o: Partial<HostPlatformOptions> & Pick<HostPlatformOptions, 'tasks'>) {
  dir = mkdtempSync(join(tmpdir(), 'umbra-host-real-'));
  const s = await startHostPlatform({ journalDir: join(dir, 'journal'), scratchRoot: dir, killGraceMs: 500, ...o });
  platform = s.platform;
  return s;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const groups = (runName: string) => readdirSync(CG).filter((h) => existsSync(join(CG, h, runName)));

describe.skipIf(!!skipReason)('HostPlatform on real cgroup v1', () => {
  it('quota caps CPU, the freezer stops it, and both come off again', async () => {
    const s = await start({ tasks: [{ id: 'spin', class: 'second', workload: { kind: 'stressor', stressor: 'cpu', implementation: 'builtin' } }] });
    const p = s.platform;
    const cpuOver = async (ms: number) => {
      const a = p.observe();
      await sleep(ms);
      const b = p.observe();
      return (b.tasks[0].cpuTimeNs - a.tasks[0].cpuTimeNs) / (b.timeNs - a.timeNs);
    };
    await sleep(150);
    expect(p.apply([{ kind: 'setCores', task: 'spin', cores: [p.capabilities().coreIds[0]] }, { kind: 'throttle', task: 'spin', cpuPct: 10 }]).refused).toEqual([]);
    const throttled = await cpuOver(400);
    // 10% of one core, plus one 20 ms CFS period of slack over the window.
    expect(throttled).toBeLessThan(0.1 + 0.02 / 0.4 + 0.03);
    expect(readFileSync(join(CG, 'cpu', s.runName, 'spin', 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('2000');
    expect(p.apply([{ kind: 'pause', task: 'spin' }]).refused).toEqual([]);
    await sleep(100);
    const frozen = await cpuOver(300);
    expect(frozen).toBeLessThan(0.005);
    const snap = p.observe();
    expect(snap.tasks[0].state).toBe('paused');
    expect(snap.tasks[0].progressPerSec).toBe(0);
    expect(p.apply([{ kind: 'resume', task: 'spin' }, { kind: 'throttle', task: 'spin', cpuPct: 100 }]).refused).toEqual([]);
    await sleep(100);
    const free = await cpuOver(300);
    expect(free).toBeGreaterThan(throttled);
    expect(p.observe().tasks[0].state).toBe('running');
    const pid = p.tasks()[0].proc.pid;
    const report = await p.close();
    platform = null;
    expect(report.failures).toEqual([]);
    expect(isAlive('/proc', pid)).toBe(false);
    expect(groups(s.runName)).toEqual([]);
  });

  it('sets a hard memory limit when a task asks for one, in a memory group of its own', async () => {
    const s = await start({ tasks: [{ id: 'nap', class: 'second', memoryLimitBytes: 256 << 20, workload: { kind: 'command', argv: ['sleep', '30'] } }] });
    expect(readFileSync(join(CG, 'memory', s.runName, 'nap', 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(256 << 20));
    const pid = s.platform.tasks()[0].proc.pid;
    expect(readFileSync(join(CG, 'memory', s.runName, 'nap', 'cgroup.procs'), 'utf8').trim()).toBe(String(pid));
    const snap = s.platform.observe();
    expect(snap.tasks[0].rssBytes).toBeGreaterThanOrEqual(0);
    await s.platform.close();
    platform = null;
    expect(groups(s.runName)).toEqual([]);
  });

  it.skipIf(!nativeAddon())('without cgroups, cores are set with sched_setaffinity and cgroup-only actions are refused with the reason', async () => {
    const s = await start({ cgroup: 'none', tasks: [{ id: 'nap', class: 'second', workload: { kind: 'command', argv: ['sleep', '30'] } }] });
    const p = s.platform;
    const core = p.capabilities().coreIds.at(-1) as number;
    const r = p.apply([
      { kind: 'setCores', task: 'nap', cores: [core] },
      { kind: 'throttle', task: 'nap', cpuPct: 50 },
      { kind: 'pause', task: 'nap' },
    ]);
    expect(r.applied.map((a) => a.kind)).toEqual(['setCores']);
    expect(r.refused.map((x) => x.reason)).toEqual([expect.stringMatching(/^throttle: cgroups disabled/), expect.stringMatching(/^pause\/resume: cgroups disabled/)]);
    const pid = p.tasks()[0].proc.pid;
    expect(/^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]).toBe(String(core));
    expect(p.capabilities()).toMatchObject({ freezer: false, throttle: false, migrate: true });
    expect(p.capabilities().skipped.map((x) => x.what)).toContain('cgroups');
    await p.close();
    platform = null;
    expect(isAlive('/proc', pid)).toBe(false);
  });

  it.skipIf(!nativeAddon())('perf task-clock counts every thread of a multi-threaded task, as the cgroup does', async () => {
    // Two worker threads spin; perf counters opened per thread (inherit) must
    // add up to what the cgroup's cpuacct counts over the same interval.
    const s = await start({
      tasks: [{ id: 'spin2', class: 'second', workload: { kind: 'stressor', stressor: 'cpu', workers: 2, implementation: 'builtin' } }],
      slowStatsPeriodNs: 100_000_000,
    });
    const p = s.platform;
    const usage = () => Number(readFileSync(join(CG, 'cpuacct', s.runName, 'spin2', 'cpuacct.usage'), 'utf8'));
    await sleep(300); // the workers are up
    const a = p.observe().tasks[0].cpuTimeNs;
    const ua = usage();
    for (let i = 0; i < 8; i++) {
      await sleep(100);
      p.observe();
    }
    const b = p.observe().tasks[0].cpuTimeNs;
    const ub = usage();
    expect(p.cpuSources()).toEqual({ spin2: 'perf' });
    expect(p.cpuSourceNotes).toEqual([]);
    // the workers ran: at least 0.3 s of CPU in 0.9 s
    expect(ub - ua).toBeGreaterThan(300e6);
    // cpuacct sees a running thread's time at the scheduler tick: allow a tick per thread at each end
    expect(Math.abs(b - a - (ub - ua))).toBeLessThan(0.03 * (ub - ua) + 20e6);
  });

  it("a task group's member list is read fresh: a process that joins later is listed", async () => {
    // (a v1 cgroup.procs kept open re-serves the list of its first read)
    const s = await start({ tasks: [{ id: 'nap', class: 'second', workload: { kind: 'command', argv: ['sleep', '30'] } }] });
    const cg = s.platform.tasks()[0].cgroup!;
    const first = cg.pids();
    expect(first).toEqual([s.platform.tasks()[0].proc.pid]);
    const extra = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      cg.attach(extra.pid as number);
      for (let i = 0; i < 3; i++) {
        expect(cg.pids().sort((a, b) => a - b)).toEqual([...first, extra.pid as number].sort((a, b) => a - b));
        await sleep(50);
      }
    } finally {
      extra.kill('SIGKILL');
    }
  });

  it("without a memory group, RSS is the sum of the task's processes' resident sets (statm, kept open)", async () => {
    const s = await start({
      tasks: [{ id: 'mem', class: 'second', workload: { kind: 'stressor', stressor: 'stream', bytes: 64 << 20, implementation: 'builtin' } }],
      slowStatsPeriodNs: 50_000_000,
    });
    const p = s.platform;
    const vmRssBytes = () =>
      p.tasks()[0].cgroup!.pids().reduce((sum, pid) => sum + Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024, 0);
    p.observe();
    let rss = 0;
    for (let i = 0; i < 10 && rss < 64 << 20; i++) {
      await sleep(100);
      rss = p.observe().tasks[0].rssBytes ?? 0;
    }
    const want = vmRssBytes();
    // the stream stressor touches its 64 MiB buffer (two halves copied)
    expect(rss).toBeGreaterThan(48 << 20);
    expect(Math.abs(rss - want) / want).toBeLessThan(0.1);
  });

  it('a start that fails half-way undoes what it had done', async () => {
    dir = mkdtempSync(join(tmpdir(), 'umbra-host-real-'));
    const journalDir = join(dir, 'journal');
    await expect(
      startHostPlatform({
        journalDir,
        scratchRoot: dir,
        killGraceMs: 500,
        runId: `fail-${process.pid}`,
        tasks: [
          { id: 'ok', class: 'second', workload: { kind: 'command', argv: ['sleep', '30'] } },
          { id: 'bad', class: 'second', workload: { kind: 'command', argv: ['/nonexistent/umbra-no-such-binary'] } },
        ],
      }),
    ).rejects.toThrow(/cannot start \/nonexistent\/umbra-no-such-binary/);
    expect(groups(`umbra-fail-${process.pid}`)).toEqual([]);
    expect(readdirSync(journalDir)).toEqual([]);
    expect(existsSync(join(dir, `umbra-fail-${process.pid}`))).toBe(false);
  });

  it('rejects bad task specs before touching anything', async () => {
    dir = mkdtempSync(join(tmpdir(), 'umbra-host-real-'));
    const base = { journalDir: join(dir, 'journal'), scratchRoot: dir };
    const nap = { class: 'second' as const, workload: { kind: 'command' as const, argv: ['sleep', '1'] } };
    await expect(startHostPlatform({ ...base, tasks: [{ id: 'a', ...nap }, { id: 'a', ...nap }] })).rejects.toThrow(/duplicate task id "a"/);
    await expect(startHostPlatform({ ...base, tasks: [{ id: '../etc', ...nap }] })).rejects.toThrow(/invalid cgroup name/);
    expect(existsSync(join(dir, 'journal'))).toBe(false);
  });
});
