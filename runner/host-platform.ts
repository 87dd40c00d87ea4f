// HostPlatform: the Platform contract on a real Linux host.
//
//   observe()  perf counters (one batched read), cgroup CPU counters (one
//              batched read), /proc and cgroup memory/IO and resctrl CMT/MBM
//              (every slowStatsPeriodNs), and each first-class service's
//              measured latency window.
//   apply()    cpusets or sched_setaffinity, CFS quota, freezer, IO weight,
//              resctrl CAT masks and MBA, warm-up and echo probes. What the
//              host cannot do is refused with the reason, as the simulator does.
//   advance()  sleeps on the monotonic clock.
//
// Every change goes through the journal first; close() (and any exit path,
// via safety/cleanup-hooks) thaws, stops the processes, and removes every
// group. Construct with startHostPlatform(options) (runner/host-setup.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  Action, ApplyResult, Capabilities, EchoResult, Platform, RefusedAction, ResourceGrant, Snapshot, TaskSample,
} from '../policies/platform.js';
import type { UmbraNative } from '../native/addon.js';
import { rngFor } from '../util/rng.js';
import type { CgroupBackend } from './cgroup/cgroup-backend.js';
import { tryReadTextKeepOpen, type HostFs } from './fs/host-fs.js';
import type { HostPaths } from './host-paths.js';
import type { HostTask } from './host-task.js';
import { attachTree } from './cgroup/attach-tree.js';
import type { Journal } from './journal/journal.js';
import type { JournaledHost } from './journal/journaled-host.js';
import type { RestoreReport } from './journal/restore.js';
import { PERF_EVENT_INDEX as EV, type PerfCounters } from './perf/perf-counters.js';
import { readProcIoBytes, readProcMaps, readProcRssBytes, readProcStat, readProcStatus, threadIds, processTree, USER_HZ } from './process/procfs.js';
import { catMaskProblem, fullMask } from './resctrl/cat-mask.js';
import type { ResctrlGroups } from './resctrl/resctrl-groups.js';
import type { ResctrlInfo } from './resctrl/resctrl-info.js';
import { frozenAllocation, frozenReservation } from '../util/snapshot-views.js';

export interface HostRuntime {
  paths: HostPaths;
  fs: HostFs;
  addon: UmbraNative | null;
  journal: Journal;
  host: JournaledHost;
  backend: CgroupBackend | null;
  /** Why there is no cgroup backend (null when there is one). */
  cgroupReason: string | null;
  resctrlInfo: ResctrlInfo;
  resctrl: ResctrlGroups | null;
  perf: PerfCounters;
  tasks: HostTask[];
  coreIds: number[];
  capabilities: Capabilities;
  seed: number | string;
  slowStatsPeriodNs: number;
  /** How advance() sleeps: see advance(). */
  sleepMode: 'auto' | 'timer' | 'native';
  maxEchoNs: number;
  killGraceMs: number;
  /** Called once by close() after the journal restore (unregister hooks, remove scratch). */
  onClosed: () => void;
}

const monoNs = () => Number(process.hrtime.bigint());

class Refusal extends Error {}

/**
 * perf may lag the cgroup counter by this share plus this slack before it
 * counts as short. The slack covers the cgroup's own lag: a running thread's
 * time reaches cpuacct only at the scheduler tick (up to 4 ms at HZ=250), so
 * the baseline and a later reading can each be a tick behind per running
 * thread. A thread that escaped counting and uses more than 2% of the task's
 * CPU shows within a few rounds.
 */
const CPU_CHECK_TOLERANCE = 0.02;
const CPU_CHECK_SLACK_NS = 10_000_000;
/** Actions that can change what is free (cores, ways, reservations); a throttle or a pause does not. */
const CHANGES_FREE_POOL = new Set<Action['kind']>(['setCores', 'migrate', 'setCacheWays', 'reserve', 'release']);

/**
 * Tasks whose slow statistics one observe reads at most (more when the period
 * needs it). The first reads of a round pay for caches gone cold during the
 * loop's 10 ms sleep, so rounds of several tasks cost less per task: on this
 * VM, for 16 tasks at a 1 s period, a task's statistics took 78 us of thread
 * CPU on average read two per round and 35-39 us read sixteen per round, and
 * the statistics' share of a tick fell from 15-20 to 7-12 us. Eight per round
 * keeps most of that gain and bounds the tick that pays for a round.
 */
const SLOW_STATS_ROUND_TASKS = 8;

/** Slow-stats rounds between listings of a task's processes (see readSlowStats). */
const PID_LIST_ROUNDS = 5;

export class HostPlatform implements Platform {
  private readonly t0 = monoNs();
  private lastObserveNs = -1;
  private freeCache: Snapshot['free'] | null = null;
  private exitedSeen = 0;
  private slowCursor = 0;
  /** The earliest nextSlowNs of any task. */
  private slowDueNs = 0;
  private readonly byId = new Map<string, HostTask>();
  private cpuFds = new Int32Array(0);
  private cpuOut = new Float64Array(0);
  private cpuNsPerUnit: number[] = [];
  private readonly checkFd = new Int32Array(1);
  private readonly checkOut = new Float64Array(1);
  /** Whether any task has hardware counters (else observe skips looking for them). */
  private readonly hardwareCounted: boolean;
  /** Why tasks changed CPU source during the run (see crossCheckCpu). */
  readonly cpuSourceNotes: string[] = [];
  private readonly echoes: EchoResult[] = [];
  private readonly inflight = new Set<Promise<unknown>>();
  private closing: Promise<RestoreReport> | null = null;
  /** Warm-ups and echoes that failed after being accepted (reported, never thrown). */
  readonly backgroundErrors: string[] = [];

  /**
   * /proc/<pid> files re-read every slow-stats round, through descriptors kept
   * open: bound to the process first listed, never reopened by path (the pid
   * may belong to another process by then); a gone one reads as undefined.
   */
  private readonly readKept = (path: string) => tryReadTextKeepOpen(this.rt.fs, path, { reopen: false });

  /** @internal use startHostPlatform() (runner/host-setup.ts). */
  constructor(readonly rt: HostRuntime) {
    for (const t of rt.tasks) this.byId.set(t.spec.id, t);
    this.hardwareCounted = rt.tasks.some((t) => rt.perf.counts(t.slot, 'instructions') || rt.perf.counts(t.slot, 'cycles'));
    this.openCpuCounters();
  }

  /**
   * Choose each task's per-tick CPU source (see HostTask.cpuSource) and keep
   * its cgroup CPU counter open for the cross-check.
   */
  private openCpuCounters(): void {
    for (const t of this.rt.tasks) {
      const c = t.cgroup?.cpuUsageCounter();
      if (c) {
        try {
          t.cgroupCpuFd = this.rt.fs.openCounter(c.path);
          t.cgroupCpuNsPerUnit = c.nsPerUnit;
        } catch {
          t.cgroupCpuFd = -1;
        }
      }
      t.cpuSource = this.rt.perf.counts(t.slot, 'taskClock') ? 'perf' : t.cgroupCpuFd >= 0 ? 'cgroup' : 'proc';
    }
    this.rebuildCpuCounters();
  }

  /** The per-tick batch of cgroup CPU counters: tasks whose source is 'cgroup'. */
  private rebuildCpuCounters(): void {
    const fds: number[] = [];
    this.cpuNsPerUnit = [];
    for (const t of this.rt.tasks) {
      t.cpuCounter = -1;
      if (t.cpuSource !== 'cgroup') continue;
      t.cpuCounter = fds.length;
      fds.push(t.cgroupCpuFd);
      this.cpuNsPerUnit.push(t.cgroupCpuNsPerUnit);
    }
    this.cpuFds = Int32Array.from(fds);
    this.cpuOut = new Float64Array(fds.length);
  }

  /** Each task's per-tick CPU source, by task id (for reports and tests). */
  cpuSources(): Record<string, HostTask['cpuSource']> {
    return Object.fromEntries(this.rt.tasks.map((t) => [t.spec.id, t.cpuSource]));
  }

  /**
   * A task counted by perf is checked against its cgroup's counter: a thread
   * that existed before counting began and was missed (it appeared between
   * listing the threads and opening the counters) shows as perf falling
   * behind, and the task then switches to the cgroup counter for good,
   * continuing from the value it had.
   */
  private crossCheckCpu(task: HostTask): void {
    if (task.cpuSource !== 'perf' || task.cgroupCpuFd < 0) return;
    this.checkFd[0] = task.cgroupCpuFd;
    this.rt.fs.readCounters(this.checkFd, this.checkOut);
    const cgroupNs = this.checkOut[0] * task.cgroupCpuNsPerUnit;
    if (!Number.isFinite(cgroupNs)) return;
    const perfNs = this.rt.perf.value(task.slot, 'taskClock');
    let why: string;
    if (perfNs === undefined) {
      why = 'perf task-clock stopped reading';
    } else if (!task.cpuCheckBase) {
      task.cpuCheckBase = { cgroupNs, perfNs };
      return;
    } else {
      const dCgroup = cgroupNs - task.cpuCheckBase.cgroupNs;
      const dPerf = perfNs - task.cpuCheckBase.perfNs;
      if (dCgroup <= dPerf * (1 + CPU_CHECK_TOLERANCE) + CPU_CHECK_SLACK_NS) return;
      why = `perf task-clock counted ${(dPerf / 1e6).toFixed(1)} ms of CPU where the cgroup counted ${(dCgroup / 1e6).toFixed(1)} ms`;
    }
    // Continue from the value reached so far: no jump in cpuTimeNs.
    task.cpuOffsetNs = Math.max(task.cpuTimeNs, (perfNs ?? -Infinity) + task.cpuOffsetNs) - cgroupNs;
    task.cpuSource = 'cgroup';
    this.cpuSourceNotes.push(`${task.spec.id}: ${why}; reading the cgroup counter from now on`);
    this.rebuildCpuCounters();
  }

  capabilities(): Capabilities {
    return this.rt.capabilities;
  }

  now(): number {
    return monoNs() - this.t0;
  }

  tasks(): readonly HostTask[] {
    return this.rt.tasks;
  }

  // -------------------------------------------------------------------------
  // observe
  // -------------------------------------------------------------------------

  observe(): Snapshot {
    const t = this.now();
    const windowNs = this.lastObserveNs < 0 ? 0 : t - this.lastObserveNs;
    this.lastObserveNs = t;
    const { perf, fs } = this.rt;
    perf.readAll();
    if (this.cpuFds.length) fs.readCounters(this.cpuFds, this.cpuOut);
    this.refreshSlowStats(t, windowNs);
    const secs = windowNs / 1e9;
    const samples: TaskSample[] = [];
    let exited = 0;
    for (const task of this.rt.tasks) {
      let cpu = NaN;
      const pv = perf.valuesOf(task.slot);
      if (task.cpuSource === 'perf') cpu = pv ? pv[EV.taskClock] : NaN;
      else if (task.cpuCounter >= 0) cpu = this.cpuOut[task.cpuCounter] * this.cpuNsPerUnit[task.cpuCounter];
      cpu += task.cpuOffsetNs;
      if (Number.isFinite(cpu) && cpu >= task.cpuTimeNs) task.cpuTimeNs = cpu;
      const cpuCores = secs > 0 ? Math.max(0, task.cpuTimeNs - task.lastCpuTimeNs) / windowNs : 0;
      task.lastCpuTimeNs = task.cpuTimeNs;
      if (task.proc.exited) exited++;
      // Allocation and reservation arrays are rebuilt only after apply() touched
      // the task, and shared (frozen) between snapshots until then: the 10 ms
      // loop should not copy what has not changed (util/snapshot-views.ts).
      const view = (task.view ??= this.buildView(task));
      const hw = pv && this.hardwareCounted ? pv : null;
      const w = task.loadgen ? task.loadgen.takeWindow() : null;
      let progressPerSec: number | undefined;
      if (task.reportsProgress) {
        progressPerSec = secs > 0 ? (task.progressUnits - task.lastProgressUnits) / secs : 0;
        task.lastProgressUnits = task.progressUnits;
      }
      // One object literal with every field, those the host does not measure
      // left undefined (absent in JSON): fields added one by one afterwards
      // gave each sample a chain of shapes to go through on every tick.
      const s: TaskSample = {
        id: task.spec.id,
        class: task.spec.class,
        state: task.proc.exited ? 'exited' : task.alloc.paused ? 'paused' : 'running',
        cpuTimeNs: task.cpuTimeNs,
        cpuCores,
        instructions: hw && !Number.isNaN(hw[EV.instructions]) ? hw[EV.instructions] : undefined,
        cycles: hw && !Number.isNaN(hw[EV.cycles]) ? hw[EV.cycles] : undefined,
        llcAccesses: hw && !Number.isNaN(hw[EV.llcAccesses]) ? hw[EV.llcAccesses] : undefined,
        llcMisses: hw && !Number.isNaN(hw[EV.llcMisses]) ? hw[EV.llcMisses] : undefined,
        llcOccupancyBytes: task.llcOccupancyBytes,
        memBandwidthBytesPerSec: task.memBandwidthBytesPerSec,
        rssBytes: task.rssBytes,
        ioBytes: task.ioBytes,
        allocation: view.allocation,
        reserved: view.reserved,
        progressPerSec,
        latency: w
          ? {
              requests: w.requests,
              p50Ns: w.p50Ns,
              p95Ns: w.p95Ns,
              p99Ns: w.p99Ns,
              meanNs: w.meanNs,
              sloP99Ns: task.spec.sloP99Ns ?? 5_000_000,
              offeredRps: w.offeredRps,
              completedRps: w.completedRps,
              queueLength: w.queueLength,
            }
          : undefined,
      };
      samples.push(s);
    }
    if (exited !== this.exitedSeen) {
      this.exitedSeen = exited;
      this.freeCache = null;
    }
    const echoes = this.echoes.splice(0, this.echoes.length);
    const free = (this.freeCache ??= Object.freeze(this.freePool()) as Snapshot['free']);
    return { timeNs: t, windowNs, tasks: samples, echoes, free };
  }

  /**
   * Memory, IO and resctrl monitoring change slowly and cost file reads per
   * process, so each task is refreshed every slowStatsPeriodNs, in rounds of
   * up to SLOW_STATS_ROUND_TASKS due tasks (so no tick pays for all of a
   * large run's tasks at once).
   */
  private refreshSlowStats(t: number, windowNs: number): void {
    const tasks = this.rt.tasks;
    const period = this.rt.slowStatsPeriodNs;
    const first = windowNs === 0;
    // Most ticks have nothing due: skip without touching every task.
    if (!first && t < this.slowDueNs) return;
    let budget = first ? tasks.length : Math.max(SLOW_STATS_ROUND_TASKS, Math.ceil((tasks.length * windowNs) / period) + 1);
    for (let k = 0; k < tasks.length && budget > 0; k++) {
      const task = tasks[(this.slowCursor + k) % tasks.length];
      if (task.nextSlowNs > t) continue;
      this.readSlowStats(task, t);
      task.nextSlowNs = t + period;
      budget--;
    }
    this.slowCursor = (this.slowCursor + 1) % Math.max(1, tasks.length);
    let due = Infinity;
    for (const task of tasks) if (task.nextSlowNs < due) due = task.nextSlowNs;
    this.slowDueNs = due;
  }

  /** Memory, IO, resctrl monitoring and the /proc CPU fallback for one task. */
  private readSlowStats(task: HostTask, t: number): void {
    const procRoot = this.rt.paths.procRoot;
    if (task.proc.exited) return;
    // Stragglers: processes the task forked while it was being moved in
    // (checked in the first few rounds only; see HostTask.stragglerChecksLeft).
    if (task.cgroup && task.stragglerChecksLeft > 0) {
      attachTree(task.cgroup, procRoot, task.proc.pid, task.attachedPids);
      task.stragglerChecksLeft--;
    }
    // The task's processes, listed only when a /proc fallback needs them, and
    // then every PID_LIST_ROUNDS rounds or when one of them has gone: listing
    // a v1 cgroup's members costs as much as the two /proc reads per process
    // together, and a task's process tree rarely changes (a new child's
    // memory, IO and /proc CPU time show up after the next listing). Each
    // listed process is read through descriptors opened when it was listed
    // (readKept), so a pid reused meanwhile is never read as ours.
    const pidsOf = () => {
      if (!task.pidList || task.pidListAgeRounds >= PID_LIST_ROUNDS) {
        task.pidList = task.cgroup ? task.cgroup.pids() : processTree(procRoot, task.proc.pid);
        task.pidListAgeRounds = 0;
      }
      return task.pidList;
    };
    task.pidListAgeRounds++;
    const gone = () => {
      task.pidListAgeRounds = PID_LIST_ROUNDS;
      return undefined;
    };
    const st = task.cgroup?.stats({ cpu: false }) ?? {};
    if (st.memoryBytes !== undefined) task.rssBytes = st.memoryBytes;
    else {
      let rss = 0;
      const page = this.rt.addon?.pageSizeBytes;
      for (const p of pidsOf()) rss += (page ? readProcRssBytes(procRoot, p, page, this.readKept) : readProcStatus(procRoot, p, this.readKept)?.rssBytes) ?? gone() ?? 0;
      task.rssBytes = rss;
    }
    if (st.ioBytes !== undefined) task.ioBytes = st.ioBytes;
    else {
      let io = 0;
      for (const p of pidsOf()) io += readProcIoBytes(procRoot, p, this.readKept) ?? gone() ?? 0;
      // Bytes of processes that exited are gone from /proc; keep the total monotone.
      task.ioBytes = Math.max(task.ioBytes ?? 0, io);
    }
    this.crossCheckCpu(task);
    if (task.cpuSource === 'proc') {
      let ticks = 0;
      for (const p of pidsOf()) {
        const s = readProcStat(procRoot, p, this.readKept);
        if (s) ticks += s.userTicks + s.systemTicks;
        else gone();
      }
      task.cpuTimeNs = Math.max(task.cpuTimeNs, (ticks * 1e9) / USER_HZ);
    }
    if (this.rt.resctrl) {
      const m = this.rt.resctrl.read(task.spec.id);
      if (m.llcOccupancyBytes !== undefined) task.llcOccupancyBytes = m.llcOccupancyBytes;
      if (m.mbmTotalBytes !== undefined) {
        if (task.memTotalBytes !== undefined && task.lastMemSampleNs !== undefined && t > task.lastMemSampleNs) {
          task.memBandwidthBytesPerSec = (Math.max(0, m.mbmTotalBytes - task.memTotalBytes) * 1e9) / (t - task.lastMemSampleNs);
        }
        task.memTotalBytes = m.mbmTotalBytes;
        task.lastMemSampleNs = t;
      }
    }
  }

  private buildView(task: HostTask): NonNullable<HostTask['view']> {
    const allocation = frozenAllocation(task.alloc);
    const reserved = frozenReservation({ cores: [...task.reserved.cores].sort((a, b) => a - b), cacheWayMask: task.reserved.cacheWayMask, bankColours: [], memBandwidthPct: task.reserved.memBandwidthPct, ioWeight: task.reserved.ioWeight });
    return { allocation, reserved };
  }

  /** The ways a task may fill: its mask, or all of them when unrestricted (0). */
  private effectiveMask(t: HostTask): number {
    const cat = this.rt.resctrlInfo.cat;
    if (!cat) return 0;
    return t.alloc.cacheWayMask === 0 ? fullMask(cat.totalWays) : t.alloc.cacheWayMask;
  }

  private freePool(): Snapshot['free'] {
    const used = new Set<number>();
    let ways = 0;
    for (const t of this.rt.tasks) {
      if (t.proc.exited) continue;
      for (const c of t.alloc.cores) used.add(c);
      for (const c of t.reserved.cores) used.add(c);
      ways |= this.effectiveMask(t) | t.reserved.cacheWayMask;
    }
    const cat = this.rt.resctrlInfo.cat;
    return {
      cores: this.rt.coreIds.filter((c) => !used.has(c)),
      cacheWayMask: cat ? fullMask(cat.totalWays) & ~ways : 0,
      bankColours: [],
    };
  }

  // -------------------------------------------------------------------------
  // apply
  // -------------------------------------------------------------------------

  apply(actions: Action[]): ApplyResult {
    const applied: Action[] = [];
    const refused: RefusedAction[] = [];
    for (const a of actions) {
      // Whatever happens, this task's views and the free pool are rebuilt at the next observe.
      const touched = this.byId.get(a.task);
      if (touched) touched.view = null;
      if (CHANGES_FREE_POOL.has(a.kind)) this.freeCache = null;
      try {
        if (this.closing) throw new Refusal('the platform is closing');
        this.applyOne(a);
        applied.push(a);
      } catch (err) {
        refused.push({ action: a, reason: err instanceof Error ? err.message : String(err) });
      }
    }
    return { applied, refused };
  }

  private task(id: string): HostTask {
    const t = this.byId.get(id);
    if (!t) throw new Refusal(`unknown task "${id}"`);
    if (t.proc.exited) throw new Refusal(`task "${id}" has exited`);
    return t;
  }

  private applyOne(a: Action): void {
    const t = this.task(a.task);
    switch (a.kind) {
      case 'setCores':
      case 'migrate':
        return this.setCores(t, a.cores);
      case 'setCacheWays':
        return this.setCacheWays(t, a.mask);
      case 'setMemBandwidth':
        return this.setMemBandwidth(t, a.pct);
      case 'setBankColours':
        throw new Refusal('DRAM bank colours need page colouring, which a real host does not offer');
      case 'setIoWeight':
        return this.setIoWeight(t, a.weight);
      case 'pause':
        return this.setPaused(t, true);
      case 'resume':
        return this.setPaused(t, false);
      case 'throttle':
        return this.throttle(t, a.cpuPct);
      case 'reserve':
        return this.reserve(t, a.grant);
      case 'release':
        return this.release(t, a.grant);
      case 'warm':
        return this.warm(t, a.budgetNs);
      case 'echo':
        return this.echo(t, a.durationNs);
    }
  }

  private noCgroup(): string {
    return this.rt.cgroupReason ?? 'no cgroup backend';
  }

  private ownersOf(cores: number[], except: HostTask): string[] {
    const out: string[] = [];
    for (const o of this.rt.tasks) {
      if (o === except || o.proc.exited) continue;
      if (cores.some((c) => o.reserved.cores.has(c))) out.push(o.spec.id);
    }
    return out;
  }

  private setCores(t: HostTask, cores: number[]): void {
    const uniq = [...new Set(cores)].sort((a, b) => a - b);
    if (uniq.length === 0) throw new Refusal('a task needs at least one core');
    const bad = uniq.filter((c) => !this.rt.coreIds.includes(c));
    if (bad.length) throw new Refusal(`core(s) ${bad.join(',')} are not available to this run (cores: ${this.rt.coreIds.join(',')})`);
    const owners = this.ownersOf(uniq, t);
    if (owners.length) throw new Refusal(`core(s) reserved by ${owners.join(', ')}`);
    const k = this.rt.backend?.knobs().cpuset;
    if (t.cgroup && k?.available) {
      t.cgroup.setCpus(uniq);
    } else if (this.rt.addon) {
      this.setAffinityTree(t, uniq);
    } else {
      throw new Refusal(`cannot set cores: ${k?.reason ?? this.noCgroup()} and no native sched_setaffinity`);
    }
    t.alloc.cores = uniq;
    // The quota is a share of the task's cores: keep the same share.
    if (t.alloc.cpuQuotaPct < 100 && t.cgroup && this.rt.backend?.knobs().cpuQuota.available) t.cgroup.setCpuQuota(t.alloc.cpuQuotaPct, uniq.length);
  }

  private setAffinityTree(t: HostTask, cores: number[]): void {
    const addon = this.rt.addon as UmbraNative;
    const procRoot = this.rt.paths.procRoot;
    for (const pid of processTree(procRoot, t.proc.pid)) {
      for (const tid of threadIds(procRoot, pid)) {
        const before = addon.getAffinity(tid);
        if (!before.ok) continue;
        this.rt.host.affinity(tid, before.cpus ?? [], () => {
          const r = addon.setAffinity(tid, cores);
          if (!r.ok && r.errno !== 3) throw new Refusal(`sched_setaffinity(${tid}) failed: ${r.error}`);
        });
      }
    }
  }

  private catRules() {
    const cat = this.rt.resctrlInfo.cat;
    if (!cat) throw new Refusal(`cache ways: ${this.rt.resctrlInfo.catReason ?? this.rt.resctrlInfo.reason ?? 'resctrl CAT unavailable'}`);
    return cat;
  }

  private tids(t: HostTask): number[] {
    const procRoot = this.rt.paths.procRoot;
    const pids = t.cgroup ? t.cgroup.pids() : processTree(procRoot, t.proc.pid);
    return pids.flatMap((p) => threadIds(procRoot, p));
  }

  private setCacheWays(t: HostTask, mask: number): void {
    const cat = this.catRules();
    if (mask !== 0) {
      const problem = catMaskProblem(mask, { totalWays: cat.totalWays, minWays: cat.minWays, sparseAllowed: cat.sparseAllowed });
      if (problem) throw new Refusal(problem);
    }
    // Mask 0 means every way, reserved ones included.
    const effective = mask === 0 ? fullMask(cat.totalWays) : mask;
    for (const o of this.rt.tasks) {
      if (o !== t && !o.proc.exited && (o.reserved.cacheWayMask & effective) !== 0) throw new Refusal(`way(s) 0x${(o.reserved.cacheWayMask & effective).toString(16)} are reserved by ${o.spec.id}`);
    }
    (this.rt.resctrl as ResctrlGroups).setCacheMask(t.spec.id, mask, this.tids(t));
    t.alloc.cacheWayMask = mask;
  }

  private setMemBandwidth(t: HostTask, pct: number): void {
    if (!this.rt.resctrlInfo.mba || !this.rt.resctrl) throw new Refusal(`memory bandwidth: ${this.rt.resctrlInfo.mbaReason ?? this.rt.resctrlInfo.reason ?? 'MBA unavailable'}`);
    this.rt.resctrl.setMemBandwidthPct(t.spec.id, pct, this.tids(t));
    t.alloc.memBandwidthPct = pct;
  }

  private setIoWeight(t: HostTask, weight: number): void {
    const b = this.rt.backend;
    const k = b?.knobs().ioWeight;
    if (!b || !t.cgroup || !k?.available) throw new Refusal(`io weight: ${k?.reason ?? this.noCgroup()}`);
    const r = b.ioWeightRange;
    if (!(Number.isInteger(weight) && weight >= r.min && weight <= r.max)) throw new Refusal(`io weight must be an integer in [${r.min}, ${r.max}], got ${weight}`);
    t.cgroup.setIoWeight(weight);
    t.alloc.ioWeight = weight;
  }

  private setPaused(t: HostTask, paused: boolean): void {
    const k = this.rt.backend?.knobs().freezer;
    if (!t.cgroup || !k?.available) throw new Refusal(`pause/resume: ${k?.reason ?? this.noCgroup()}`);
    if (t.echoBusy) throw new Refusal('an echo probe of this task is running; retry after it ends');
    t.cgroup.setFrozen(paused);
    t.alloc.paused = paused;
  }

  private throttle(t: HostTask, cpuPct: number): void {
    const k = this.rt.backend?.knobs().cpuQuota;
    if (!t.cgroup || !k?.available) throw new Refusal(`throttle: ${k?.reason ?? this.noCgroup()}`);
    if (!(cpuPct > 0 && cpuPct <= 100)) throw new Refusal(`throttle cpuPct must be in (0, 100], got ${cpuPct}`);
    if (t.echoBusy) throw new Refusal('an echo probe of this task is running; retry after it ends');
    try {
      t.cgroup.setCpuQuota(cpuPct, t.alloc.cores.length);
    } catch (err) {
      if (err instanceof RangeError) throw new Refusal(err.message);
      throw err;
    }
    t.alloc.cpuQuotaPct = cpuPct;
  }

  /** Units other tasks hold (reserved, or in their cpuset / way mask). */
  private heldByOthers(t: HostTask): { cores: Set<number>; ways: number; owners: (c: number) => string[] } {
    const cores = new Set<number>();
    let ways = 0;
    for (const o of this.rt.tasks) {
      if (o === t || o.proc.exited) continue;
      for (const c of o.alloc.cores) cores.add(c);
      for (const c of o.reserved.cores) cores.add(c);
      ways |= this.effectiveMask(o) | o.reserved.cacheWayMask;
    }
    const owners = (c: number) =>
      this.rt.tasks.filter((o) => o !== t && !o.proc.exited && (o.alloc.cores.includes(c) || o.reserved.cores.has(c))).map((o) => o.spec.id);
    return { cores, ways, owners };
  }

  // Reservations follow the contract in policies/platform.ts: a reserved unit
  // is exclusive to the task (no other task may hold it in its cpuset or
  // mask, before or after), it is held but unused until an allocation action
  // includes it, and it stays reserved after that until `release`.
  private reserve(t: HostTask, g: ResourceGrant): void {
    switch (g.resource) {
      case 'cores': {
        if (g.cores.length === 0) throw new Refusal('reserve of no cores');
        const bad = g.cores.filter((c) => !this.rt.coreIds.includes(c));
        if (bad.length) throw new Refusal(`core(s) ${bad.join(',')} are not available to this run (cores: ${this.rt.coreIds.join(',')})`);
        const held = this.heldByOthers(t);
        const taken = g.cores.filter((c) => held.cores.has(c));
        if (taken.length) throw new Refusal(`core(s) ${taken.join(',')} are held by ${[...new Set(taken.flatMap(held.owners))].join(', ')}`);
        for (const c of g.cores) t.reserved.cores.add(c);
        return;
      }
      case 'cacheWays': {
        const cat = this.catRules();
        const problem = catMaskProblem(g.mask, { totalWays: cat.totalWays, minWays: 1, sparseAllowed: true });
        if (problem) throw new Refusal(problem);
        const held = this.heldByOthers(t).ways;
        if ((g.mask & held) !== 0) throw new Refusal(`way(s) 0x${(g.mask & held).toString(16)} are held by other tasks`);
        t.reserved.cacheWayMask |= g.mask;
        return;
      }
      case 'memBandwidthPct': {
        if (!this.rt.resctrlInfo.mba) throw new Refusal(`memory bandwidth: ${this.rt.resctrlInfo.mbaReason ?? this.rt.resctrlInfo.reason}`);
        const total = this.rt.tasks.reduce((s, o) => s + (o === t ? 0 : o.reserved.memBandwidthPct), 0);
        if (!(g.pct > 0) || total + g.pct > 100) throw new Refusal(`cannot reserve ${g.pct}% bandwidth: ${100 - total}% is unreserved`);
        t.reserved.memBandwidthPct = g.pct;
        return;
      }
      case 'ioWeight': {
        const b = this.rt.backend;
        const k = b?.knobs().ioWeight;
        if (!b || !k?.available) throw new Refusal(`io weight: ${k?.reason ?? this.noCgroup()}`);
        const r = b.ioWeightRange;
        if (!(Number.isInteger(g.weight) && g.weight >= r.min && g.weight <= r.max)) throw new Refusal(`io weight must be an integer in [${r.min}, ${r.max}], got ${g.weight}`);
        t.reserved.ioWeight = g.weight;
        return;
      }
      case 'bankColours':
        throw new Refusal('DRAM bank colours need page colouring, which a real host does not offer');
    }
  }

  /** End the reservation of these units and take them out of the allocation too. */
  private release(t: HostTask, g: ResourceGrant): void {
    switch (g.resource) {
      case 'cores': {
        const notHeld = g.cores.filter((c) => !t.reserved.cores.has(c) && !t.alloc.cores.includes(c));
        if (notHeld.length) throw new Refusal(`task does not hold core(s) ${notHeld.join(',')}`);
        const left = t.alloc.cores.filter((c) => !g.cores.includes(c));
        if (left.length === 0) throw new Refusal('releasing these cores would leave the task with none');
        if (left.length !== t.alloc.cores.length) this.setCores(t, left);
        for (const c of g.cores) t.reserved.cores.delete(c);
        return;
      }
      case 'cacheWays': {
        const held = t.reserved.cacheWayMask | t.alloc.cacheWayMask;
        if ((g.mask & ~held) !== 0) throw new Refusal(`task does not hold way(s) 0x${(g.mask & ~held).toString(16)}`);
        if (t.alloc.cacheWayMask !== 0 && (t.alloc.cacheWayMask & g.mask) !== 0) {
          const left = t.alloc.cacheWayMask & ~g.mask;
          if (left === 0) throw new Refusal('releasing these ways would leave the task with none');
          this.setCacheWays(t, left);
        }
        t.reserved.cacheWayMask &= ~g.mask;
        return;
      }
      case 'memBandwidthPct':
        if (t.reserved.memBandwidthPct <= 0) throw new Refusal('no memory bandwidth is reserved for this task');
        t.reserved.memBandwidthPct = 0;
        return;
      case 'ioWeight':
        if (t.reserved.ioWeight <= 0) throw new Refusal('no io weight is reserved for this task');
        t.reserved.ioWeight = 0;
        return;
      case 'bankColours':
        throw new Refusal('DRAM bank colours need page colouring, which a real host does not offer');
    }
  }

  /** Run background work (warm-up, echo) and remember it so close() can wait for it. */
  private background(p: Promise<unknown>): void {
    const q = p.catch((err: unknown) => {
      this.backgroundErrors.push(err instanceof Error ? err.message : String(err));
    });
    this.inflight.add(q);
    void q.finally(() => this.inflight.delete(q));
  }

  private warm(t: HostTask, budgetNs: number): void {
    if (!(budgetNs > 0)) throw new Refusal(`warm budgetNs must be > 0, got ${budgetNs}`);
    const addon = this.rt.addon;
    if (!t.loadgen && !addon) throw new Refusal('warm needs a service warmer (first-class redis) or the native addon (process_madvise)');
    if (t.loadgen) this.background(t.loadgen.warm(budgetNs));
    if (addon) {
      // Ask the kernel to bring the task's private writable memory in
      // (swap-in / readahead) ahead of use. Refused by old kernels: not fatal.
      const ranges: number[] = [];
      for (const m of readProcMaps(this.rt.paths.procRoot, t.proc.pid)) {
        if (m.perms.startsWith('rw') && (m.path === '' || m.path === '[heap]')) ranges.push(m.start, m.end - m.start);
      }
      if (ranges.length) {
        const r = addon.processMadvise(t.proc.pid, Float64Array.from(ranges), addon.MADV_WILLNEED);
        if (!r.ok && !t.loadgen) throw new Refusal(`process_madvise(MADV_WILLNEED) failed: ${r.error}`);
      }
    }
  }

  private echo(t: HostTask, durationNs: number): void {
    if (!(durationNs > 0 && durationNs <= this.rt.maxEchoNs)) throw new Refusal(`echo durationNs must be in (0, ${this.rt.maxEchoNs}]`);
    if (t.echoBusy) throw new Refusal('an echo probe of this task is already running');
    t.echoBusy = true;
    const requestedAtNs = this.now();
    this.background(this.runEcho(t, durationNs, requestedAtNs).finally(() => {
      t.echoBusy = false;
    }));
  }

  /**
   * A bounded probe burst. First-class service: extra open-loop requests at
   * twice the offered rate. Second-class task: let it run unconstrained (thawed,
   * unthrottled) for the burst, then put its allocation back. Either way the
   * CPU it used and what it achieved are measured and delivered as an EchoResult.
   */
  private async runEcho(t: HostTask, durationNs: number, requestedAtNs: number): Promise<void> {
    const cpu0 = this.readTaskCpuNs(t);
    const start = this.now();
    const measured: EchoResult['measured'] = {};
    if (t.loadgen) {
      const rate = Math.max(500, 2 * (t.spec.workload.kind === 'redis' && t.spec.workload.arrivals.kind === 'poisson' ? t.spec.workload.arrivals.ratePerSec : 1000));
      const r = await t.loadgen.burst(durationNs, rate, rngFor(this.rt.seed, `echo/${t.spec.id}/${requestedAtNs}`));
      measured.rps = r.completedRps;
    } else {
      const wasPaused = t.alloc.paused;
      const wasThrottled = t.alloc.cpuQuotaPct < 100;
      try {
        if (wasPaused) t.cgroup?.setFrozen(false);
        if (wasThrottled) t.cgroup?.setCpuQuota(100, t.alloc.cores.length);
        // Timers may fire up to a millisecond early (libuv rounds its clock): wait out the full burst.
        while (this.now() - start < durationNs) await sleep(Math.max(0.1, (durationNs - (this.now() - start)) / 1e6));
      } finally {
        // Re-apply whatever the allocation is now (the policy may have changed it meanwhile).
        if (!t.proc.exited) {
          if (t.alloc.paused) t.cgroup?.setFrozen(true);
          if (t.alloc.cpuQuotaPct < 100) t.cgroup?.setCpuQuota(t.alloc.cpuQuotaPct, t.alloc.cores.length);
        }
      }
    }
    const elapsed = Math.max(1, this.now() - start);
    const cpu1 = this.readTaskCpuNs(t);
    const costCpuNs = Math.max(0, cpu1 - cpu0);
    measured.cpu = costCpuNs / elapsed;
    this.echoes.push({ task: t.spec.id, requestedAtNs, durationNs: elapsed, measured, costCpuNs });
  }

  private readTaskCpuNs(t: HostTask): number {
    const c = t.cgroup?.stats().cpuUsageNs;
    if (c !== undefined && Number.isFinite(c)) return c;
    this.rt.perf.readAll();
    return this.rt.perf.value(t.slot, 'taskClock') ?? t.cpuTimeNs;
  }

  // -------------------------------------------------------------------------
  // advance / close
  // -------------------------------------------------------------------------

  /**
   * Sleep until untilNs on the monotonic clock. sleepMode 'timer' (default)
   * awaits a libuv timer (millisecond resolution). 'native' blocks the thread
   * in clock_nanosleep(TIMER_ABSTIME) and then yields once to the event loop,
   * so child exits and output are still handled every tick (tighter wake-up
   * times; it measured no cheaper on this host, since the event-loop turn is
   * what costs). 'auto' = native when nothing of the runner needs the event
   * loop meanwhile (no load generator, no warm-up or echo in flight).
   */
  async advance(untilNs: number): Promise<void> {
    const waitNs = untilNs - this.now();
    if (waitNs <= 0) return;
    const addon = this.rt.addon;
    if (addon && this.blockingSleepOk()) {
      addon.sleepUntilNs(this.t0 + untilNs);
      await new Promise<void>((r) => setImmediate(r));
      return;
    }
    await sleep(waitNs / 1e6);
  }

  /** Which sleep advance() uses now. */
  sleepKind(): 'native' | 'timer' {
    return this.rt.addon && this.blockingSleepOk() ? 'native' : 'timer';
  }

  private blockingSleepOk(): boolean {
    if (this.rt.sleepMode === 'timer') return false;
    if (this.rt.sleepMode === 'native') return true;
    return this.inflight.size === 0 && !this.rt.tasks.some((t) => t.loadgen !== null);
  }

  /**
   * Stop everything and undo every change: stop load generators, wait for
   * warm-ups and echoes, close counters, then restore the journal (thaw, stop
   * processes, remove groups). Safe to call more than once.
   */
  close(): Promise<RestoreReport> {
    if (!this.closing) this.closing = this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<RestoreReport> {
    for (const t of this.rt.tasks) await t.loadgen?.stop();
    await Promise.race([Promise.all([...this.inflight]), sleep(1000)]);
    for (const t of this.rt.tasks) if (t.cgroupCpuFd >= 0) this.rt.fs.closeCounter(t.cgroupCpuFd);
    this.rt.perf.close();
    const report = this.restoreNow();
    // Let node reap the children it started.
    await Promise.race([Promise.all(this.rt.tasks.map((t) => t.proc.exit)), sleep(2000)]);
    return report;
  }

  /** Synchronous restore (also what the exit/signal hooks call). */
  restoreNow(): RestoreReport {
    const addon = this.rt.addon;
    const report = this.rt.journal.restore({
      fs: this.rt.fs,
      procRoot: this.rt.paths.procRoot,
      killGraceMs: this.rt.killGraceMs,
      setAffinity: addon ? (tid, cpus) => addon.setAffinity(tid, cpus).ok : undefined,
    });
    this.rt.fs.closeKept?.();
    this.rt.onClosed();
    return report;
  }
}
