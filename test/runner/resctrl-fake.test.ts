// resctrl (CAT, MBA, CMT, MBM) against a fake /sys/fs/resctrl, and the
// HostPlatform driving it together with a fake cgroup v2 tree: what the host
// could do is applied to the right files, what it could not is refused with a
// reason, and closing leaves the trees as they were.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catMaskProblem, isContiguous, popcount } from '../../runner/resctrl/cat-mask.js';
import { probeResctrl } from '../../runner/resctrl/resctrl-info.js';
import { ResctrlGroups } from '../../runner/resctrl/resctrl-groups.js';
import { Journal } from '../../runner/journal/journal.js';
import { JournaledHost } from '../../runner/journal/journaled-host.js';
import { startHostPlatform } from '../../runner/host-setup.js';
import type { HostPlatform } from '../../runner/host-platform.js';
import { isAlive } from '../../runner/process/procfs.js';
import {
  FakeKernelFs, makeFakeCgroupV2, makeFakeProcSelf, makeFakeResctrl, makeFakeSysfs, makeLayout, snapshotTree, type FakeLayout,
} from './helpers/fake-kernel.js';

let dir: string;
let l: FakeLayout;
let fs: FakeKernelFs;
let platform: HostPlatform | null = null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'umbra-resctrl-test-'));
  l = makeLayout(join(dir, 'host'));
  fs = new FakeKernelFs(l);
});
afterEach(async () => {
  await platform?.close();
  platform = null;
  rmSync(dir, { recursive: true, force: true });
});

describe('CAT masks', () => {
  it('isContiguous agrees with a brute-force definition', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 20 - 1 }), (m) => {
        const bits = m.toString(2);
        const brute = /^1+0*$/.test(bits);
        expect(isContiguous(m)).toBe(brute);
      }),
    );
  });

  it('accepts exactly the contiguous masks within the ways and with enough bits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 14 }), fc.integer({ min: 4, max: 12 }), fc.integer({ min: 1, max: 3 }), (m, ways, min) => {
        const ok = m > 0 && m < 2 ** ways && isContiguous(m) && popcount(m) >= min;
        expect(catMaskProblem(m, { totalWays: ways, minWays: min, sparseAllowed: false }) === null).toBe(ok);
      }),
    );
  });
});

describe('resctrl groups (fake tree)', () => {
  it('reads CAT/MBA/monitoring info and writes validated schemata per domain', () => {
    makeFakeResctrl(l, { cbmMask: 'ff', minCbmBits: 2, numClosids: 3, domains: [0, 1] });
    const info = probeResctrl(fs, l.resctrlRoot);
    expect(info.cat).toMatchObject({ totalWays: 8, minWays: 2, numClosids: 3, domains: [0, 1] });
    expect(info.mba).toMatchObject({ granularityPct: 10, minPct: 10, maxValue: 100 });
    expect(info.mon?.features).toEqual(['llc_occupancy', 'mbm_total_bytes', 'mbm_local_bytes']);
    const before = snapshotTree(l.resctrlRoot);
    const journal = Journal.create(join(dir, 'j'), 'rc');
    const groups = new ResctrlGroups(fs, info, new JournaledHost(journal, fs, '/proc'), 'umbra-rc');
    groups.monitor('lc', []);
    expect(existsSync(join(l.resctrlRoot, 'mon_groups', 'umbra-rc-lc'))).toBe(true);
    groups.setCacheMask('lc', 0xf0, []);
    // Taking a control group replaces the monitoring group.
    expect(existsSync(join(l.resctrlRoot, 'mon_groups', 'umbra-rc-lc'))).toBe(false);
    expect(readFileSync(join(l.resctrlRoot, 'umbra-rc-lc', 'schemata'), 'utf8')).toMatch(/^L3:0=f0;1=f0$/m);
    groups.setMemBandwidthPct('lc', 40, []);
    expect(readFileSync(join(l.resctrlRoot, 'umbra-rc-lc', 'schemata'), 'utf8')).toMatch(/^MB:0=40;1=40$/m);
    expect(() => groups.setCacheMask('lc', 0b1011, [])).toThrow(/not contiguous/);
    expect(() => groups.setCacheMask('lc', 0b1, [])).toThrow(/fewer than the minimum 2/);
    expect(() => groups.setCacheMask('lc', 0x300, [])).toThrow(/beyond the 8/);
    expect(() => groups.setMemBandwidthPct('lc', 45, [])).toThrow(/multiple of the MBA granularity 10%/);
    expect(() => groups.setMemBandwidthPct('lc', 5, [])).toThrow(/below the MBA minimum/);
    groups.setCacheMask('be', 0x3, []);
    // 3 CLOSIDs: the default group holds one, this run used the other two.
    expect(() => groups.setCacheMask('be2', 0x3, [])).toThrow(/no free resctrl CLOSID/);
    // Monitoring sums the cache domains.
    const mon = join(l.resctrlRoot, 'umbra-rc-lc', 'mon_data');
    writeFileSync(join(mon, 'mon_L3_00', 'llc_occupancy'), '1000\n');
    writeFileSync(join(mon, 'mon_L3_01', 'llc_occupancy'), '2500\n');
    writeFileSync(join(mon, 'mon_L3_01', 'mbm_total_bytes'), '77\n');
    expect(groups.read('lc')).toEqual({ llcOccupancyBytes: 3500, mbmTotalBytes: 77, mbmLocalBytes: 0 });
    expect(journal.restore({ fs, procRoot: '/proc' }).failures).toEqual([]);
    expect(snapshotTree(l.resctrlRoot)).toEqual(before);
  });

  it('says why when resctrl is missing or only partly there', () => {
    expect(probeResctrl(fs, l.resctrlRoot)).toMatchObject({ mounted: false, reason: expect.stringMatching(/does not exist/) });
    makeFakeResctrl(l, { mba: null, monFeatures: null });
    const info = probeResctrl(fs, l.resctrlRoot);
    expect(info.mounted).toBe(true);
    expect(info.mba).toBeNull();
    expect(info.mbaReason).toMatch(/no info\/MB/);
    expect(info.mon).toBeNull();
    expect(info.monReason).toMatch(/CMT\/MBM/);
  });
});

describe('HostPlatform on fake resctrl + cgroup v2 trees', () => {
  it('applies CAT, MBA, cores, quota, freezer and IO weight to the fake files, observes CMT/MBM, and restores both trees', async () => {
    makeFakeSysfs(l, { cpus: 4, blockDevices: { sda: 'mq-deadline [bfq]' } });
    makeFakeProcSelf(l, '0-3');
    makeFakeCgroupV2(l);
    makeFakeResctrl(l, { cbmMask: 'fff', minCbmBits: 2, numClosids: 8 });
    const beforeCg = snapshotTree(l.cgroupRoot);
    const beforeRc = snapshotTree(l.resctrlRoot);
    const started = await startHostPlatform({
      tasks: [
        { id: 'lc', class: 'first', workload: { kind: 'command', argv: ['sleep', '30'] } },
        { id: 'be', class: 'second', workload: { kind: 'command', argv: ['sleep', '30'] } },
      ],
      fs,
      paths: { sysRoot: l.sysRoot, cgroupRoot: l.cgroupRoot, resctrlRoot: l.resctrlRoot, procRoot: '/proc' },
      journalDir: join(dir, 'journal'),
      scratchRoot: dir,
      killGraceMs: 500,
      coreIds: [0, 1, 2, 3],
      // Monitoring is refreshed per task at this period (default 1 s).
      slowStatsPeriodNs: 50e6,
    });
    platform = started.platform;
    const caps = platform.capabilities();
    expect(caps.cacheWays).toEqual({ totalWays: 12, minWaysPerMask: 2, wayBytes: Math.round((16384 * 1024) / 12) });
    expect(caps.memBandwidth).toMatchObject({ minPct: 10, stepPct: 10 });
    expect(caps.ioWeight).toEqual({ min: 1, max: 10000, default: 100 });
    expect(caps.counters.llcOccupancy).toBe(true);
    expect(caps.counters.memBandwidth).toBe(true);
    const run = join(l.cgroupRoot, 'unified', started.runName);
    const res = platform.apply([
      { kind: 'setCacheWays', task: 'lc', mask: 0xff0 },
      { kind: 'setCacheWays', task: 'be', mask: 0x00f },
      { kind: 'setCacheWays', task: 'be', mask: 0x005 },
      { kind: 'setMemBandwidth', task: 'be', pct: 30 },
      { kind: 'setCores', task: 'be', cores: [3] },
      { kind: 'throttle', task: 'be', cpuPct: 50 },
      { kind: 'pause', task: 'be' },
      { kind: 'setIoWeight', task: 'be', weight: 50 },
      { kind: 'setBankColours', task: 'be', colours: [1] },
      { kind: 'setCores', task: 'nope', cores: [0] },
      { kind: 'setCores', task: 'lc', cores: [7] },
    ]);
    expect(res.applied.map((a) => a.kind)).toEqual(['setCacheWays', 'setCacheWays', 'setMemBandwidth', 'setCores', 'throttle', 'pause', 'setIoWeight']);
    expect(res.refused.map((r) => r.reason)).toEqual([
      expect.stringMatching(/not contiguous/),
      expect.stringMatching(/page colouring/),
      expect.stringMatching(/unknown task "nope"/),
      expect.stringMatching(/core\(s\) 7 are not available/),
    ]);
    expect(readFileSync(join(l.resctrlRoot, `${started.runName}-lc`, 'schemata'), 'utf8')).toMatch(/^L3:0=ff0;1=ff0$/m);
    expect(readFileSync(join(l.resctrlRoot, `${started.runName}-be`, 'schemata'), 'utf8')).toMatch(/^MB:0=30;1=30$/m);
    expect(readFileSync(join(run, 'be', 'cpuset.cpus'), 'utf8').trim()).toBe('3');
    expect(readFileSync(join(run, 'be', 'cpu.max'), 'utf8').trim()).toBe('10000 20000');
    expect(readFileSync(join(run, 'be', 'cgroup.freeze'), 'utf8').trim()).toBe('1');
    expect(readFileSync(join(run, 'be', 'io.weight'), 'utf8').trim()).toBe('default 50');
    // The task's thread was put in its resctrl group.
    const bePid = platform.tasks().find((t) => t.spec.id === 'be')?.proc.pid as number;
    expect(readFileSync(join(l.resctrlRoot, `${started.runName}-be`, 'tasks'), 'utf8')).toContain(String(bePid));

    const mon = join(l.resctrlRoot, `${started.runName}-lc`, 'mon_data', 'mon_L3_00');
    writeFileSync(join(mon, 'llc_occupancy'), '4096\n');
    writeFileSync(join(mon, 'mbm_total_bytes'), '1000000\n');
    const s1 = platform.observe();
    await platform.advance(platform.now() + 120e6);
    writeFileSync(join(mon, 'mbm_total_bytes'), '2000000\n');
    const s2 = platform.observe();
    const lc1 = s1.tasks.find((t) => t.id === 'lc');
    const lc2 = s2.tasks.find((t) => t.id === 'lc');
    const be2 = s2.tasks.find((t) => t.id === 'be');
    expect(lc1?.llcOccupancyBytes).toBe(4096);
    // 1 MB more over ~120 ms.
    expect(lc2?.memBandwidthBytesPerSec).toBeGreaterThan(1e6 / 0.5);
    expect(lc2?.memBandwidthBytesPerSec).toBeLessThan(1e6 / 0.1);
    expect(be2?.state).toBe('paused');
    expect(be2?.allocation).toMatchObject({ cores: [3], cacheWayMask: 0xf, memBandwidthPct: 30, cpuQuotaPct: 50, ioWeight: 50, paused: true });
    expect(s2.free.cores).toEqual([]);

    const report = await platform.close();
    platform = null;
    expect(report.failures).toEqual([]);
    expect(report.thawed).toContain(join(run, 'be', 'cgroup.freeze'));
    expect(isAlive('/proc', bePid)).toBe(false);
    const afterCg = snapshotTree(l.cgroupRoot);
    delete afterCg['unified/cgroup.procs'];
    delete beforeCg['unified/cgroup.procs'];
    expect(afterCg).toEqual(beforeCg);
    const afterRc = snapshotTree(l.resctrlRoot);
    delete afterRc['tasks'];
    delete beforeRc['tasks'];
    expect(afterRc).toEqual(beforeRc);
    expect(existsSync(join(dir, started.runName))).toBe(false);
  });
});
