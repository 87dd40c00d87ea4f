// cgroup v1: one hierarchy per controller (cpuset, cpu, cpuacct, freezer,
// memory, blkio), each with its own umbra-<run>/<task> directories. The
// memory and blkio hierarchies are joined only when a task needs them, so a
// process is moved out of the cgroups it was started in no more than needed.
import { join } from 'node:path';
import type { HostFs } from '../../fs/host-fs.js';
import { tryReadText, tryReadTextKeepOpen } from '../../fs/host-fs.js';
import { firstUnsignedInt } from '../../fs/impl/node-fs.js';
import type { JournaledHost } from '../../journal/journaled-host.js';
import { readProcCgroups } from '../../process/procfs.js';
import {
  formatCpuList, safeGroupName, UnsupportedKnobError,
  type CgroupBackend, type CgroupKnob, type CgroupStats, type KnobStatus, type TaskCgroup,
} from '../cgroup-backend.js';
import { ioWeightEffect } from '../io-scheduler.js';
import { cpuQuotaUs } from '../quota.js';

export interface CgroupV1Options {
  fs: HostFs;
  /** v1 controller -> mount point. */
  mounts: Map<string, string>;
  sysRoot: string;
  procRoot: string;
  /** CFS period for quotas; 20 ms keeps throttling smooth at a 10 ms control period. */
  cpuPeriodUs?: number;
}

type Ctl = 'cpuset' | 'cpu' | 'cpuacct' | 'freezer' | 'memory' | 'blkio';

export class CgroupV1Backend implements CgroupBackend {
  readonly version = 1 as const;
  readonly ioWeightRange = { min: 1, max: 1000, default: 100 };
  private readonly fs: HostFs;
  private readonly mounts: Map<string, string>;
  private readonly periodUs: number;
  private host: JournaledHost | null = null;
  private runName = '';
  private readonly runDirs = new Map<string, string>(); // mount -> run dir
  private readonly dirs: string[] = [];
  private knobCache: Record<CgroupKnob, KnobStatus> | null = null;
  private weightFile: string | null = null;

  constructor(private readonly opts: CgroupV1Options) {
    this.fs = opts.fs;
    this.mounts = opts.mounts;
    this.periodUs = opts.cpuPeriodUs ?? 20_000;
  }

  private mount(c: Ctl): string | undefined {
    return this.mounts.get(c);
  }

  knobs(): Record<CgroupKnob, KnobStatus> {
    if (this.knobCache) return this.knobCache;
    const fs = this.fs;
    const has = (c: Ctl, file: string): KnobStatus => {
      const m = this.mount(c);
      if (!m) return { available: false, reason: `cgroup v1 ${c} hierarchy is not mounted` };
      if (!fs.exists(join(m, file))) return { available: false, reason: `${join(m, file)} is missing` };
      return { available: true, file };
    };
    const io = ((): KnobStatus => {
      const m = this.mount('blkio');
      if (!m) return { available: false, reason: 'cgroup v1 blkio hierarchy is not mounted' };
      // Weight files exist only in non-root groups; the root's stats files say which kind.
      const bfq = fs.exists(join(m, 'blkio.bfq.io_service_bytes')) || fs.exists(join(m, 'blkio.bfq.weight'));
      const cfq = fs.exists(join(m, 'blkio.weight'));
      if (!bfq && !cfq) return { available: false, reason: `no blkio weight files under ${m} (neither bfq nor cfq is loaded)` };
      this.weightFile = bfq ? 'blkio.bfq.weight' : 'blkio.weight';
      const eff = ioWeightEffect(fs, this.opts.sysRoot);
      if (!eff.effective) return { available: false, reason: eff.reason, file: this.weightFile };
      return { available: true, file: this.weightFile };
    })();
    this.knobCache = {
      cpuset: has('cpuset', 'cpuset.cpus'),
      cpuQuota: has('cpu', 'cpu.cfs_quota_us'),
      freezer: this.mount('freezer') ? { available: true, file: 'freezer.state' } : { available: false, reason: 'cgroup v1 freezer hierarchy is not mounted' },
      ioWeight: io,
      memory: has('memory', 'memory.limit_in_bytes'),
      cpuStats: has('cpuacct', 'cpuacct.usage'),
    };
    return this.knobCache;
  }

  /** Hierarchies every task joins: those whose knob works. */
  private baseControllers(): Ctl[] {
    const k = this.knobs();
    const out: Ctl[] = [];
    if (k.cpuset.available) out.push('cpuset');
    if (k.cpuQuota.available) out.push('cpu');
    if (k.cpuStats.available) out.push('cpuacct');
    if (k.freezer.available) out.push('freezer');
    if (k.ioWeight.available) out.push('blkio');
    return out;
  }

  open(runName: string, host: JournaledHost): void {
    this.runName = safeGroupName(runName);
    this.host = host;
    for (const c of this.baseControllers()) this.ensureRunDir(c);
  }

  private ensureRunDir(c: Ctl): string {
    const host = this.requireHost();
    const m = this.mount(c) as string;
    const existing = this.runDirs.get(m);
    if (existing) return existing;
    const dir = join(m, this.runName);
    host.mkdir(dir, 'cgroup');
    this.dirs.push(dir);
    if (c === 'cpuset') this.inheritCpuset(m, dir);
    this.runDirs.set(m, dir);
    return dir;
  }

  /** A new v1 cpuset group starts empty and cannot take tasks until cpus and mems are set. */
  private inheritCpuset(parent: string, dir: string): void {
    const host = this.requireHost();
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      const v = this.fs.readText(join(parent, f)).trim();
      if (v) host.write(join(dir, f), v);
    }
  }

  setRunCpuWeight(weight: number): void {
    if (!this.knobs().cpuQuota.available) throw new UnsupportedKnobError('cpuQuota', this.knobs().cpuQuota.reason ?? 'no cpu controller');
    const dir = this.ensureRunDir('cpu');
    const shares = Math.min(262144, Math.max(2, Math.round((weight * 1024) / 100)));
    // our own directory: removing it undoes this
    this.requireHost().write(join(dir, 'cpu.shares'), String(shares));
  }

  private requireHost(): JournaledHost {
    if (!this.host) throw new Error('cgroup backend used before open()');
    return this.host;
  }

  createTaskGroup(taskName: string, opts: { memory?: boolean } = {}): TaskCgroup {
    const host = this.requireHost();
    const name = safeGroupName(taskName);
    const ctls = this.baseControllers();
    if (opts.memory) {
      const k = this.knobs().memory;
      if (!k.available) throw new UnsupportedKnobError('memory', k.reason ?? 'memory controller unavailable');
      ctls.push('memory');
    }
    const dirs = new Map<Ctl, string>();
    const made = new Set<string>();
    for (const c of ctls) {
      const runDir = this.ensureRunDir(c);
      const dir = join(runDir, name);
      if (!made.has(dir)) {
        host.mkdir(dir, 'cgroup');
        this.dirs.push(dir);
        made.add(dir);
        if (c === 'cpuset') this.inheritCpuset(runDir, dir);
      }
      dirs.set(c, dir);
    }
    const cpuDir = dirs.get('cpu');
    if (cpuDir) host.write(join(cpuDir, 'cpu.cfs_period_us'), String(this.periodUs));
    return new V1TaskGroup(name, this, host, dirs, this.periodUs);
  }

  createdDirs(): string[] {
    return [...this.dirs];
  }

  /** @internal */ knobError(k: CgroupKnob): never {
    throw new UnsupportedKnobError(k, this.knobs()[k].reason ?? `${k} is unavailable`);
  }

  /** @internal */ get fsAccess(): HostFs {
    return this.fs;
  }

  /** @internal */ get procRoot(): string {
    return this.opts.procRoot;
  }

  /** @internal */ ioWeightFile(): string | null {
    return this.weightFile;
  }

  /** @internal */ mountOf(c: Ctl): string | undefined {
    return this.mount(c);
  }
}

class V1TaskGroup implements TaskCgroup {
  // control-file paths the loop reads or writes, built on first use
  private quotaFile: string | undefined;
  private statFiles: { acct?: string; mem?: string; blk?: string } | undefined;
  constructor(
    readonly name: string,
    private readonly backend: CgroupV1Backend,
    private readonly host: JournaledHost,
    private readonly dirs: Map<Ctl, string>,
    private readonly periodUs: number,
  ) {}

  private dir(c: Ctl, knob: CgroupKnob): string {
    const d = this.dirs.get(c);
    if (!d) this.backend.knobError(knob);
    return d;
  }

  attach(pid: number): void {
    const membership = readProcCgroups(this.backend.procRoot, pid);
    const seen = new Set<string>();
    for (const [c, dir] of this.dirs) {
      if (seen.has(dir)) continue;
      seen.add(dir);
      const mount = this.backend.mountOf(c) as string;
      let back: string | null = null;
      for (const [ctls, path] of membership) {
        if (ctls.split(',').includes(c)) back = join(mount, path, 'cgroup.procs');
      }
      this.host.attach(pid, join(dir, 'cgroup.procs'), back);
    }
  }

  setCpus(cores: number[]): void {
    this.host.write(join(this.dir('cpuset', 'cpuset'), 'cpuset.cpus'), formatCpuList(cores));
  }

  setCpuQuota(pct: number, nCores: number): void {
    const quota = cpuQuotaUs(pct, nCores, this.periodUs);
    this.host.write((this.quotaFile ??= join(this.dir('cpu', 'cpuQuota'), 'cpu.cfs_quota_us')), quota === null ? '-1' : String(quota));
  }

  setFrozen(frozen: boolean): void {
    const path = join(this.dir('freezer', 'freezer'), 'freezer.state');
    if (frozen) this.host.freeze(path, 'FROZEN', 'THAWED');
    else this.host.write(path, 'THAWED');
  }

  isFrozen(): boolean {
    const d = this.dirs.get('freezer');
    if (!d) return false;
    const s = tryReadText(this.backend.fsAccess, join(d, 'freezer.state'))?.trim();
    return s === 'FROZEN' || s === 'FREEZING';
  }

  setIoWeight(weight: number): void {
    const file = this.backend.ioWeightFile();
    const d = this.dirs.get('blkio');
    if (!d || !file) this.backend.knobError('ioWeight');
    this.host.write(join(d, file), String(Math.round(weight)));
  }

  setMemoryLimit(bytes: number | null): void {
    this.host.write(join(this.dir('memory', 'memory'), 'memory.limit_in_bytes'), bytes === null ? '-1' : String(Math.floor(bytes)));
  }

  cpuUsageCounter(): { path: string; nsPerUnit: number } | null {
    const d = this.dirs.get('cpuacct');
    return d ? { path: join(d, 'cpuacct.usage'), nsPerUnit: 1 } : null;
  }

  stats(o: { cpu?: boolean } = {}): CgroupStats {
    const fs = this.backend.fsAccess;
    const out: CgroupStats = {};
    const num = (p: string) => {
      const t = tryReadTextKeepOpen(fs, p);
      return t === undefined ? undefined : firstUnsignedInt(t);
    };
    // (paths built once: this runs for a task every slow-statistics round)
    const f = (this.statFiles ??= this.statPaths());
    if (f.acct && o.cpu !== false) out.cpuUsageNs = num(f.acct);
    if (f.mem) out.memoryBytes = num(f.mem);
    if (f.blk) {
      const t = tryReadTextKeepOpen(fs, f.blk);
      const m = t ? /^Total\s+(\d+)/m.exec(t) : null;
      if (m) out.ioBytes = Number(m[1]);
    }
    return out;
  }

  private statPaths(): { acct?: string; mem?: string; blk?: string } {
    const acct = this.dirs.get('cpuacct');
    const mem = this.dirs.get('memory');
    const blk = this.dirs.get('blkio');
    return {
      acct: acct ? join(acct, 'cpuacct.usage') : undefined,
      mem: mem ? join(mem, 'memory.usage_in_bytes') : undefined,
      blk: blk ? join(blk, 'blkio.throttle.io_service_bytes') : undefined,
    };
  }

  pids(): number[] {
    const first = this.dirs.values().next().value as string | undefined;
    if (!first) return [];
    // A fresh open each time: a v1 cgroup.procs kept open re-serves the pid
    // list it built at its first read for as long as it is re-read within a
    // second (the kernel's pidlist cache), so new members would never show.
    const t = tryReadText(this.backend.fsAccess, join(first, 'cgroup.procs')) ?? '';
    return t.split(/\s+/).filter(Boolean).map(Number);
  }
}
