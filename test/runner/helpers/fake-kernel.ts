// A fake kernel over a temp dir, for the paths this host lacks (resctrl,
// cgroup v2 controllers, bfq). Directories are plain dirs; this HostFs adds
// the kernel's behaviour the runner relies on: mkdir populates control files,
// writes are validated as the kernel would (EINVAL/ENOENT), cgroup.procs and
// resctrl tasks move a pid between groups, rmdir refuses a populated cgroup
// (EBUSY) and removes the control files with the directory.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { HostFsError } from '../../../runner/fs/host-fs.js';
import { NodeHostFs } from '../../../runner/fs/impl/node-fs.js';
import { isContiguous, popcount } from '../../../runner/resctrl/cat-mask.js';
import { isAlive } from '../../../runner/process/procfs.js';
import type { HostPlatformOptions } from '../../../runner/host-setup.js';

export interface FakeLayout {
  root: string;
  sysRoot: string;
  procRoot: string;
  cgroupRoot: string;
  resctrlRoot: string;
}

export interface FakeSysfsOptions {
  cpus?: number;
  /** level, type, size (e.g. "32K"), ways */
  caches?: { level: number; type: string; size: string; ways: number; shared?: string }[];
  /** device name -> scheduler line, e.g. "none [mq-deadline] kyber bfq" */
  blockDevices?: Record<string, string>;
}

export interface FakeResctrlOptions {
  cbmMask?: string;
  minCbmBits?: number;
  numClosids?: number;
  domains?: number[];
  mba?: { gran: number; min: number } | null;
  monFeatures?: string[] | null;
}

function put(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

export function makeLayout(root: string): FakeLayout {
  const l = { root, sysRoot: join(root, 'sys'), procRoot: join(root, 'proc'), cgroupRoot: join(root, 'cgroup'), resctrlRoot: join(root, 'resctrl') };
  mkdirSync(l.sysRoot, { recursive: true });
  mkdirSync(l.cgroupRoot, { recursive: true });
  return l;
}

export function makeFakeSysfs(l: FakeLayout, o: FakeSysfsOptions = {}): void {
  const n = o.cpus ?? 4;
  const cpuDir = join(l.sysRoot, 'devices', 'system', 'cpu');
  put(join(cpuDir, 'online'), n > 1 ? `0-${n - 1}\n` : '0\n');
  const caches = o.caches ?? [
    { level: 1, type: 'Data', size: '32K', ways: 8 },
    { level: 2, type: 'Unified', size: '1024K', ways: 8 },
    { level: 3, type: 'Unified', size: '16384K', ways: 16, shared: n > 1 ? `0-${n - 1}` : '0' },
  ];
  for (let c = 0; c < n; c++) {
    put(join(cpuDir, `cpu${c}`, 'topology', 'core_id'), `${c}\n`);
    put(join(cpuDir, `cpu${c}`, 'topology', 'physical_package_id'), '0\n');
    caches.forEach((k, i) => {
      const d = join(cpuDir, `cpu${c}`, 'cache', `index${i}`);
      put(join(d, 'level'), `${k.level}\n`);
      put(join(d, 'type'), `${k.type}\n`);
      put(join(d, 'size'), `${k.size}\n`);
      put(join(d, 'ways_of_associativity'), `${k.ways}\n`);
      put(join(d, 'coherency_line_size'), '64\n');
      put(join(d, 'shared_cpu_list'), `${k.shared ?? c}\n`);
    });
  }
  for (const [dev, sched] of Object.entries(o.blockDevices ?? { sda: 'none [mq-deadline] kyber bfq' })) {
    put(join(l.sysRoot, 'block', dev, 'size'), '1000000\n');
    put(join(l.sysRoot, 'block', dev, 'queue', 'scheduler'), `${sched}\n`);
  }
}

/** A fake /proc/self/status so topology finds the allowed cpus (other /proc reads use the real /proc). */
export function makeFakeProcSelf(l: FakeLayout, allowed: string): void {
  put(join(l.procRoot, 'self', 'status'), `Name:\tnode\nCpus_allowed_list:\t${allowed}\n`);
}

export function makeFakeCgroupV2(l: FakeLayout, controllers = ['cpuset', 'cpu', 'io', 'memory', 'pids'], subtree = controllers): string {
  const m = join(l.cgroupRoot, 'unified');
  put(join(m, 'cgroup.controllers'), controllers.join(' ') + '\n');
  put(join(m, 'cgroup.subtree_control'), subtree.join(' ') + '\n');
  put(join(m, 'cgroup.procs'), '');
  put(join(m, 'cpu.stat'), 'usage_usec 0\n');
  put(join(m, 'cgroup.stat'), 'nr_descendants 0\n');
  return m;
}

export function makeFakeCgroupV1(l: FakeLayout, controllers = ['cpuset', 'cpu', 'cpuacct', 'freezer', 'memory', 'blkio'], cpus = '0-3'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of controllers) {
    const m = join(l.cgroupRoot, c);
    put(join(m, 'tasks'), '');
    put(join(m, 'cgroup.procs'), '');
    if (c === 'cpuset') {
      put(join(m, 'cpuset.cpus'), `${cpus}\n`);
      put(join(m, 'cpuset.mems'), '0\n');
    }
    if (c === 'cpu') {
      put(join(m, 'cpu.cfs_quota_us'), '-1\n');
      put(join(m, 'cpu.cfs_period_us'), '100000\n');
    }
    if (c === 'cpuacct') put(join(m, 'cpuacct.usage'), '0\n');
    if (c === 'memory') put(join(m, 'memory.limit_in_bytes'), '9223372036854771712\n');
    if (c === 'blkio') put(join(m, 'blkio.bfq.io_service_bytes'), 'Total 0\n');
    out[c] = m;
  }
  return out;
}

export function makeFakeResctrl(l: FakeLayout, o: FakeResctrlOptions = {}): string {
  const r = l.resctrlRoot;
  const cbm = o.cbmMask ?? 'fff';
  const domains = o.domains ?? [0, 1];
  put(join(r, 'info', 'L3', 'cbm_mask'), `${cbm}\n`);
  put(join(r, 'info', 'L3', 'min_cbm_bits'), `${o.minCbmBits ?? 2}\n`);
  put(join(r, 'info', 'L3', 'num_closids'), `${o.numClosids ?? 4}\n`);
  put(join(r, 'info', 'L3', 'shareable_bits'), '0\n');
  let schemata = `L3:${domains.map((d) => `${d}=${cbm}`).join(';')}\n`;
  const mba = o.mba === undefined ? { gran: 10, min: 10 } : o.mba;
  if (mba) {
    put(join(r, 'info', 'MB', 'bandwidth_gran'), `${mba.gran}\n`);
    put(join(r, 'info', 'MB', 'min_bandwidth'), `${mba.min}\n`);
    put(join(r, 'info', 'MB', 'num_closids'), `${o.numClosids ?? 4}\n`);
    put(join(r, 'info', 'MB', 'delay_linear'), '1\n');
    schemata += `MB:${domains.map((d) => `${d}=100`).join(';')}\n`;
  }
  const mon = o.monFeatures === undefined ? ['llc_occupancy', 'mbm_total_bytes', 'mbm_local_bytes'] : o.monFeatures;
  if (mon) {
    put(join(r, 'info', 'L3_MON', 'mon_features'), mon.join('\n') + '\n');
    put(join(r, 'info', 'L3_MON', 'num_rmids'), '64\n');
  }
  put(join(r, 'schemata'), schemata);
  put(join(r, 'tasks'), '');
  mkdirSync(join(r, 'mon_groups'), { recursive: true });
  return r;
}

/** Every file under dir with its content (for "restored exactly" assertions). */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        out[relative(dir, p) + '/'] = '';
        walk(p);
      } else out[relative(dir, p)] = readFileSync(p, 'utf8');
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

const fail = (code: string, op: string, path: string): never => {
  throw new HostFsError(code, op, path);
};

export class FakeKernelFs extends NodeHostFs {
  override readonly kind = 'fake-kernel';
  readonly writes: { path: string; data: string }[] = [];

  constructor(private readonly l: FakeLayout) {
    super();
  }

  private under(path: string, root: string): boolean {
    return path.startsWith(root + sep);
  }

  /** 'v2' | 'v1:<controller>' | 'resctrl' | 'resctrl-mon' | null */
  private kindOf(dir: string): string | null {
    const v2 = join(this.l.cgroupRoot, 'unified');
    if (this.under(dir, v2)) return 'v2';
    if (this.under(dir, this.l.resctrlRoot)) return dirname(dir) === join(this.l.resctrlRoot, 'mon_groups') ? 'resctrl-mon' : 'resctrl';
    if (this.under(dir, this.l.cgroupRoot)) return `v1:${relative(this.l.cgroupRoot, dir).split(sep)[0]}`;
    return null;
  }

  private words(path: string): string[] {
    return existsSync(path) ? readFileSync(path, 'utf8').split(/\s+/).filter(Boolean) : [];
  }

  /** Like the kernel, membership lists only show live tasks (small numbers are test placeholders). */
  private members(path: string): string[] {
    return this.words(path).filter((p) => Number(p) > 999_999_000 || isAlive('/proc', Number(p)));
  }

  override readText(path: string): string {
    const name = path.slice(path.lastIndexOf(sep) + 1);
    if ((name === 'cgroup.procs' || name === 'tasks') && this.kindOf(dirname(path))) {
      if (!existsSync(path)) fail('ENOENT', 'read', path);
      const m = this.members(path);
      return m.length ? m.join('\n') + '\n' : '';
    }
    return super.readText(path);
  }

  override mkdir(path: string): void {
    super.mkdir(path);
    const k = this.kindOf(path);
    const parent = dirname(path);
    if (k === 'v2') {
      const enabled = this.words(join(parent, 'cgroup.subtree_control'));
      put(join(path, 'cgroup.controllers'), enabled.join(' ') + '\n');
      put(join(path, 'cgroup.subtree_control'), '');
      put(join(path, 'cgroup.procs'), '');
      put(join(path, 'cgroup.freeze'), '0\n');
      put(join(path, 'cgroup.events'), 'populated 0\nfrozen 0\n');
      put(join(path, 'cpu.stat'), 'usage_usec 0\nuser_usec 0\nsystem_usec 0\n');
      if (enabled.includes('cpu')) {
        put(join(path, 'cpu.max'), 'max 100000\n');
        put(join(path, 'cpu.weight'), '100\n');
      }
      if (enabled.includes('cpuset')) put(join(path, 'cpuset.cpus'), '');
      if (enabled.includes('io')) {
        put(join(path, 'io.weight'), 'default 100\n');
        put(join(path, 'io.stat'), '');
      }
      if (enabled.includes('memory')) {
        put(join(path, 'memory.max'), 'max\n');
        put(join(path, 'memory.current'), '0\n');
      }
    } else if (k?.startsWith('v1:')) {
      const c = k.slice(3);
      put(join(path, 'cgroup.procs'), '');
      put(join(path, 'tasks'), '');
      if (c === 'cpuset') {
        put(join(path, 'cpuset.cpus'), '');
        put(join(path, 'cpuset.mems'), '');
      }
      if (c === 'cpu') {
        put(join(path, 'cpu.cfs_quota_us'), '-1\n');
        put(join(path, 'cpu.cfs_period_us'), '100000\n');
        put(join(path, 'cpu.shares'), '1024\n');
      }
      if (c === 'cpuacct') put(join(path, 'cpuacct.usage'), '0\n');
      if (c === 'freezer') put(join(path, 'freezer.state'), 'THAWED\n');
      if (c === 'memory') {
        put(join(path, 'memory.limit_in_bytes'), '9223372036854771712\n');
        put(join(path, 'memory.usage_in_bytes'), '0\n');
      }
      if (c === 'blkio') {
        put(join(path, 'blkio.bfq.weight'), '100\n');
        put(join(path, 'blkio.throttle.io_service_bytes'), 'Total 0\n');
      }
    } else if (k === 'resctrl') {
      put(join(path, 'schemata'), readFileSync(join(this.l.resctrlRoot, 'schemata'), 'utf8'));
      put(join(path, 'tasks'), '');
      this.populateMon(path);
      mkdirSync(join(path, 'mon_groups'), { recursive: true });
    } else if (k === 'resctrl-mon') {
      put(join(path, 'tasks'), '');
      this.populateMon(path);
    }
  }

  private populateMon(path: string): void {
    const domains = [...readFileSync(join(this.l.resctrlRoot, 'schemata'), 'utf8').matchAll(/(\d+)=/g)].map((m) => Number(m[1]));
    for (const d of new Set(domains)) {
      const dd = join(path, 'mon_data', `mon_L3_${String(d).padStart(2, '0')}`);
      put(join(dd, 'llc_occupancy'), '0\n');
      put(join(dd, 'mbm_total_bytes'), '0\n');
      put(join(dd, 'mbm_local_bytes'), '0\n');
    }
  }

  override rmdir(path: string): void {
    if (!existsSync(path)) fail('ENOENT', 'rmdir', path);
    const k = this.kindOf(path);
    if (k === 'v2' || k?.startsWith('v1:')) {
      if (this.members(join(path, 'cgroup.procs')).length) fail('EBUSY', 'rmdir', path);
      if (readdirSync(path).some((n) => statSync(join(path, n)).isDirectory())) fail('EBUSY', 'rmdir', path);
      rmSync(path, { recursive: true });
      return;
    }
    if (k === 'resctrl' || k === 'resctrl-mon') {
      rmSync(path, { recursive: true });
      return;
    }
    super.rmdir(path);
  }

  /** Remove pid from every other membership file of the same tree (a task is in one group per hierarchy). */
  private moveMember(file: string, id: string, treeRoot: string): void {
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (n === 'cgroup.procs' || n === 'tasks') {
          if (p === file) continue;
          const ids = this.words(p).filter((x) => x !== id);
          writeFileSync(p, ids.length ? ids.join('\n') + '\n' : '');
        }
      }
    };
    walk(treeRoot);
    const ids = this.words(file);
    if (!ids.includes(id)) ids.push(id);
    writeFileSync(file, ids.join('\n') + '\n');
  }

  override writeText(path: string, data: string): void {
    this.writes.push({ path, data });
    if (!existsSync(path)) fail('ENOENT', 'write', path);
    const name = path.slice(path.lastIndexOf(sep) + 1);
    const dir = dirname(path);
    const k = this.kindOf(dir) ?? (dir === join(this.l.cgroupRoot, 'unified') ? 'v2' : dir === this.l.resctrlRoot ? 'resctrl' : null);
    const v = data.trim();
    if (name === 'cgroup.procs' || name === 'tasks') {
      if (!/^\d+$/.test(v)) fail('EINVAL', 'write', path);
      const tree = k === 'v2' ? join(this.l.cgroupRoot, 'unified') : k?.startsWith('resctrl') ? this.l.resctrlRoot : join(this.l.cgroupRoot, (k ?? 'v1:x').slice(3));
      this.moveMember(path, v, tree);
      return;
    }
    if (k === 'v2') {
      if (name === 'cgroup.subtree_control') {
        const offered = this.words(join(dir, 'cgroup.controllers'));
        const cur = new Set(this.words(path));
        for (const tok of v.split(/\s+/)) {
          const c = tok.slice(1);
          if (!offered.includes(c)) fail('ENOENT', 'write', path);
          if (tok[0] === '+') cur.add(c);
          else if (tok[0] === '-') cur.delete(c);
          else fail('EINVAL', 'write', path);
        }
        writeFileSync(path, [...cur].join(' ') + '\n');
        return;
      }
      if (name === 'cpu.max' && !/^(max|\d+) \d+$/.test(v)) fail('EINVAL', 'write', path);
      if (name === 'cpu.max' && /^\d+/.test(v) && Number(v.split(' ')[0]) < 1000) fail('EINVAL', 'write', path);
      if (name === 'cgroup.freeze') {
        if (v !== '0' && v !== '1') fail('EINVAL', 'write', path);
        writeFileSync(join(dir, 'cgroup.events'), `populated 0\nfrozen ${v}\n`);
      }
      if (name === 'io.weight' && !/^(default )?\d+$/.test(v)) fail('EINVAL', 'write', path);
      if (name === 'memory.max' && !/^(max|\d+)$/.test(v)) fail('EINVAL', 'write', path);
    }
    if (k?.startsWith('v1:')) {
      if (name === 'freezer.state' && v !== 'FROZEN' && v !== 'THAWED') fail('EINVAL', 'write', path);
      if (name === 'cpu.cfs_quota_us' && !(v === '-1' || Number(v) >= 1000)) fail('EINVAL', 'write', path);
    }
    if (name === 'cpuset.cpus' && v !== '' && !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(v)) fail('EINVAL', 'write', path);
    if (k === 'resctrl' && name === 'schemata') {
      writeFileSync(path, this.mergeSchemata(path, v));
      return;
    }
    writeFileSync(path, data.endsWith('\n') ? data : data + '\n');
  }

  private mergeSchemata(path: string, v: string): string {
    const info = join(this.l.resctrlRoot, 'info');
    const lines = new Map<string, string>();
    for (const line of readFileSync(path, 'utf8').split('\n').filter(Boolean)) lines.set(line.split(':')[0].trim(), line.trim());
    for (const line of v.split('\n').filter(Boolean)) {
      const [res, rest] = line.split(':');
      if (!rest) fail('EINVAL', 'write', path);
      for (const part of rest.split(';')) {
        const [, val] = part.split('=');
        if (res === 'L3') {
          const mask = parseInt(val, 16);
          const full = parseInt(readFileSync(join(info, 'L3', 'cbm_mask'), 'utf8'), 16);
          const min = Number(readFileSync(join(info, 'L3', 'min_cbm_bits'), 'utf8'));
          if (!isContiguous(mask) || popcount(mask) < min || (mask & ~full) !== 0) fail('EINVAL', 'write', path);
        } else if (res === 'MB') {
          const gran = Number(readFileSync(join(info, 'MB', 'bandwidth_gran'), 'utf8'));
          const min = Number(readFileSync(join(info, 'MB', 'min_bandwidth'), 'utf8'));
          const pct = Number(val);
          if (!(pct >= min && pct <= 100 && pct % gran === 0)) fail('EINVAL', 'write', path);
        } else fail('EINVAL', 'write', path);
      }
      lines.set(res.trim(), line.trim());
    }
    return [...lines.values()].join('\n') + '\n';
  }
}

/**
 * startHostPlatform options for a run on the fake trees of `l`, with the real
 * /proc (the tasks it starts are real processes), its journal and scratch
 * under `dir`, and a short kill grace.
 */
export function onFakeTrees(dir: string, l: FakeLayout): Pick<HostPlatformOptions, 'fs' | 'paths' | 'journalDir' | 'scratchRoot' | 'killGraceMs'> {
  return {
    fs: new FakeKernelFs(l),
    paths: { sysRoot: l.sysRoot, procRoot: '/proc', cgroupRoot: l.cgroupRoot, resctrlRoot: l.resctrlRoot },
    journalDir: join(dir, 'journal'),
    scratchRoot: dir,
    killGraceMs: 300,
  };
}
