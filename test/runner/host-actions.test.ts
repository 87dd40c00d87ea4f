// HostPlatform's bookkeeping of reservations and its refusals, on fake
// cgroup v2 + resctrl trees (no root needed): impossible actions are refused
// with a reason and never half-applied; the free pool is what no task holds.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHostPlatform } from '../../runner/host-setup.js';
import type { HostPlatform } from '../../runner/host-platform.js';
import type { Action } from '../../policies/platform.js';
import { onFakeTrees, makeFakeCgroupV2, makeFakeProcSelf, makeFakeResctrl, makeFakeSysfs, makeLayout } from './helpers/fake-kernel.js';

let dir: string;
let platform: HostPlatform;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'umbra-actions-test-'));
  const l = makeLayout(join(dir, 'host'));
  makeFakeSysfs(l, { cpus: 4 });
  makeFakeProcSelf(l, '0-3');
  makeFakeCgroupV2(l);
  makeFakeResctrl(l, { cbmMask: 'ff', minCbmBits: 1, numClosids: 8 });
  const nap = { class: 'second' as const, workload: { kind: 'command' as const, argv: ['sleep', '30'] } };
  const s = await startHostPlatform({
    tasks: [{ id: 'lc', ...nap, class: 'first', cores: [0, 1] }, { id: 'be', ...nap, cores: [2] }],
    ...onFakeTrees(dir, l),
    coreIds: [0, 1, 2, 3],
    maxEchoNs: 50e6,
  });
  platform = s.platform;
});
afterEach(async () => {
  await platform.close();
  rmSync(dir, { recursive: true, force: true });
});

const one = (a: Action) => {
  const r = platform.apply([a]);
  return r.refused.length ? r.refused[0].reason : 'applied';
};

describe('reservations and refusals', () => {
  it('reserves only cores no other task holds, keeps them exclusive, and release ends reservation and allocation', () => {
    expect(platform.observe().free.cores).toEqual([3]);
    expect(one({ kind: 'reserve', task: 'lc', grant: { resource: 'cores', cores: [2] } })).toMatch(/core\(s\) 2 are held by be/);
    expect(one({ kind: 'reserve', task: 'lc', grant: { resource: 'cores', cores: [3] } })).toBe('applied');
    // Reserved is not free, and no other task may take it.
    expect(platform.observe().free.cores).toEqual([]);
    expect(one({ kind: 'setCores', task: 'be', cores: [2, 3] })).toMatch(/reserved by lc/);
    expect(one({ kind: 'migrate', task: 'be', cores: [3] })).toMatch(/reserved by lc/);
    // Activation: the allocation takes the reserved core in; it stays reserved.
    expect(one({ kind: 'setCores', task: 'lc', cores: [0, 1, 3] })).toBe('applied');
    let lc = platform.observe().tasks.find((t) => t.id === 'lc');
    expect(lc?.allocation.cores).toEqual([0, 1, 3]);
    expect(lc?.reserved.cores).toEqual([3]);
    expect(one({ kind: 'release', task: 'lc', grant: { resource: 'cores', cores: [1, 3] } })).toBe('applied');
    lc = platform.observe().tasks.find((t) => t.id === 'lc');
    expect(lc?.allocation.cores).toEqual([0]);
    expect(lc?.reserved.cores).toEqual([]);
    expect(one({ kind: 'release', task: 'lc', grant: { resource: 'cores', cores: [0] } })).toMatch(/leave the task with none/);
    expect(one({ kind: 'release', task: 'lc', grant: { resource: 'cores', cores: [2] } })).toMatch(/does not hold core\(s\) 2/);
    expect(platform.observe().free.cores).toEqual([1, 3]);
  });

  it('cache ways and bandwidth: reservations held by others, or over-committed, are refused', () => {
    // Everyone starts unrestricted (all ways): confine be first, then reserve for lc.
    expect(one({ kind: 'reserve', task: 'lc', grant: { resource: 'cacheWays', mask: 0xf0 } })).toMatch(/held by other tasks/);
    expect(one({ kind: 'setCacheWays', task: 'be', mask: 0x0f })).toBe('applied');
    expect(one({ kind: 'reserve', task: 'lc', grant: { resource: 'cacheWays', mask: 0xf0 } })).toBe('applied');
    expect(one({ kind: 'reserve', task: 'be', grant: { resource: 'cacheWays', mask: 0x30 } })).toMatch(/held by other tasks/);
    expect(one({ kind: 'setCacheWays', task: 'be', mask: 0x18 })).toMatch(/reserved by lc/);
    expect(one({ kind: 'setCacheWays', task: 'be', mask: 0 })).toMatch(/reserved by lc/);
    expect(one({ kind: 'setCacheWays', task: 'lc', mask: 0xf0 })).toBe('applied');
    expect(platform.observe().free.cacheWayMask).toBe(0);
    expect(platform.observe().tasks.find((t) => t.id === 'lc')?.reserved.cacheWayMask).toBe(0xf0);
    expect(one({ kind: 'release', task: 'lc', grant: { resource: 'cacheWays', mask: 0xf0 } })).toMatch(/leave the task with none/);
    expect(one({ kind: 'release', task: 'lc', grant: { resource: 'cacheWays', mask: 0x30 } })).toBe('applied');
    expect(platform.observe().tasks.find((t) => t.id === 'lc')).toMatchObject({ allocation: { cacheWayMask: 0xc0 }, reserved: { cacheWayMask: 0xc0 } });
    expect(one({ kind: 'reserve', task: 'lc', grant: { resource: 'memBandwidthPct', pct: 70 } })).toBe('applied');
    expect(one({ kind: 'reserve', task: 'be', grant: { resource: 'memBandwidthPct', pct: 40 } })).toMatch(/30% is unreserved/);
    expect(one({ kind: 'release', task: 'be', grant: { resource: 'memBandwidthPct', pct: 40 } })).toMatch(/no memory bandwidth is reserved/);
    expect(one({ kind: 'release', task: 'lc', grant: { resource: 'memBandwidthPct', pct: 70 } })).toBe('applied');
    expect(one({ kind: 'reserve', task: 'be', grant: { resource: 'memBandwidthPct', pct: 40 } })).toBe('applied');
    expect(one({ kind: 'reserve', task: 'be', grant: { resource: 'bankColours', colours: [0] } })).toMatch(/page colouring/);
  });

  it('bounds echo and warm, and refuses bad values without applying anything', () => {
    expect(one({ kind: 'echo', task: 'be', durationNs: 60e6 })).toMatch(/\(0, 50000000\]/);
    expect(one({ kind: 'warm', task: 'be', resource: 'cores', budgetNs: 0 })).toMatch(/budgetNs must be > 0/);
    expect(one({ kind: 'throttle', task: 'be', cpuPct: 0 })).toMatch(/\(0, 100\]/);
    expect(one({ kind: 'throttle', task: 'be', cpuPct: 1 })).toMatch(/below the kernel's 1000 µs minimum/);
    expect(one({ kind: 'setIoWeight', task: 'be', weight: 0 })).toMatch(/io weight/);
    expect(one({ kind: 'setMemBandwidth', task: 'be', pct: 15 })).toMatch(/granularity/);
    expect(one({ kind: 'setCores', task: 'be', cores: [] })).toMatch(/at least one core/);
    const be = platform.observe().tasks.find((t) => t.id === 'be');
    expect(be?.allocation).toMatchObject({ cores: [2], cpuQuotaPct: 100, memBandwidthPct: 100, cacheWayMask: 0, paused: false });
  });

  it('an echo of a paused task lets it run for the burst and pauses it again', async () => {
    expect(one({ kind: 'pause', task: 'be' })).toBe('applied');
    expect(one({ kind: 'echo', task: 'be', durationNs: 20e6 })).toBe('applied');
    expect(one({ kind: 'echo', task: 'be', durationNs: 20e6 })).toMatch(/already running/);
    expect(one({ kind: 'resume', task: 'be' })).toMatch(/echo probe of this task is running/);
    await new Promise((r) => setTimeout(r, 80));
    const s = platform.observe();
    expect(s.echoes).toHaveLength(1);
    expect(s.echoes[0]).toMatchObject({ task: 'be', measured: { cpu: expect.any(Number) } });
    expect(s.tasks.find((t) => t.id === 'be')?.state).toBe('paused');
  });
});
