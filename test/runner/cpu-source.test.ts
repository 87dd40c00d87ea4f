// Where a task's per-tick CPU time comes from on a real host: perf task-clock
// counters when the addon can open them (cheapest to read every tick),
// checked every slow-stats round against the task's cgroup CPU counter, and
// the cgroup counter for good once perf falls short. On a fake cgroup v2 tree
// the test plays the cgroup's side by writing cpu.stat.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHostPlatform } from '../../runner/host-setup.js';
import type { HostPlatform } from '../../runner/host-platform.js';
import { nativeAddon } from '../../native/addon.js';
import { onFakeTrees, makeFakeCgroupV2, makeFakeProcSelf, makeFakeSysfs, makeLayout } from './helpers/fake-kernel.js';

let dir = '';
let platform: HostPlatform | null = null;
afterEach(async () => {
  await platform?.close();
  platform = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

async function startOnFakeV2(o: { native?: boolean } = {}) {
  dir = mkdtempSync(join(tmpdir(), 'umbra-cpu-source-'));
  const l = makeLayout(join(dir, 'host'));
  makeFakeSysfs(l, { cpus: 2 });
  makeFakeProcSelf(l, '0-1');
  makeFakeCgroupV2(l);
  const s = await startHostPlatform({
    tasks: [{ id: 'nap', class: 'second', workload: { kind: 'command', argv: ['sleep', '30'] } }],
    ...onFakeTrees(dir, l),
    coreIds: [0, 1],
    // every observe is a slow-stats round, so every observe cross-checks
    slowStatsPeriodNs: 1,
    native: o.native,
  });
  platform = s.platform;
  const counter = s.platform.tasks()[0].cgroup?.cpuUsageCounter();
  if (!counter) throw new Error('the fake v2 group has no cpu.stat');
  const setCgroupUsageMs = (ms: number) => writeFileSync(counter.path, `usage_usec ${ms * 1000}\nuser_usec 0\nsystem_usec 0\n`);
  return { platform: s.platform, setCgroupUsageMs };
}

const cpuOf = (p: HostPlatform) => p.observe().tasks[0].cpuTimeNs;

describe('per-tick CPU source', () => {
  it.skipIf(!nativeAddon())('reads perf while it agrees with the cgroup, switches for good when it falls short, and does not jump', async () => {
    const { platform: p, setCgroupUsageMs } = await startOnFakeV2();
    expect(p.cpuSources()).toEqual({ nap: 'perf' });
    // A sleeping task: perf counts next to nothing and so does the cgroup.
    for (let i = 0; i < 3; i++) cpuOf(p);
    expect(p.cpuSources()).toEqual({ nap: 'perf' });
    expect(p.cpuSourceNotes).toEqual([]);
    const before = cpuOf(p);
    // The cgroup counts 400 ms that perf never saw (a thread it missed).
    setCgroupUsageMs(400);
    const atSwitch = cpuOf(p);
    expect(p.cpuSources()).toEqual({ nap: 'cgroup' });
    expect(p.cpuSourceNotes).toHaveLength(1);
    expect(p.cpuSourceNotes[0]).toMatch(/^nap: perf task-clock counted [\d.]+ ms of CPU where the cgroup counted 400\.0 ms; reading the cgroup counter from now on$/);
    // No jump: the missed 400 ms are not dumped into one window.
    expect(atSwitch - before).toBeLessThan(5e6);
    // From now on the cgroup's increments are the task's CPU time.
    setCgroupUsageMs(500);
    const after = cpuOf(p);
    expect(after - atSwitch).toBeGreaterThanOrEqual(100e6 - 1);
    expect(after - atSwitch).toBeLessThan(100e6 + 5e6);
    // Monotone and never switching back.
    setCgroupUsageMs(500);
    expect(cpuOf(p)).toBe(after);
    expect(p.cpuSources()).toEqual({ nap: 'cgroup' });
    expect(p.cpuSourceNotes).toHaveLength(1);
  });

  it.skipIf(!nativeAddon())('switches to the cgroup counter when perf stops reading', async () => {
    const { platform: p, setCgroupUsageMs } = await startOnFakeV2();
    cpuOf(p);
    p.rt.perf.close();
    setCgroupUsageMs(50);
    cpuOf(p);
    expect(p.cpuSources()).toEqual({ nap: 'cgroup' });
    expect(p.cpuSourceNotes).toEqual(['nap: perf task-clock stopped reading; reading the cgroup counter from now on']);
    const a = cpuOf(p);
    setCgroupUsageMs(80);
    expect(cpuOf(p) - a).toBe(30e6);
  });

  it('without the native addon the cgroup counter is the source from the start', async () => {
    const { platform: p, setCgroupUsageMs } = await startOnFakeV2({ native: false });
    expect(p.cpuSources()).toEqual({ nap: 'cgroup' });
    const a = cpuOf(p);
    setCgroupUsageMs(70);
    expect(cpuOf(p) - a).toBe(70e6);
    expect(p.cpuSourceNotes).toEqual([]);
  });
});
