// Starting a HostPlatform: replay journals left by dead runs, open this run's
// journal, hook restore into every exit path, create the run's groups, start
// each task's processes (redis-server plus its load generator, stressors,
// commands) and put them into their groups, then say what the host offers.
// Any failure on the way restores whatever was done and rethrows.
import { mkdirSync } from 'node:fs';
import { getPriority, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Capabilities } from '../policies/platform.js';
import { nativeAddon, type UmbraNative } from '../native/addon.js';
import { rngFor } from '../util/rng.js';
import { safeGroupName, type CgroupBackend, CGROUP_KNOBS } from './cgroup/cgroup-backend.js';
import { selectCgroupBackend, type CgroupChoice } from './cgroup/select-backend.js';
import type { HostFs } from './fs/host-fs.js';
import { NativeHostFs } from './fs/impl/native-fs.js';
import { NodeHostFs } from './fs/impl/node-fs.js';
import { HostPlatform, type HostRuntime } from './host-platform.js';
import { hostPaths, type HostPaths } from './host-paths.js';
import type { HostTask } from './host-task.js';
import type { HostTaskSpec } from './host-task-spec.js';
import { defaultJournalDir } from './journal/default-dir.js';
import { Journal } from './journal/journal.js';
import { JournaledHost } from './journal/journaled-host.js';
import { replayLeftoverJournals, type ReplayResult } from './journal/replay.js';
import type { RestoreDeps } from './journal/restore.js';
import { PerfCounters } from './perf/perf-counters.js';
import { findExecutable } from './process/find-executable.js';
import { ProcessManager } from './process/process-manager.js';
import { processTree, threadIds } from './process/procfs.js';
import { lastLevelCache, readTopology } from './probe/topology.js';
import { ResctrlGroups } from './resctrl/resctrl-groups.js';
import { attachTree } from './cgroup/attach-tree.js';
import { probeResctrl } from './resctrl/resctrl-info.js';
import { registerRestorer } from './safety/cleanup-hooks.js';
import { PoissonArrivals, TraceArrivals, type ArrivalProcess } from './workloads/arrivals.js';
import { OpenLoopLoadGenerator } from './workloads/redis-load-generator.js';
import { redisServerArgv, waitForRedis } from './workloads/redis-server.js';
import { chooseStressor } from './workloads/stressors.js';
import { UnsupportedError } from '../util/errors.js';
import { pinClientThreads } from './client-affinity.js';
import type { Rng } from '../util/rng.js';

/** Slow-stat rounds (one a second per task) that look for processes left out of a task's cgroups. */
const STRAGGLER_CHECKS = 3;

export interface HostPlatformOptions {
  tasks: HostTaskSpec[];
  /** Seed of the load generators' arrivals and key choices. */
  seed?: number | string;
  /** Names the run's groups umbra-<runId> (default: from pid and clock). */
  runId?: string;
  journalDir?: string;
  paths?: Partial<HostPaths>;
  /** File access (default: the native addon's, else node:fs). */
  fs?: HostFs;
  /** false = behave as if the native addon had not loaded. */
  native?: boolean;
  cgroup?: CgroupChoice;
  cpuPeriodUs?: number;
  perfHardware?: boolean;
  /** Cores the run may hand out (default: this process's affinity). */
  coreIds?: number[];
  /** Peak memory bandwidth for Capabilities (e.g. from `umbra calibrate`). */
  peakMemBandwidthBytesPerSec?: number;
  /** Memory/IO/resctrl statistics refresh period per task (default 1 s; CPU time is read every observe). */
  slowStatsPeriodNs?: number;
  /** How advance() sleeps (default 'timer'; see HostPlatform.advance). */
  sleepMode?: 'auto' | 'timer' | 'native';
  maxEchoNs?: number;
  killGraceMs?: number;
  /** Where the run's scratch dir (sockets, IO files) goes (default: os.tmpdir()). */
  scratchRoot?: string;
  /** Replay dead runs' journals in journalDir first (default true). */
  replayLeftovers?: boolean;
  /** How long redis-server gets to answer PING. */
  serviceStartTimeoutMs?: number;
  /**
   * CPU weight of the run's group against the rest of the host (cgroup v2
   * scale, 100 = a default group; see CgroupBackend.setRunCpuWeight). Default:
   * left alone.
   */
  runCpuWeight?: number;
  /**
   * Nice value for this thread and the load generator's sender while the run
   * lasts (so the measuring client is not queued behind the tasks it measures
   * or behind other processes); restored at close. Needs root to go below 0.
   */
  runnerNice?: number;
  /**
   * Cores this process's threads (the load generators' sender and reply
   * reader, the control loop) run on while the run lasts, so the measuring
   * client sits in the same place in every run (runner/client-affinity.ts);
   * restored at close. Every thread of the process is pinned, so under
   * `umbra run --workers N` the other jobs' threads run there too while the
   * hardware run lasts. Needs the native addon. Default: left to the scheduler.
   */
  clientCores?: number[];
}

export interface StartedHost {
  platform: HostPlatform;
  /** Journals of earlier runs replayed at start. */
  replayed: ReplayResult[];
  runName: string;
  journalPath: string;
}

function makeRunId(): string {
  return `${process.pid.toString(36)}-${(process.hrtime.bigint() % 2_176_782_336n).toString(36)}`;
}

function arrivalsFor(spec: HostTaskSpec, rng: Rng): ArrivalProcess {
  if (spec.workload.kind !== 'redis') throw new Error('not a service');
  const a = spec.workload.arrivals;
  return a.kind === 'poisson' ? new PoissonArrivals(a.ratePerSec, rng) : new TraceArrivals(a.steps, rng);
}

export async function startHostPlatform(o: HostPlatformOptions): Promise<StartedHost> {
  const paths = hostPaths(o.paths);
  const addon: UmbraNative | null = o.native === false ? null : nativeAddon();
  const fs: HostFs = o.fs ?? (addon ? new NativeHostFs(addon) : new NodeHostFs());
  const journalDir = o.journalDir ?? defaultJournalDir();
  const killGraceMs = o.killGraceMs ?? 2000;
  const restoreDeps: RestoreDeps = {
    fs,
    procRoot: paths.procRoot,
    killGraceMs,
    setAffinity: addon ? (tid, cpus) => addon.setAffinity(tid, cpus).ok : undefined,
  };
  const seen = new Set<string>();
  for (const t of o.tasks) {
    safeGroupName(t.id);
    if (seen.has(t.id)) throw new Error(`duplicate task id "${t.id}"`);
    seen.add(t.id);
  }
  const replayed = o.replayLeftovers === false ? [] : replayLeftoverJournals(journalDir, restoreDeps);
  const runId = o.runId ?? makeRunId();
  const runName = safeGroupName(`umbra-${runId}`);
  const journal = Journal.create(journalDir, runId, paths.procRoot);
  const host = new JournaledHost(journal, fs, paths.procRoot);
  const pm = new ProcessManager(journal, paths.procRoot);
  const tasks: HostTask[] = [];
  let platform: HostPlatform | null = null;
  let closed = false;
  const unregister = registerRestorer(() => {
    if (platform) platform.restoreNow();
    else journal.restore(restoreDeps);
  });
  const skipped: Capabilities['skipped'] = [];
  let restoreNice = () => {};
  let restoreClient = () => {};
  if (o.runnerNice !== undefined) {
    try {
      const before = getPriority();
      setPriority(o.runnerNice);
      restoreNice = () => {
        try {
          setPriority(before);
        } catch {
          // raising it back is always allowed; nothing to do if the thread is gone
        }
      };
    } catch (err) {
      skipped.push({ what: `runner nice ${o.runnerNice}`, reason: (err as Error).message });
    }
  }
  try {
    const scratch = join(o.scratchRoot ?? tmpdir(), runName);
    journal.record({ op: 'scratch', path: scratch });
    mkdirSync(scratch, { recursive: true, mode: 0o700 });

    const sel = selectCgroupBackend(fs, paths, o.cgroup ?? 'auto', o.cpuPeriodUs);
    let backend: CgroupBackend | null = sel.backend;
    if (backend) {
      try {
        backend.open(runName, host);
        const k = backend.knobs();
        for (const name of CGROUP_KNOBS) if (!k[name].available) skipped.push({ what: `cgroup v${backend.version} ${name}`, reason: k[name].reason ?? 'unavailable' });
        if (o.runCpuWeight !== undefined) {
          try {
            if (!backend.setRunCpuWeight) throw new Error('this cgroup backend has no CPU weight');
            backend.setRunCpuWeight(o.runCpuWeight);
          } catch (err) {
            skipped.push({ what: 'run CPU weight', reason: (err as Error).message });
          }
        }
      } catch (err) {
        skipped.push({ what: 'cgroups', reason: `cannot create ${runName}: ${(err as Error).message}` });
        backend = null;
      }
    } else {
      skipped.push({ what: 'cgroups', reason: sel.reason });
    }

    const resctrlInfo = probeResctrl(fs, paths.resctrlRoot);
    const resctrl = resctrlInfo.mounted ? new ResctrlGroups(fs, resctrlInfo, host, runName) : null;
    if (!resctrlInfo.mounted) skipped.push({ what: 'resctrl (CAT, MBA, CMT, MBM)', reason: resctrlInfo.reason ?? 'not mounted' });
    else {
      if (!resctrlInfo.cat) skipped.push({ what: 'resctrl CAT', reason: resctrlInfo.catReason ?? 'unavailable' });
      if (!resctrlInfo.mba) skipped.push({ what: 'resctrl MBA', reason: resctrlInfo.mbaReason ?? 'unavailable' });
      if (!resctrlInfo.mon) skipped.push({ what: 'resctrl monitoring', reason: resctrlInfo.monReason ?? 'unavailable' });
    }
    skipped.push({ what: 'DRAM bank colours', reason: 'page colouring is not available on a real host' });

    const topo = readTopology(fs, paths.sysRoot, paths.procRoot);
    const coreIds = [...(o.coreIds ?? (topo.allowedCpus.length ? topo.allowedCpus : [0]))].sort((a, b) => a - b);
    if (o.clientCores) {
      // before any load generator starts: its sender thread inherits the mask
      if (!addon) throw new UnsupportedError('clientCores: pinning the measuring client needs the native addon (sched_setaffinity)');
      const allowed = topo.allowedCpus.length ? topo.allowedCpus : coreIds;
      const bad = o.clientCores.filter((c) => !allowed.includes(c));
      if (bad.length || o.clientCores.length === 0) throw new Error(`clientCores ${o.clientCores.join(',')}: not all within this process's cores (${allowed.join(',')})`);
      restoreClient = pinClientThreads(addon, o.clientCores);
    }
    const perf = new PerfCounters(addon, { hardware: o.perfHardware });
    const seed = o.seed ?? 1;
    let hardwareCounters = false;
    let perfNoted = false;

    for (const [slot, spec] of o.tasks.entries()) {
      const taskDir = join(scratch, spec.id);
      mkdirSync(taskDir, { recursive: true });
      if (spec.cores) {
        const bad = spec.cores.filter((c) => !coreIds.includes(c));
        if (bad.length || spec.cores.length === 0) throw new Error(`task ${spec.id}: cores ${spec.cores.join(',')} are not all available (cores: ${coreIds.join(',')})`);
      }
      const cgroup = backend ? backend.createTaskGroup(spec.id, { memory: spec.memoryLimitBytes !== undefined }) : null;
      if (spec.memoryLimitBytes !== undefined && !cgroup) throw new UnsupportedError(`task ${spec.id}: a memory limit needs the cgroup memory controller (${sel.reason})`);
      let argv: string[];
      let implementation: string;
      let reportsProgress = false;
      let socketPath: string | null = null;
      const w = spec.workload;
      if (w.kind === 'redis') {
        const bin = w.binary ?? findExecutable('redis-server');
        if (!bin) throw new UnsupportedError(`task ${spec.id}: redis-server is not installed (apt-get install redis-server)`);
        const launch = redisServerArgv(bin, taskDir);
        argv = launch.argv;
        socketPath = launch.socketPath;
        implementation = 'redis-server';
      } else if (w.kind === 'stressor') {
        const c = chooseStressor({ stressor: w.stressor, workers: w.workers, implementation: w.implementation, scratchDir: taskDir, bytes: w.bytes });
        argv = c.argv;
        implementation = c.implementation === 'stress-ng' ? 'stress-ng' : 'builtin microbench';
        reportsProgress = c.reportsProgress;
        if (c.implementation === 'builtin') skipped.push({ what: `stress-ng for ${spec.id}`, reason: c.reason });
      } else {
        argv = w.argv;
        implementation = 'command';
      }
      const task: HostTask = {
        spec,
        slot,
        proc: undefined as never,
        cgroup,
        implementation,
        alloc: {
          cores: spec.cores ? [...spec.cores].sort((a, b) => a - b) : [...coreIds],
          cacheWayMask: 0,
          bankColours: [],
          memBandwidthPct: 100,
          ioWeight: backend?.ioWeightRange.default ?? 100,
          cpuQuotaPct: 100,
          paused: false,
        },
        reserved: { cores: new Set(), cacheWayMask: 0, memBandwidthPct: 0, ioWeight: 0 },
        loadgen: null,
        reportsProgress,
        progressUnits: 0,
        lastProgressUnits: 0,
        cpuCounter: -1,
        cpuSource: 'proc',
        cgroupCpuFd: -1,
        cgroupCpuNsPerUnit: 1,
        cpuCheckBase: null,
        cpuOffsetNs: 0,
        cpuTimeNs: 0,
        lastCpuTimeNs: 0,
        echoBusy: false,
        nextSlowNs: 0,
        view: null,
        pidList: null,
        pidListAgeRounds: 0,
        attachedPids: new Set(),
        stragglerChecksLeft: STRAGGLER_CHECKS,
      };
      task.proc = pm.spawn(spec.id, argv, {
        cwd: taskDir,
        onLine: reportsProgress
          ? (line) => {
              const m = /^progress (\d+)/.exec(line);
              if (m) task.progressUnits = Number(m[1]);
            }
          : undefined,
      });
      tasks.push(task);
      // The tree as it is now: counters opened on each of these (with
      // inherit) cover everything the task forks from here on.
      const treeBefore = processTree(paths.procRoot, task.proc.pid);
      if (cgroup) attachTree(cgroup, paths.procRoot, task.proc.pid, task.attachedPids);
      if (spec.cores) {
        if (cgroup && backend?.knobs().cpuset.available) cgroup.setCpus(task.alloc.cores);
        else if (addon) {
          for (const tid of processTree(paths.procRoot, task.proc.pid).flatMap((p) => threadIds(paths.procRoot, p))) {
            const before = addon.getAffinity(tid);
            host.affinity(tid, before.cpus ?? coreIds, () => addon.setAffinity(tid, task.alloc.cores));
          }
        } else throw new UnsupportedError(`task ${spec.id}: cannot pin cores without cgroup cpuset or the native addon`);
      }
      if (spec.memoryLimitBytes !== undefined) cgroup?.setMemoryLimit(spec.memoryLimitBytes);
      // task-clock on every thread that exists now (each counter then covers
      // what its thread creates); hardware counters wherever a PMU is.
      const tidsBefore = (treeBefore.length ? treeBefore : [task.proc.pid]).flatMap((p) => {
        const tids = threadIds(paths.procRoot, p);
        return tids.length ? tids : [p];
      });
      const pa = perf.attachTree(slot, tidsBefore);
      if (pa.events.includes('instructions')) hardwareCounters = true;
      if (!perfNoted) {
        perfNoted = true;
        for (const s of pa.skipped) skipped.push({ what: `perf ${s.event}`, reason: s.reason });
      }
      resctrl?.monitor(spec.id, processTree(paths.procRoot, task.proc.pid).flatMap((p) => threadIds(paths.procRoot, p)));
      if (socketPath) {
        const proc = task.proc;
        await waitForRedis(socketPath, o.serviceStartTimeoutMs ?? 5000, () =>
          proc.exited ? `exit code ${proc.exitCode ?? proc.exitSignal}: ${proc.stderrTail.slice(-3).join(' | ')}` : null,
        );
        const lw = spec.workload as Extract<HostTaskSpec['workload'], { kind: 'redis' }>;
        task.loadgen = new OpenLoopLoadGenerator({
          target: { socketPath },
          arrivals: arrivalsFor(spec, rngFor(seed, `arrivals/${spec.id}`)),
          rng: rngFor(seed, `keys/${spec.id}`),
          connections: lw.connections,
          keySpace: lw.keySpace,
          getRatio: lw.getRatio,
          valueBytes: lw.valueBytes,
          ...(lw.client ? { client: lw.client } : {}),
          ...(o.runnerNice !== undefined ? { senderNice: o.runnerNice } : {}),
        });
        await task.loadgen.start();
        const ci = task.loadgen.clientInfo;
        if (ci.kind === 'native' && !ci.realtime) skipped.push({ what: `real-time priority for ${spec.id}'s load generator threads`, reason: `${ci.realtimeError ?? 'refused'}: a reply read on a core busy with a CPU-bound job may wait for its slice, and that wait is measured as latency` });
      }
    }

    const knobs = backend?.knobs();
    const llc = lastLevelCache(topo);
    const mon = resctrlInfo.mon?.features ?? [];
    const capabilities: Capabilities = {
      platform: 'hardware',
      coreIds,
      cacheWays: resctrlInfo.cat
        ? { totalWays: resctrlInfo.cat.totalWays, minWaysPerMask: resctrlInfo.cat.minWays, wayBytes: llc ? Math.round(llc.sizeBytes / resctrlInfo.cat.totalWays) : 0 }
        : null,
      memBandwidth: resctrlInfo.mba
        ? { minPct: resctrlInfo.mba.minPct, stepPct: resctrlInfo.mba.granularityPct, peakBytesPerSec: o.peakMemBandwidthBytesPerSec ?? 0 }
        : null,
      bankColours: null,
      ioWeight: knobs?.ioWeight.available && backend ? { ...backend.ioWeightRange } : null,
      freezer: !!knobs?.freezer.available,
      throttle: !!knobs?.cpuQuota.available,
      migrate: !!knobs?.cpuset.available || addon !== null,
      warm: addon !== null || tasks.some((t) => t.loadgen),
      echo: true,
      counters: {
        cpuTime: true,
        instructions: hardwareCounters,
        cycles: hardwareCounters,
        llcMisses: hardwareCounters,
        llcOccupancy: mon.includes('llc_occupancy'),
        memBandwidth: mon.includes('mbm_total_bytes'),
        rss: true,
        io: true,
        requestLatency: tasks.some((t) => t.loadgen !== null),
      },
      skipped,
    };
    const rt: HostRuntime = {
      paths, fs, addon, journal, host, backend, resctrlInfo,
      cgroupReason: backend ? null : skipped.find((x) => x.what === 'cgroups')?.reason ?? sel.reason, resctrl, perf, tasks, coreIds, capabilities, seed,
      slowStatsPeriodNs: o.slowStatsPeriodNs ?? 1_000_000_000,
      sleepMode: o.sleepMode ?? 'timer',
      maxEchoNs: o.maxEchoNs ?? 100_000_000,
      killGraceMs,
      onClosed: () => {
        if (closed) return;
        closed = true;
        restoreNice();
        restoreClient();
        unregister();
      },
    };
    platform = new HostPlatform(rt);
    return { platform, replayed, runName, journalPath: journal.path };
  } catch (err) {
    for (const t of tasks) await t.loadgen?.stop().catch(() => {});
    const report = journal.restore(restoreDeps);
    restoreNice();
    restoreClient();
    unregister();
    if (!report.complete) {
      const detail = report.failures.map((f) => f.error).join('; ');
      throw new Error(`${(err as Error).message} (and restoring failed: ${detail}; run \`umbra cleanup --journal-dir ${journalDir}\`)`);
    }
    throw err;
  }
}
