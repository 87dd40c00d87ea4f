// A short real co-location on this host: redis-server under the open-loop
// load generator (first-class) next to a cache stressor (stress-ng, or the
// built-in microbenchmark when stress-ng is absent), driven by a scripted
// policy that issues real actions. Asserts that latency was measured, actions
// took effect (or were refused with the host's reason), and nothing was left.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHostPlatform } from '../../runner/host-setup.js';
import type { HostPlatform } from '../../runner/host-platform.js';
import { findExecutable } from '../../runner/process/find-executable.js';
import { isAlive, processTree } from '../../runner/process/procfs.js';
import { StepPolicy } from './helpers/step-policy.js';
import { runLoop } from './helpers/control-loop.js';

const CG = '/sys/fs/cgroup';
const root = typeof process.geteuid === 'function' && process.geteuid() === 0;
const cgroups = existsSync(join(CG, 'freezer', 'cgroup.procs')) || existsSync(join(CG, 'cgroup.controllers'));
const redis = findExecutable('redis-server');
const skipReason = !root
  ? 'needs root (it creates cgroups)'
  : !cgroups
    ? 'needs a cgroup freezer (v1 freezer hierarchy or cgroup2)'
    : !redis
      ? 'redis-server is not installed (apt-get install redis-server)'
      : '';
if (skipReason) console.warn(`integration test skipped: ${skipReason}`);

let platform: HostPlatform | null = null;
let dir = '';
afterEach(async () => {
  await platform?.close();
  platform = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!!skipReason)('real co-location: redis-server + stressor', () => {
  it('measures latency, applies real actions, and leaves nothing behind', async () => {
    dir = mkdtempSync(join(tmpdir(), 'umbra-integration-'));
    const journalDir = join(dir, 'journal');
    const started = await startHostPlatform({
      journalDir,
      scratchRoot: dir,
      seed: 42,
      killGraceMs: 1000,
      tasks: [
        { id: 'lc', class: 'first', sloP99Ns: 5e6, workload: { kind: 'redis', arrivals: { kind: 'poisson', ratePerSec: 1500 }, keySpace: 2000 } },
        { id: 'be', class: 'second', workload: { kind: 'stressor', stressor: 'cache', workers: 1 } },
      ],
    });
    platform = started.platform;
    // Let the stressor get going (its workers start a little after it) before the script runs.
    for (let i = 0; i < 100 && platform.observe().tasks.find((t) => t.id === 'be')!.cpuTimeNs < 20e6; i++) await new Promise((r) => setTimeout(r, 50));
    const caps = platform.capabilities();
    const [c0, c1] = [caps.coreIds[0], caps.coreIds[caps.coreIds.length - 1]];
    const policy = new StepPolicy([
      {
        tick: 3,
        actions: () => [
          { kind: 'setCores', task: 'lc', cores: [c0], reason: 'isolate the service' },
          { kind: 'setCores', task: 'be', cores: [c1] },
          { kind: 'throttle', task: 'be', cpuPct: 40 },
        ],
      },
      { tick: 10, actions: () => [{ kind: 'pause', task: 'be' }] },
      { tick: 25, actions: () => [{ kind: 'resume', task: 'be' }] },
      {
        tick: 27,
        actions: () => [
          { kind: 'setIoWeight', task: 'be', weight: 50 },
          { kind: 'warm', task: 'lc', resource: 'cacheWays', budgetNs: 5e6 },
          { kind: 'echo', task: 'be', durationNs: 20e6 },
        ],
      },
      { tick: 35, actions: () => [{ kind: 'throttle', task: 'be', cpuPct: 100 }] },
    ]);
    const periodNs = 20e6;
    const snaps = await runLoop(platform, policy, 45, periodNs);

    // Latency of the first-class service was measured in every window.
    const lc = snaps.slice(1).map((s) => s.tasks.find((t) => t.id === 'lc')!);
    const requests = lc.reduce((n, t) => n + (t.latency?.requests ?? 0), 0);
    expect(requests).toBeGreaterThan(500);
    expect(lc.every((t) => t.latency && t.latency.sloP99Ns === 5e6)).toBe(true);
    expect(Math.max(...lc.map((t) => t.latency!.p99Ns))).toBeGreaterThan(0);
    const offered = lc.reduce((n, t) => n + t.latency!.offeredRps, 0) / lc.length;
    expect(offered).toBeGreaterThan(1500 * 0.6);
    expect(offered).toBeLessThan(1500 * 1.4);

    // What was applied and what was refused.
    const applied = policy.results.flatMap((r) => r.result.applied.map((a) => a.kind));
    expect(applied).toEqual(expect.arrayContaining(['setCores', 'throttle', 'pause', 'resume', 'warm', 'echo']));
    const io = policy.results.flatMap((r) => [...r.result.applied, ...r.result.refused.map((x) => x.action)]).filter((a) => a.kind === 'setIoWeight');
    expect(io).toHaveLength(1);
    const ioRefusal = policy.results.flatMap((r) => r.result.refused).find((x) => x.action.kind === 'setIoWeight');
    if (caps.ioWeight === null) expect(ioRefusal?.reason).toMatch(/no effect|not enabled|not offer|not mounted/);
    else expect(ioRefusal).toBeUndefined();
    expect(policy.results.flatMap((r) => r.result.refused).filter((x) => x.action.kind !== 'setIoWeight')).toEqual([]);

    // Pause took effect: the stressor used no CPU while frozen (windows strictly inside the pause).
    const be = snaps.map((s) => s.tasks.find((t) => t.id === 'be')!);
    for (const t of be.slice(13, 25)) {
      expect(t.state).toBe('paused');
      expect(t.cpuCores).toBeLessThan(0.05);
    }
    // It ran before the pause and after the resume.
    const ran = (from: number, to: number) => (be[to].cpuTimeNs - be[from].cpuTimeNs) / (snaps[to].timeNs - snaps[from].timeNs);
    expect(ran(4, 10)).toBeGreaterThan(0.02);
    expect(ran(36, 44)).toBeGreaterThan(0.02);
    // Throttled to 40% of one core: at most that (plus one CFS period of slack) between ticks 4 and 10.
    expect(ran(4, 10)).toBeLessThan(0.4 + periodNs / (snaps[10].timeNs - snaps[4].timeNs) + 0.1);
    // The echo burst reported back.
    const echoes = snaps.flatMap((s) => s.echoes);
    expect(echoes.map((e) => e.task)).toEqual(['be']);
    expect(echoes[0].durationNs).toBeGreaterThanOrEqual(20e6);
    expect(echoes[0].measured.cpu).toBeGreaterThanOrEqual(0);

    // Cores took effect on the processes themselves.
    const tasks = platform.tasks();
    const bePid = tasks.find((t) => t.spec.id === 'be')!.proc.pid;
    const lcPid = tasks.find((t) => t.spec.id === 'lc')!.proc.pid;
    const allowed = (pid: number) => /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    expect(allowed(bePid)).toBe(String(c1));
    expect(allowed(lcPid)).toBe(String(c0));

    // Nothing left behind: processes (with the stressor's workers), groups, journal, scratch dir.
    const pids = [...processTree('/proc', bePid), ...processTree('/proc', lcPid)];
    expect(pids.length).toBeGreaterThanOrEqual(2);
    const report = await platform.close();
    platform = null;
    expect(report.failures).toEqual([]);
    for (const p of pids) expect(isAlive('/proc', p)).toBe(false);
    const leftovers = readdirSync(CG).filter((h) => existsSync(join(CG, h, started.runName)));
    expect(leftovers).toEqual([]);
    expect(existsSync(started.journalPath)).toBe(false);
    expect(existsSync(join(dir, started.runName))).toBe(false);
  });
});
