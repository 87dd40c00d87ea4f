// cgroup v2: one unified hierarchy. umbra-<run> is created under the mount
// root, the controllers it needs are enabled in *its own* subtree_control
// (umbra never changes a cgroup it did not create), and each task gets
// umbra-<run>/<task>. If the root does not pass a controller down, the knob is
// reported unavailable with that reason.
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

export interface CgroupV2Options {
  fs: HostFs;
  mount: string;
  sysRoot: string;
  procRoot: string;
  cpuPeriodUs?: number;
}

const WANTED = ['cpu', 'cpuset', 'io', 'memory'] as const;

export class CgroupV2Backend implements CgroupBackend {
  readonly version = 2 as const;
  readonly ioWeightRange = { min: 1, max: 10000, default: 100 };
  private readonly fs: HostFs;
  private readonly periodUs: number;
  private host: JournaledHost | null = null;
  private runDir: string | null = null;
  private readonly dirs: string[] = [];
  private knobCache: Record<CgroupKnob, KnobStatus> | null = null;

  constructor(private readonly opts: CgroupV2Options) {
    this.fs = opts.fs;
    this.periodUs = opts.cpuPeriodUs ?? 20_000;
  }

  private words(path: string): string[] {
    return (tryReadText(this.fs, path) ?? '').trim().split(/\s+/).filter(Boolean);
  }

  knobs(): Record<CgroupKnob, KnobStatus> {
    if (this.knobCache) return this.knobCache;
    const m = this.opts.mount;
    const offered = this.words(join(m, 'cgroup.controllers'));
    const passed = this.words(join(m, 'cgroup.subtree_control'));
    const ctl = (c: string, file: string): KnobStatus => {
      if (!offered.includes(c)) return { available: false, reason: `cgroup2 at ${m} does not offer the ${c} controller (cgroup.controllers: ${offered.join(' ') || 'empty'})` };
      if (!passed.includes(c)) return { available: false, reason: `${c} is not enabled in ${join(m, 'cgroup.subtree_control')}, and umbra changes only cgroups it created` };
      return { available: true, file };
    };
    const io = ((): KnobStatus => {
      const k = ctl('io', 'io.weight');
      if (!k.available) return k;
      const qos = tryReadText(this.fs, join(m, 'io.cost.qos')) ?? '';
      const eff = ioWeightEffect(this.fs, this.opts.sysRoot, /enable=1/.test(qos));
      return eff.effective ? k : { available: false, reason: eff.reason, file: 'io.weight' };
    })();
    const freezer = this.freezerStatus();
    this.knobCache = {
      cpuset: ctl('cpuset', 'cpuset.cpus'),
      cpuQuota: ctl('cpu', 'cpu.max'),
      freezer,
      ioWeight: io,
      memory: ctl('memory', 'memory.max'),
      cpuStats: { available: true, file: 'cpu.stat' },
    };
    return this.knobCache;
  }

  /** cgroup.freeze (Linux >= 5.2) exists in every non-root group; look at one. */
  private freezerStatus(): KnobStatus {
    const probeDirs = this.runDir ? [this.runDir] : this.fs.list(this.opts.mount).map((n) => join(this.opts.mount, n)).filter((p) => this.fs.isDirectory(p));
    if (probeDirs.length === 0) return { available: true, file: 'cgroup.freeze', reason: 'assumed from cgroup2 (no child group to confirm cgroup.freeze)' };
    if (probeDirs.some((d) => this.fs.exists(join(d, 'cgroup.freeze')))) return { available: true, file: 'cgroup.freeze' };
    return { available: false, reason: 'cgroup.freeze is missing (kernel older than 5.2)' };
  }

  open(runName: string, host: JournaledHost): void {
    this.host = host;
    const dir = join(this.opts.mount, safeGroupName(runName));
    host.mkdir(dir, 'cgroup');
    this.runDir = dir;
    this.dirs.push(dir);
    this.knobCache = null;
    const k = this.knobs();
    const need: Record<(typeof WANTED)[number], boolean> = {
      cpu: k.cpuQuota.available,
      cpuset: k.cpuset.available,
      io: k.ioWeight.available,
      memory: k.memory.available,
    };
    for (const c of WANTED) if (need[c]) host.write(join(dir, 'cgroup.subtree_control'), `+${c}`);
  }

  setRunCpuWeight(weight: number): void {
    if (!this.host || !this.runDir) throw new Error('cgroup backend used before open()');
    if (!this.knobs().cpuQuota.available) throw new UnsupportedKnobError('cpuQuota', this.knobs().cpuQuota.reason ?? 'no cpu controller');
    this.host.write(join(this.runDir, 'cpu.weight'), String(Math.min(10000, Math.max(1, Math.round(weight)))));
  }

  createTaskGroup(taskName: string, opts: { memory?: boolean } = {}): TaskCgroup {
    const host = this.host;
    if (!host || !this.runDir) throw new Error('cgroup backend used before open()');
    if (opts.memory && !this.knobs().memory.available) throw new UnsupportedKnobError('memory', this.knobs().memory.reason ?? 'memory unavailable');
    const dir = join(this.runDir, safeGroupName(taskName));
    host.mkdir(dir, 'cgroup');
    this.dirs.push(dir);
    return new V2TaskGroup(taskName, this, host, dir, this.periodUs);
  }

  createdDirs(): string[] {
    return [...this.dirs];
  }

  /** @internal */ require(k: CgroupKnob): void {
    const s = this.knobs()[k];
    if (!s.available) throw new UnsupportedKnobError(k, s.reason ?? `${k} is unavailable`);
  }

  /** @internal */ get fsAccess(): HostFs {
    return this.fs;
  }

  /** @internal */ get mount(): string {
    return this.opts.mount;
  }

  /** @internal */ get procRoot(): string {
    return this.opts.procRoot;
  }
}

class V2TaskGroup implements TaskCgroup {
  // control-file paths the loop reads or writes every period or throttle,
  // built once (a path join is a measurable share of a cold loop tick)
  private readonly cpuMaxFile: string;
  private readonly cpuStatFile: string;
  private readonly memoryFile: string;
  private readonly ioStatFile: string;

  constructor(
    readonly name: string,
    private readonly backend: CgroupV2Backend,
    private readonly host: JournaledHost,
    private readonly dir: string,
    private readonly periodUs: number,
  ) {
    this.cpuMaxFile = join(dir, 'cpu.max');
    this.cpuStatFile = join(dir, 'cpu.stat');
    this.memoryFile = join(dir, 'memory.current');
    this.ioStatFile = join(dir, 'io.stat');
  }

  attach(pid: number): void {
    const path = readProcCgroups(this.backend.procRoot, pid).get('');
    const back = path === undefined ? null : join(this.backend.mount, path, 'cgroup.procs');
    this.host.attach(pid, join(this.dir, 'cgroup.procs'), back);
  }

  setCpus(cores: number[]): void {
    this.backend.require('cpuset');
    this.host.write(join(this.dir, 'cpuset.cpus'), formatCpuList(cores));
  }

  setCpuQuota(pct: number, nCores: number): void {
    this.backend.require('cpuQuota');
    const quota = cpuQuotaUs(pct, nCores, this.periodUs);
    this.host.write(this.cpuMaxFile, `${quota === null ? 'max' : quota} ${this.periodUs}`);
  }

  setFrozen(frozen: boolean): void {
    this.backend.require('freezer');
    const path = join(this.dir, 'cgroup.freeze');
    if (frozen) this.host.freeze(path, '1', '0');
    else this.host.write(path, '0');
  }

  isFrozen(): boolean {
    const fs = this.backend.fsAccess;
    const events = tryReadText(fs, join(this.dir, 'cgroup.events'));
    const m = events ? /^frozen\s+(\d)/m.exec(events) : null;
    if (m) return m[1] === '1';
    return tryReadText(fs, join(this.dir, 'cgroup.freeze'))?.trim() === '1';
  }

  setIoWeight(weight: number): void {
    this.backend.require('ioWeight');
    this.host.write(join(this.dir, 'io.weight'), `default ${Math.round(weight)}`);
  }

  setMemoryLimit(bytes: number | null): void {
    this.backend.require('memory');
    this.host.write(join(this.dir, 'memory.max'), bytes === null ? 'max' : String(Math.floor(bytes)));
  }

  cpuUsageCounter(): { path: string; nsPerUnit: number } {
    // cpu.stat starts with "usage_usec N", so its first integer is the usage.
    return { path: this.cpuStatFile, nsPerUnit: 1000 };
  }

  stats(o: { cpu?: boolean } = {}): CgroupStats {
    const fs = this.backend.fsAccess;
    const out: CgroupStats = {};
    const cpu = o.cpu === false ? undefined : tryReadTextKeepOpen(fs, this.cpuStatFile);
    const u = cpu ? /^usage_usec\s+(\d+)/m.exec(cpu) : null;
    if (u) out.cpuUsageNs = Number(u[1]) * 1000;
    const mem = tryReadTextKeepOpen(fs, this.memoryFile);
    if (mem !== undefined) out.memoryBytes = firstUnsignedInt(mem);
    const io = tryReadTextKeepOpen(fs, this.ioStatFile);
    if (io !== undefined) {
      let sum = 0;
      for (const m of io.matchAll(/\b[rw]bytes=(\d+)/g)) sum += Number(m[1]);
      out.ioBytes = sum;
    }
    return out;
  }

  pids(): number[] {
    // A fresh open each time, as in v1 (whose cgroup.procs kept open would
    // re-serve a cached list); listing members is rare enough not to matter.
    const t = tryReadText(this.backend.fsAccess, join(this.dir, 'cgroup.procs')) ?? '';
    return t.split(/\s+/).filter(Boolean).map(Number);
  }
}
