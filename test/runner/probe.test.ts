// `umbra probe`: on fake trees it reports exactly what the tree offers (and
// why not), with write tests through a throw-away group it removes again; on
// this host every capability is an object with `available` and, when false,
// a reason.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeHost, type HostProbeReport } from '../../runner/probe/probe-host.js';
import { main } from '../../experiments/cli/main.js';
import {
  FakeKernelFs, makeFakeCgroupV1, makeFakeCgroupV2, makeFakeProcSelf, makeFakeResctrl, makeFakeSysfs, makeLayout, snapshotTree, type FakeLayout,
} from './helpers/fake-kernel.js';

let dir: string;
let l: FakeLayout;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'umbra-probe-test-'));
  l = makeLayout(join(dir, 'host'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function paths() {
  return { sysRoot: l.sysRoot, procRoot: l.procRoot, cgroupRoot: l.cgroupRoot, resctrlRoot: l.resctrlRoot };
}

/** The law every report obeys: each capability says available, and says why not. */
function expectShape(r: HostProbeReport): void {
  for (const [name, cap] of Object.entries(r)) {
    expect(typeof (cap as { available: unknown }).available, name).toBe('boolean');
    if (!(cap as { available: boolean }).available) expect((cap as { reason?: string }).reason, name).toMatch(/\S/);
  }
  for (const cg of [r.cgroupV1, r.cgroupV2]) {
    for (const [k, s] of Object.entries(cg.knobs)) if (!s.available) expect(s.reason, k).toMatch(/\S/);
  }
}

describe('probe on fake trees', () => {
  it('a host with resctrl, cgroup v2 controllers and bfq: everything available, knobs write-tested, tree unchanged', () => {
    makeFakeSysfs(l, { cpus: 8, blockDevices: { nvme0n1: '[bfq] none' } });
    makeFakeProcSelf(l, '0-7');
    makeFakeCgroupV2(l);
    makeFakeResctrl(l, { cbmMask: '7ff', minCbmBits: 1, numClosids: 16 });
    const fs = new FakeKernelFs(l);
    const before = snapshotTree(l.root);
    const r = probeHost({ paths: paths(), fs, writeTest: true, journalDir: join(dir, 'j'), pathEnv: '/nonexistent' });
    expectShape(r);
    expect(r.resctrl).toMatchObject({ available: true, cat: { available: true, totalWays: 11, minWays: 1, numClosids: 16 }, mba: { available: true }, monitoring: { available: true } });
    expect(r.cgroupV2.available).toBe(true);
    for (const k of ['cpuset', 'cpuQuota', 'freezer', 'ioWeight', 'memory', 'cpuStats'] as const) {
      expect(r.cgroupV2.knobs[k], k).toMatchObject({ available: true, tested: true });
    }
    expect(r.cgroupV1).toMatchObject({ available: false, reason: expect.stringMatching(/no cgroup v1 hierarchy/) });
    expect(r.topology).toMatchObject({ onlineCpus: [0, 1, 2, 3, 4, 5, 6, 7], allowedCpus: [0, 1, 2, 3, 4, 5, 6, 7] });
    expect(r.topology.caches.filter((c) => c.level === 3)).toEqual([{ level: 3, type: 'Unified', sizeBytes: 16 << 20, ways: 16, lineBytes: 64, sharedCpus: [0, 1, 2, 3, 4, 5, 6, 7] }]);
    expect(r.redisServer).toMatchObject({ available: false, reason: expect.stringMatching(/apt-get install redis-server/) });
    expect(r.stressNg).toMatchObject({ available: false, reason: expect.stringMatching(/apt-get install stress-ng/) });
    // The throw-away groups were removed again, and their journal with them.
    expect(snapshotTree(l.root)).toEqual(before);
    expect(snapshotTree(join(dir, 'j'))).toEqual({});
  });

  it('a host like this one (v1 only, mq-deadline, no resctrl): says why for each "no"', () => {
    makeFakeSysfs(l, { cpus: 2, blockDevices: { vda: 'none [mq-deadline] kyber bfq', loop0: '[none] mq-deadline' } });
    makeFakeProcSelf(l, '0-1');
    makeFakeCgroupV1(l);
    makeFakeCgroupV2(l, ['hugetlb'], []);
    const fs = new FakeKernelFs(l);
    const r = probeHost({ paths: paths(), fs, writeTest: true, journalDir: join(dir, 'j') });
    expectShape(r);
    expect(r.resctrl).toMatchObject({ available: false, reason: expect.stringMatching(/does not exist/) });
    expect(r.cgroupV1.knobs.ioWeight).toMatchObject({ available: false, reason: expect.stringMatching(/no effect.*vda: mq-deadline/) });
    expect(r.cgroupV1.knobs.cpuset).toMatchObject({ available: true, tested: true });
    expect(r.cgroupV1.knobs.freezer).toMatchObject({ available: true, tested: true });
    expect(r.cgroupV2.knobs.cpuQuota).toMatchObject({ available: false, reason: expect.stringMatching(/does not offer the cpu controller.*hugetlb/) });
    expect(r.blockDevices.devices).toEqual([{ name: 'vda', scheduler: 'mq-deadline' }]);
  });

  it('without write tests, knobs are reported from the files and marked untested', () => {
    makeFakeSysfs(l);
    makeFakeCgroupV1(l, ['cpu']);
    const r = probeHost({ paths: paths(), fs: new FakeKernelFs(l), writeTest: false, journalDir: join(dir, 'j') });
    expect(r.cgroupV1.knobs.cpuQuota).toMatchObject({ available: true, tested: false, reason: expect.stringMatching(/not write-tested/) });
    expect(r.cgroupV1.knobs.freezer).toMatchObject({ available: false, reason: expect.stringMatching(/freezer hierarchy is not mounted/) });
  });

  it('without the native addon, perf, affinity and process_madvise say the addon is needed', () => {
    makeFakeSysfs(l);
    const r = probeHost({ paths: paths(), fs: new FakeKernelFs(l), native: false, writeTest: false, journalDir: join(dir, 'j') });
    expectShape(r);
    expect(r.nativeAddon).toMatchObject({ available: false, reason: 'disabled by option' });
    expect(r.perfSoftware.events.taskClock.reason).toMatch(/native addon is not loaded/);
    expect(r.schedSetaffinity.reason).toMatch(/native addon/);
    expect(r.processMadvise.reason).toMatch(/native addon/);
  });
});

describe('probe on this host', () => {
  it('every capability is reported with a reason for each "no", and `umbra probe --json` prints the same shape', async () => {
    const r = probeHost({ writeTest: false });
    expectShape(r);
    expect(r.perfSoftware.events.taskClock.available || !r.nativeAddon.available).toBe(true);
    let out = '';
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      out += chunk;
      return true;
    }) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['probe', '--json', '--no-write-test']);
    } finally {
      process.stdout.write = write;
    }
    expect(code).toBe(0);
    const json = JSON.parse(out) as HostProbeReport;
    expectShape(json);
    expect(Object.keys(json).sort()).toEqual(Object.keys(r).sort());
    expect(json.resctrl.available).toBe(r.resctrl.available);
  });
});
