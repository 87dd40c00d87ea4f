// cgroup v2 (and the v1 paths this host cannot exercise, such as IO weights
// under bfq) against a fake kernel tree: what is written where, what is
// refused and why, and that restore leaves the tree as it found it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CgroupV2Backend } from '../../runner/cgroup/impl/v2.js';
import { CgroupV1Backend } from '../../runner/cgroup/impl/v1.js';
import { formatCpuList, parseCpuList, UnsupportedKnobError } from '../../runner/cgroup/cgroup-backend.js';
import { cpuQuotaUs } from '../../runner/cgroup/quota.js';
import { attachTree } from '../../runner/cgroup/attach-tree.js';
import { discoverCgroupMounts, parseMountinfo } from '../../runner/cgroup/mounts.js';
import { selectCgroupBackend } from '../../runner/cgroup/select-backend.js';
import { Journal } from '../../runner/journal/journal.js';
import { JournaledHost } from '../../runner/journal/journaled-host.js';
import { FakeKernelFs, makeFakeCgroupV1, makeFakeCgroupV2, makeFakeSysfs, makeLayout, snapshotTree, type FakeLayout } from './helpers/fake-kernel.js';

let dir: string;
let l: FakeLayout;
let fs: FakeKernelFs;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'umbra-cgroup-test-'));
  l = makeLayout(join(dir, 'host'));
  fs = new FakeKernelFs(l);
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function openV2(opts: { controllers?: string[]; subtree?: string[]; sched?: string } = {}) {
  makeFakeSysfs(l, { blockDevices: { sda: opts.sched ?? 'none mq-deadline kyber [bfq]' } });
  const mount = makeFakeCgroupV2(l, opts.controllers, opts.subtree);
  const backend = new CgroupV2Backend({ fs, mount, sysRoot: l.sysRoot, procRoot: '/proc' });
  const journal = Journal.create(join(dir, 'j'), `v2-${Date.now()}`);
  const host = new JournaledHost(journal, fs, '/proc');
  return { backend, journal, host, mount };
}

describe('cgroup v2 backend (fake tree)', () => {
  it('creates umbra-<run>/<task>, enables controllers only in its own group, and writes each knob', () => {
    const { backend, journal, host, mount } = openV2();
    const before = snapshotTree(l.cgroupRoot);
    backend.open('umbra-r1', host);
    const run = join(mount, 'umbra-r1');
    expect(readFileSync(join(run, 'cgroup.subtree_control'), 'utf8').trim().split(' ').sort()).toEqual(['cpu', 'cpuset', 'io', 'memory']);
    // The root's own subtree_control is never written.
    expect(fs.writes.some((w) => w.path === join(mount, 'cgroup.subtree_control'))).toBe(false);
    const g = backend.createTaskGroup('be0', { memory: true });
    const task = join(run, 'be0');
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(sleeper);
    const pid = sleeper.pid as number;
    g.attach(pid);
    expect(readFileSync(join(task, 'cgroup.procs'), 'utf8').trim()).toBe(String(pid));
    g.setCpus([2, 0, 1]);
    expect(readFileSync(join(task, 'cpuset.cpus'), 'utf8').trim()).toBe('0-2');
    g.setCpuQuota(25, 2);
    expect(readFileSync(join(task, 'cpu.max'), 'utf8').trim()).toBe('10000 20000');
    g.setCpuQuota(100, 2);
    expect(readFileSync(join(task, 'cpu.max'), 'utf8').trim()).toBe('max 20000');
    g.setFrozen(true);
    expect(g.isFrozen()).toBe(true);
    g.setFrozen(false);
    expect(g.isFrozen()).toBe(false);
    g.setIoWeight(250);
    expect(readFileSync(join(task, 'io.weight'), 'utf8').trim()).toBe('default 250');
    g.setMemoryLimit(64 << 20);
    expect(readFileSync(join(task, 'memory.max'), 'utf8').trim()).toBe(String(64 << 20));
    expect(g.cpuUsageCounter()).toEqual({ path: join(task, 'cpu.stat'), nsPerUnit: 1000 });
    // The sleeper is in our (fake) group, so restore stops it like anything else inside a group we created.
    const report = journal.restore({ fs, procRoot: '/proc', killGraceMs: 500 });
    expect(report.failures).toEqual([]);
    expect(report.killedPids).toContain(pid);
    expect(existsSync(run)).toBe(false);
    const after = snapshotTree(l.cgroupRoot);
    // The root's cgroup.procs got our pid back (the fake has no real membership); otherwise identical.
    delete after['unified/cgroup.procs'];
    delete before['unified/cgroup.procs'];
    expect(after).toEqual(before);
  });

  it('reports a controller the root does not pass down as unavailable, with the reason, and refuses it', () => {
    const { backend, journal, host } = openV2({ controllers: ['cpuset', 'cpu', 'io', 'memory'], subtree: ['cpuset', 'memory'] });
    const k = backend.knobs();
    expect(k.cpuQuota.available).toBe(false);
    expect(k.cpuQuota.reason).toMatch(/cpu is not enabled in .*cgroup.subtree_control.*only cgroups it created/);
    expect(k.ioWeight.available).toBe(false);
    expect(k.cpuset.available).toBe(true);
    backend.open('umbra-r2', host);
    const g = backend.createTaskGroup('t');
    expect(() => g.setCpuQuota(50, 1)).toThrow(UnsupportedKnobError);
    expect(() => g.setIoWeight(100)).toThrow(/io is not enabled/);
    journal.restore({ fs, procRoot: '/proc' });
  });

  it('detects IO weights that would have no effect (no bfq, no iocost) instead of pretending', () => {
    const { backend, journal } = openV2({ sched: 'none [mq-deadline] kyber bfq' });
    const k = backend.knobs().ioWeight;
    expect(k.available).toBe(false);
    expect(k.reason).toMatch(/no effect.*sda: mq-deadline/);
    journal.restore({ fs, procRoot: '/proc' });
  });

  it('refuses a quota below the kernel minimum instead of clipping it', () => {
    const { backend, journal, host } = openV2();
    backend.open('umbra-r3', host);
    const g = backend.createTaskGroup('t');
    expect(() => g.setCpuQuota(2, 1)).toThrow(/below the kernel's 1000 µs minimum/);
    journal.restore({ fs, procRoot: '/proc' });
  });
});

describe('cgroup v1 backend (fake tree: the knobs this host lacks)', () => {
  it('writes blkio.bfq.weight when a device uses bfq, and joins memory only when a limit is asked for', () => {
    makeFakeSysfs(l, { blockDevices: { sda: 'none mq-deadline [bfq]', loop0: '[none]' } });
    const mounts = new Map(Object.entries(makeFakeCgroupV1(l)));
    const backend = new CgroupV1Backend({ fs, mounts, sysRoot: l.sysRoot, procRoot: '/proc' });
    expect(backend.knobs().ioWeight).toMatchObject({ available: true, file: 'blkio.bfq.weight' });
    const journal = Journal.create(join(dir, 'j'), 'v1');
    backend.open('umbra-v1', new JournaledHost(journal, fs, '/proc'));
    const plain = backend.createTaskGroup('a');
    const limited = backend.createTaskGroup('b', { memory: true });
    expect(existsSync(join(l.cgroupRoot, 'memory', 'umbra-v1', 'a'))).toBe(false);
    expect(existsSync(join(l.cgroupRoot, 'memory', 'umbra-v1', 'b'))).toBe(true);
    // A new v1 cpuset group inherits cpus and mems, or it could not take tasks.
    expect(readFileSync(join(l.cgroupRoot, 'cpuset', 'umbra-v1', 'a', 'cpuset.mems'), 'utf8').trim()).toBe('0');
    plain.setIoWeight(300);
    expect(readFileSync(join(l.cgroupRoot, 'blkio', 'umbra-v1', 'a', 'blkio.bfq.weight'), 'utf8').trim()).toBe('300');
    limited.setMemoryLimit(1 << 30);
    expect(readFileSync(join(l.cgroupRoot, 'memory', 'umbra-v1', 'b', 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(1 << 30));
    expect(() => plain.setMemoryLimit(1)).toThrow(UnsupportedKnobError);
    expect(journal.restore({ fs, procRoot: '/proc' }).failures).toEqual([]);
    for (const c of mounts.values()) expect(existsSync(join(c, 'umbra-v1'))).toBe(false);
  });
});

describe('run CPU weight (fake trees)', () => {
  it('v1 writes cpu.shares and v2 cpu.weight in the run\'s own group only, clamped to the kernel\'s range; restore removes them', () => {
    makeFakeSysfs(l);
    const mounts = new Map(Object.entries(makeFakeCgroupV1(l)));
    const v1 = new CgroupV1Backend({ fs, mounts, sysRoot: l.sysRoot, procRoot: '/proc' });
    const j1 = Journal.create(join(dir, 'j'), 'w1');
    v1.open('umbra-w1', new JournaledHost(j1, fs, '/proc'));
    v1.setRunCpuWeight(500);
    expect(readFileSync(join(l.cgroupRoot, 'cpu', 'umbra-w1', 'cpu.shares'), 'utf8').trim()).toBe(String(Math.round((500 * 1024) / 100)));
    v1.setRunCpuWeight(1e9);
    expect(readFileSync(join(l.cgroupRoot, 'cpu', 'umbra-w1', 'cpu.shares'), 'utf8').trim()).toBe('262144');
    expect(fs.writes.filter((w) => w.path.endsWith('cpu.shares')).every((w) => w.path.includes('umbra-w1'))).toBe(true);
    expect(j1.restore({ fs, procRoot: '/proc' }).failures).toEqual([]);
    expect(existsSync(join(l.cgroupRoot, 'cpu', 'umbra-w1'))).toBe(false);

    const { backend, journal, host, mount } = openV2();
    backend.open('umbra-w2', host);
    backend.setRunCpuWeight(20000);
    expect(readFileSync(join(mount, 'umbra-w2', 'cpu.weight'), 'utf8').trim()).toBe('10000');
    expect(journal.restore({ fs, procRoot: '/proc' }).failures).toEqual([]);
  });

  it('is refused without a cpu controller', () => {
    makeFakeSysfs(l);
    const mounts = new Map(Object.entries(makeFakeCgroupV1(l, ['cpuset', 'cpuacct', 'freezer'])));
    const v1 = new CgroupV1Backend({ fs, mounts, sysRoot: l.sysRoot, procRoot: '/proc' });
    v1.open('umbra-w3', new JournaledHost(Journal.create(join(dir, 'j'), 'w3'), fs, '/proc'));
    expect(() => v1.setRunCpuWeight(200)).toThrow(UnsupportedKnobError);
  });
});

describe('attaching a process tree', () => {
  it('completes a child that a fork left in only some hierarchies, and the process itself', () => {
    makeFakeSysfs(l);
    const mounts = new Map(Object.entries(makeFakeCgroupV1(l, ['cpuset', 'cpuacct', 'freezer'])));
    const backend = new CgroupV1Backend({ fs, mounts, sysRoot: l.sysRoot, procRoot: '/proc' });
    const journal = Journal.create(join(dir, 'j'), 'tree');
    backend.open('umbra-tree', new JournaledHost(journal, fs, '/proc'));
    const g = backend.createTaskGroup('t');
    const parent = spawn('sleep', ['30'], { stdio: 'ignore' });
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(parent, child);
    // The child was forked while the parent was being moved: it is in our cpuset group only.
    writeFileSync(join(l.cgroupRoot, 'cpuset', 'umbra-tree', 't', 'cgroup.procs'), `${child.pid}\n`);
    const attached = new Set<number>();
    attachTree(g, '/proc', parent.pid as number, attached);
    for (const h of ['cpuset', 'cpuacct', 'freezer']) {
      const procs = readFileSync(join(l.cgroupRoot, h, 'umbra-tree', 't', 'cgroup.procs'), 'utf8').split(/\s+/).filter(Boolean).map(Number).sort();
      expect(procs, h).toEqual([parent.pid, child.pid].sort());
    }
    expect([...attached].sort()).toEqual([parent.pid, child.pid].sort());
    journal.restore({ fs, procRoot: '/proc', killGraceMs: 300 });
  });
});

describe('cgroup discovery and helpers', () => {
  it('reads v1 and v2 mounts from mountinfo, only under the cgroup root', () => {
    const text = [
      '30 25 0:26 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu',
      '31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:10 - cgroup cgroup rw,cpuacct',
      '32 25 0:28 / /sys/fs/cgroup/unified rw,relatime shared:11 - cgroup2 cgroup2 rw',
      '33 25 0:29 / /elsewhere/freezer rw,relatime - cgroup cgroup rw,freezer',
    ].join('\n');
    const m = parseMountinfo(text, '/sys/fs/cgroup');
    expect(Object.fromEntries(m.v1)).toEqual({ cpu: '/sys/fs/cgroup/cpu', cpuacct: '/sys/fs/cgroup/cpu,cpuacct' });
    expect(m.v2).toBe('/sys/fs/cgroup/unified');
  });

  it('scans a fake tree and prefers v2 only when it offers cpu controllers', () => {
    makeFakeCgroupV1(l, ['cpu', 'freezer']);
    makeFakeCgroupV2(l, ['hugetlb'], []);
    const paths = { procRoot: join(l.root, 'noproc'), sysRoot: l.sysRoot, cgroupRoot: l.cgroupRoot, resctrlRoot: l.resctrlRoot };
    const mounts = discoverCgroupMounts(fs, paths);
    expect([...mounts.v1.keys()].sort()).toEqual(['cpu', 'freezer']);
    expect(selectCgroupBackend(fs, paths).backend?.version).toBe(1);
    expect(selectCgroupBackend(fs, paths, 'v2').backend?.version).toBe(2);
    expect(selectCgroupBackend(fs, paths, 'none').backend).toBeNull();
  });

  it('cpu lists round-trip (law: parse(format(s)) = sorted unique s)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(127), { maxLength: 40 }), (cores) => {
        expect(parseCpuList(formatCpuList(cores))).toEqual([...new Set(cores)].sort((a, b) => a - b));
      }),
    );
  });

  it('quota: pct of n cores per period, never below 1 ms, null = no cap', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 150, noNaN: true }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1000, max: 1_000_000 }), (pct, n, period) => {
        let q: number | null;
        try {
          q = cpuQuotaUs(pct, n, period);
        } catch (err) {
          expect((period * n * pct) / 100).toBeLessThan(1000.5);
          expect(String(err)).toMatch(/minimum/);
          return;
        }
        if (pct >= 100) expect(q).toBeNull();
        else {
          expect(q).toBeGreaterThanOrEqual(1000);
          expect(Math.abs((q as number) - (period * n * pct) / 100)).toBeLessThanOrEqual(0.5);
        }
      }),
    );
  });
});
