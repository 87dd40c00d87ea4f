// The simulator as a Platform. Between events every rate is constant, so the
// platform jumps from event to event: it integrates counters, serves requests,
// moves cache occupancy, then fires the event; whenever an event or an applied
// action changes what competes for what, the contention fixed point is solved
// again (sim/machine/contention.ts). Events: control-independent demand changes
// (second-class phases), warm-ups finishing, echo results, and a refresh tick
// that re-solves only when first-class load or cache occupancy has moved.
import type { Action, ApplyResult, Capabilities, EchoResult, FutureDemand, Platform, Snapshot, TaskSample } from '../../policies/platform.js';
import { rngFor, type Rng } from '../../util/rng.js';
import { EventQueue } from '../core/event-queue.js';
import { LlcExact } from '../llc/llc-exact.js';
import { profileFor } from '../llc/profile-cache.js';
import type { CacheProfile } from '../llc/cache-profile.js';
import { analyticDram, averagedColdMissRatio, ContentionSolver, type ContentionAnswer, type ContentionTask, type DramSolver } from '../machine/contention.js';
import { LcService } from '../machine/lc-service.js';
import { interferenceSiblings, llcSets } from '../machine/machine-description.js';
import { makePattern, workingSetBytes, type Kernel } from '../workloads/kernel.js';
import type { AccessPattern } from '../workloads/access-pattern.js';
import { bankColourCount } from '../dram/page-colouring.js';
import { ddr4PeakBytesPerSec } from '../dram/dram-config.js';
import { AllocationState, Refusal, popcount, type Change } from './allocation-state.js';
import { CpuSharing, type CpuTaskInput } from './cpu-sharing.js';
import { frozenAllocation, frozenReservation } from '../../util/snapshot-views.js';
// (for its effect: snapshot samples with double fields from the start)
import './sample-shape.js';
import type { ResolvedScenario, ResolvedTask } from './resolve-scenario.js';

export interface SimPlatformOptions {
  seed: number | string;
  /** Fill Snapshot.future (the oracle baseline) with each task's peak demand over this horizon. */
  futureHorizonNs?: number;
  /** Memory model (default: the DRAM analytic model for the machine's DRAM). */
  dram?: DramSolver;
  /** Record every event fired (time, label), to check determinism. */
  eventLog?: boolean;
  /**
   * Load on cores from outside the scenario's tasks, in cores' worth of
   * runnable threads per core (e.g. the host runner's own threads, which
   * `umbra compare` mirrors when they are pinned): it takes CPU from the
   * tasks there as a second-class thread would, and no policy sees it.
   * wakeupsPerSec: how often those threads wake there; each wake-up costs the
   * core's other work the machine's cores.wakeupCostNs more (interrupt,
   * context switches, disturbed caches), added to the load.
   */
  backgroundLoad?: { core: number; cores: number; wakeupsPerSec?: number }[];
  /**
   * How an echo of a first-class service runs. 'spare-core' (default): a
   * sample of the service's coming work on a spare core, which reports its
   * demand and leaves the service's queue alone. 'requests': as the host
   * runner does it (runner/host-platform.ts): extra open-loop requests to the
   * service itself at twice its offered rate (at least 500/s) for the burst,
   * queued with its own; it reports the burst's completed rate and CPU.
   * `umbra compare` uses 'requests' when the simulator is given the host's
   * knobs, so both platforms echo alike.
   */
  serviceEcho?: 'spare-core' | 'requests';
}

/** An echo burst samples this share of the requests in its window (its CPU cost) and reports after this share of it. */
const ECHO_SAMPLE_FRACTION = 0.1;
const MIN_ECHO_LATENCY_NS = 100_000;
const OCCUPANCY_RESOLVE_NS = 4_000_000;
/** Fixed-point rounds per quantum solve (each quantum continues from the last until it settles). */
const QUANTUM_ITERATIONS = 1;
const UNSETTLED_MOVE = 0.01;
/**
 * A cache warm-up is a core prefetching lines: it keeps at most this many in
 * flight (a core's L1D fill buffers: 10-12 on recent Intel cores), so its rate
 * is this many lines per DRAM latency.
 */
const WARM_LINES_IN_FLIGHT = 10;
/** All warm-ups running at once take at most this share of the DRAM peak, leaving the rest to running work. */
const WARM_SHARE_OF_PEAK = 0.5;

interface Counters {
  cpuTimeNs: number;
  instructions: number;
  cycles: number;
  llcAccesses: number;
  llcMisses: number;
  memReadBytes: number;
  memWriteBytes: number;
  ioBytes: number;
}

interface SimTask {
  spec: ResolvedTask;
  index: number;
  kernel: Kernel;
  profile: CacheProfile;
  lc: LcService | null;
  /** First-class: worker busy fraction the current contention solve assumed. */
  busyUsed: number;
  warmedCores: Set<number>;
  occupancyWays: number;
  /** Second-class: share of threads runnable the current solution assumed. */
  activityUsed: number;
  /** Until when activityUsed holds (the load profile's next change after the solve). */
  activityUntilNs: number;
  warmBytesPerSec: number;
  /** Ways of lines the running cache warm-ups will add (a second warm-up does not fetch them again). */
  warmingWays: number;
  cpuCores: number;
  ans: ContentionAnswer;
  c: Counters;
  prev: Counters;
  pattern: AccessPattern | null;
  measuredMiss: number | undefined;
  /** Working set, reported as RSS. */
  rssBytes: number;
  /** First-class: the service's dispatched instructions and cycles already in the counters. */
  lcInstructionsSeen: number;
  lcCyclesSeen: number;
}

function copyCounters(from: Counters, to: Counters): void {
  to.cpuTimeNs = from.cpuTimeNs;
  to.instructions = from.instructions;
  to.cycles = from.cycles;
  to.llcAccesses = from.llcAccesses;
  to.llcMisses = from.llcMisses;
  to.memReadBytes = from.memReadBytes;
  to.memWriteBytes = from.memWriteBytes;
  to.ioBytes = from.ioBytes;
}

const zeroCounters = (): Counters => ({ cpuTimeNs: 0, instructions: 0, cycles: 0, llcAccesses: 0, llcMisses: 0, memReadBytes: 0, memWriteBytes: 0, ioBytes: 0 });

export class SimPlatform implements Platform {
  private readonly q = new EventQueue();
  private readonly tasks: SimTask[];
  private readonly alloc: AllocationState;
  private readonly dram: DramSolver;
  private readonly sets: number;
  private readonly hz: number;
  private readonly colours: number;
  private readonly lineBytes: number;
  private readonly peakBytesPerSec: number;
  /** DRAM latency of a row miss on an idle channel (activate + read + burst). */
  private readonly unloadedDramNs: number;
  /** Cache warm-ups waiting for a share of the DRAM peak: started again when a running one ends. */
  private warmsWaiting: (() => void)[] = [];
  private lastIntegratedNs = 0;
  private lastObserveNs = -1;
  private dirty = true;
  /** Echo results due at readyAtNs; `finish` fills in a request burst's figures once it has run. */
  private pendingEchoes: (EchoResult & { readyAtNs: number; finish?: () => void })[] = [];
  /** Extra runnable threads per core from echo bursts running now. */
  private echoLoad: { core: number; untilNs: number }[] = [];
  private readonly echoRng: Rng;
  private readonly llcExact: LlcExact | null = null;
  private readonly exactBuf = new Int32Array(256);
  private readonly solver: ContentionSolver;
  /** The solver's and the CPU-sharing model's inputs, one object per task, refilled by each solve. */
  private readonly cpuInputs: CpuTaskInput[];
  private readonly contentionInputs: ContentionTask[];
  private readonly extraLoad: Float64Array;
  /** SimPlatformOptions.backgroundLoad per core (runnable threads' worth). */
  private readonly backgroundLoad: Float64Array;
  private readonly cpuSharing: CpuSharing;
  private lastSolveNs = 0;
  private views: { allocation: TaskSample['allocation']; reserved: TaskSample['reserved'] }[] = [];
  private viewsVersion = -1;
  private readonly coreOwners: Int32Array;
  private coreOwnersVersion = -1;
  private unsettled = false;
  /** Core interference: each core's group siblings, or null when the machine models none. */
  private readonly siblings: number[][] | null;
  /** Number of contention solves and the wall time they took (for the benchmark). */
  solves = 0;
  solveWallMs = 0;

  constructor(
    private readonly scenario: ResolvedScenario,
    private readonly opts: SimPlatformOptions,
  ) {
    const m = scenario.machine;
    this.sets = llcSets(m);
    this.hz = m.cores.freqGHz * 1e9;
    this.colours = bankColourCount(m.dram);
    this.lineBytes = m.llc.lineBytes;
    this.peakBytesPerSec = ddr4PeakBytesPerSec(m.dram);
    const tc = m.dram.timingCycles;
    this.unloadedDramNs = (tc.tRCD + tc.tCL + tc.tBurst) * m.dram.tCkNs;
    this.dram = opts.dram ?? analyticDram(m.dram);
    this.echoRng = rngFor(opts.seed, 'echo');
    this.siblings = interferenceSiblings(m);
    this.solver = new ContentionSolver({ freqGHz: m.cores.freqGHz, ways: m.llc.ways, lineBytes: m.llc.lineBytes, ioBandwidthBytesPerSec: m.io.bandwidthBytesPerSec, llcSets: this.sets, coldHorizonSec: scenario.quantumNs / 1e9 }, this.dram);
    this.extraLoad = new Float64Array(m.cores.count);
    this.backgroundLoad = new Float64Array(m.cores.count);
    for (const b of opts.backgroundLoad ?? []) {
      const wakeups = b.wakeupsPerSec ?? 0;
      if (!(Number.isInteger(b.core) && b.core >= 0 && b.core < m.cores.count) || !(b.cores >= 0 && Number.isFinite(b.cores)) || !(wakeups >= 0 && Number.isFinite(wakeups))) {
        throw new Error(`backgroundLoad: core ${b.core} with ${b.cores} cores' worth and ${wakeups} wake-ups/s is not on this ${m.cores.count}-core machine or not a load`);
      }
      this.backgroundLoad[b.core] += b.cores + (wakeups * (m.cores.wakeupCostNs ?? 0)) / 1e9;
    }
    this.cpuSharing = new CpuSharing(m.cores.count);
    this.coreOwners = new Int32Array(m.cores.count);
    if (opts.eventLog) this.q.log = [];
    this.alloc = new AllocationState(
      {
        coreCount: m.cores.count,
        ways: m.llc.ways,
        minWaysPerMask: m.llc.minWaysPerMask,
        colours: this.colours,
        mbaMinPct: m.memory.mbaMinPct,
        mbaStepPct: m.memory.mbaStepPct,
        ioWeightMin: m.io.weightMin,
        ioWeightMax: m.io.weightMax,
        maxWarmNs: 50_000_000,
        maxEchoNs: 100_000_000,
      },
      scenario.tasks.map((t) => t.id),
      scenario.tasks.map((t) => ({ cores: t.cores, wayMask: t.wayMask, colours: t.colours, mbaPct: t.mbaPct, ioWeight: t.ioWeight, quotaPct: 100, paused: false })),
    );
    if (scenario.llcMode === 'exact') {
      this.llcExact = new LlcExact({ sizeBytes: m.llc.sizeBytes, ways: m.llc.ways, lineBytes: m.llc.lineBytes }, Math.max(1, scenario.tasks.length));
    }
    this.tasks = scenario.tasks.map((t, index) => {
      const profile = profileFor(t.kernel.pattern, m.llc.lineBytes, this.sets, m.llc.ways);
      const lc =
        t.cls === 'first'
          ? new LcService({
              rpsProfile: t.load,
              instrPerRequest: t.kernel.instrPerRequest!,
              requestCv: t.kernel.requestCv ?? 0.5,
              sloP99Ns: t.sloP99Ns,
              arrivalsRng: rngFor(opts.seed, `arrivals/${t.id}`),
              serviceRng: rngFor(opts.seed, `service/${t.id}`),
            })
          : null;
      lc?.setServers(t.cores.map((c) => ({ coreId: c, readyAtNs: 0 })));
      const pattern = this.llcExact ? makePattern(t.kernel.pattern, m.llc.lineBytes, rngFor(opts.seed, `llc-pattern/${t.id}`)) : null;
      return {
        spec: t,
        index,
        kernel: t.kernel,
        profile,
        lc,
        busyUsed: 0,
        warmedCores: new Set<number>(),
        occupancyWays: 0,
        activityUsed: 0,
        activityUntilNs: -Infinity,
        warmBytesPerSec: 0,
        warmingWays: 0,
        lcInstructionsSeen: 0,
        lcCyclesSeen: 0,
        cpuCores: 0,
        ans: { cpi: t.kernel.cpiCore, instructionsPerSec: 0, llcAccessesPerSec: 0, missRatio: 1, targetOccupancyWays: 0, steadyMissRatio: 1, fillMissRatio: 1, memReadBytesPerSec: 0, memWriteBytesPerSec: 0, dramLatencyNs: 0, ioBytesPerSec: 0, cpuUsable: 1 },
        c: zeroCounters(),
        prev: zeroCounters(),
        pattern,
        measuredMiss: undefined,
        rssBytes: Math.round(workingSetBytes(t.kernel.pattern)),
      };
    });
    this.cpuInputs = this.tasks.map((t) => ({ cores: [], runnableThreads: 0, workerBusy: 0, firstClass: !!t.lc, quotaPct: 100, paused: false }));
    this.contentionInputs = this.tasks.map((t) => ({
      id: t.spec.id,
      kernel: t.kernel,
      profile: t.profile,
      cpuCores: 0,
      wayMask: 0,
      colours: null,
      mbaPct: 100,
      ioWeight: 0,
      occupancyWays: 0,
      extraMemBytesPerSec: 0,
      measuredMissRatio: undefined,
      cpiFactor: 1,
    }));
    for (const t of this.tasks) {
      if (t.lc) t.lc.primeUtilisation(t.lc.offeredWorkers(0, t.kernel.cpiCore * 1.5, m.cores.freqGHz) / Math.max(1, t.spec.cores.length));
      this.syncExactMask(t);
    }
    this.q.schedule(scenario.quantumNs, (now) => this.onQuantum(now), 'quantum', 1);
    this.resolve();
  }

  /** Events fired so far as (time, label), when created with eventLog. */
  eventLog(): [number, string][] {
    return this.q.log ?? [];
  }

  capabilities(): Capabilities {
    const m = this.scenario.machine;
    return {
      platform: 'sim',
      coreIds: Array.from({ length: m.cores.count }, (_, i) => i),
      cacheWays: { totalWays: m.llc.ways, minWaysPerMask: m.llc.minWaysPerMask, wayBytes: m.llc.sizeBytes / m.llc.ways },
      memBandwidth: { minPct: m.memory.mbaMinPct, stepPct: m.memory.mbaStepPct, peakBytesPerSec: ddr4PeakBytesPerSec(m.dram) },
      bankColours: { count: this.colours },
      ioWeight: { min: m.io.weightMin, max: m.io.weightMax, default: m.io.weightDefault },
      freezer: true,
      throttle: true,
      migrate: true,
      warm: true,
      echo: true,
      maxWarmNs: this.alloc.limits.maxWarmNs,
      maxEchoNs: this.alloc.limits.maxEchoNs,
      counters: { cpuTime: true, instructions: true, cycles: true, llcMisses: true, llcOccupancy: true, memBandwidth: true, rss: true, io: true, requestLatency: true },
      skipped: [],
    };
  }

  now(): number {
    return this.q.now;
  }

  // ------------------------------------------------------------------ advance

  advance(untilNs: number): void {
    const target = Math.round(untilNs);
    if (target < this.q.now) throw new Error(`cannot advance back in time to ${target} ns (now ${this.q.now} ns)`);
    for (;;) {
      const next = Math.min(this.q.peekTime(), target);
      this.integrateTo(next);
      if (!this.q.fireNext(target)) break;
    }
    this.q.advanceClock(target);
    this.integrateTo(target);
  }

  private onQuantum(now: number): void {
    // Contention is re-solved at most once per quantum (applied actions are
    // solved at once), and only when something material moved: a second-class
    // job's runnable threads changed (its phase or trace), a warm-up or echo
    // burst started or ended, a first-class service's
    // load changed enough to shift the machine's memory traffic by 3%, or the
    // CPU share of second-class threads on cores it shares with them; or a
    // cache share that was filling has covered half its cold-miss excess
    // (checked at most every OCCUPANCY_RESOLVE_NS).
    let totalTraffic = 0;
    for (const t of this.tasks) totalTraffic += t.ans.memReadBytesPerSec + t.ans.memWriteBytesPerSec;
    for (const t of this.tasks) {
      if (!t.lc) continue;
      const busy = this.workerBusy(t, now);
      const moved = Math.abs(busy - t.busyUsed);
      if (moved < 0.02) continue;
      if (t.busyUsed <= 0.01) {
        // last solved idle: its traffic and CPU per unit of busy time are
        // unknown (zero in that answer), so a service that started serving
        // is always re-solved (else it would run on an idle answer for good)
        this.dirty = true;
        continue;
      }
      const perBusy = (t.ans.memReadBytesPerSec + t.ans.memWriteBytesPerSec) / t.busyUsed;
      if (moved * perBusy > 0.03 * totalTraffic) this.dirty = true;
      else if (moved > 0.1 && (this.sharesCoresWithOthers(t) || this.hasBusySiblings(t))) this.dirty = true;
    }
    if (this.unsettled) this.dirty = true;
    for (const t of this.tasks) if (!t.lc && now >= t.activityUntilNs && t.spec.load.valueAt(now) !== t.activityUsed) this.dirty = true;
    if (!this.dirty && now - this.lastSolveNs >= OCCUPANCY_RESOLVE_NS) {
      // a cache share that was filling with a real cold-miss excess (over 5
      // points, e.g. after a new mask or a migration) re-solves once half of it is gone
      // -- and only when that matters: the drop in its miss ratio moves its
      // own CPI by more than 1% or the machine's memory traffic by more
      // than 3% (the same materiality as for a service's load above).
      // The excess is the one the answer charges (averaged over the quantum
      // from the solve: contention.ts, averagedColdMissRatio) against what
      // the next quantum would be charged from here. (Until 2026-11-24 it was
      // taken as the answer's hits, 1 - missRatio, times the unfilled part;
      // but that miss ratio already carries the excess, so a share solved
      // empty read as none, never re-solved as it filled, and a job with
      // nothing else moving, such as one measured alone, kept the miss ratio
      // of an empty cache for the whole run.)
      for (const t of this.tasks) {
        const then = t.ans.missRatio - t.ans.steadyMissRatio;
        if (then <= 0.05) continue;
        const drop = then - (averagedColdMissRatio(t.ans.steadyMissRatio, t.ans.targetOccupancyWays, t.occupancyWays, t.ans.llcAccessesPerSec, this.sets, this.scenario.quantumNs / 1e9) - t.ans.steadyMissRatio);
        if (drop <= then / 2) continue;
        const k = t.kernel;
        const cpiMove = ((k.apki / 1000) * drop * t.ans.dramLatencyNs * this.scenario.machine.cores.freqGHz) / Math.max(0.05, k.mlp) / Math.max(1e-9, t.ans.cpi);
        const trafficMove = (t.ans.llcAccessesPerSec * drop * (1 + k.writeFraction) * this.scenario.machine.llc.lineBytes) / Math.max(1, totalTraffic);
        if (cpiMove > 0.01 || trafficMove > 0.03) {
          this.dirty = true;
          break;
        }
      }
    }
    if (this.llcExact) this.dirty = true;
    if (this.echoLoad.some((e) => e.untilNs <= now)) {
      this.echoLoad = this.echoLoad.filter((e) => e.untilNs > now);
      this.dirty = true;
    }
    if (this.dirty) this.resolve(false);
    this.q.schedule(now + this.scenario.quantumNs, (n) => this.onQuantum(n), 'quantum', 1);
  }

  private sharesCoresWithOthers(t: SimTask): boolean {
    if (this.coreOwnersVersion !== this.alloc.version) {
      // tasks per core, recounted only after an action
      this.coreOwners.fill(0);
      for (const a of this.alloc.alloc) for (const c of a.cores) this.coreOwners[c]++;
      this.coreOwnersVersion = this.alloc.version;
    }
    return this.alloc.alloc[t.index].cores.some((c) => this.coreOwners[c] > 1);
  }

  /** Core interference: whether another task runs on a sibling of one of t's cores. */
  private hasBusySiblings(t: SimTask): boolean {
    if (!this.siblings) return false;
    const sib = new Set(this.alloc.alloc[t.index].cores.flatMap((c) => this.siblings![c]));
    return sib.size > 0 && this.tasks.some((o) => o !== t && this.alloc.alloc[o.index].cores.some((c) => sib.has(c)));
  }

  /**
   * Core interference: 1 + computeSlowdown x the mean, over the task's cores,
   * of the mean busy fraction of each core's group siblings (0 for a core in
   * no group).
   */
  private cpiFactor(cores: readonly number[], coreBusy: Float64Array): number {
    const sib = this.siblings!;
    if (cores.length === 0) return 1;
    let sum = 0;
    for (const c of cores) {
      const others = sib[c];
      if (others.length === 0) continue;
      let busy = 0;
      for (const o of others) busy += coreBusy[o];
      sum += busy / others.length;
    }
    return 1 + this.scenario.machine.cores.interference!.computeSlowdown * (sum / cores.length);
  }

  private workerBusy(t: SimTask, now: number): number {
    return t.lc!.busyEstimate(now);
  }

  /** Integrate every constant rate from the last integration point to tNs. */
  private integrateTo(tNs: number): void {
    const dtNs = tNs - this.lastIntegratedNs;
    if (dtNs < 0) throw new Error(`integration went back in time (${this.lastIntegratedNs} -> ${tNs})`);
    if (dtNs > 0) {
      const dt = dtNs / 1e9;
      let totalMissesPerSec = 0;
      for (const t of this.tasks) totalMissesPerSec += t.ans.llcAccessesPerSec * t.ans.missRatio;
      const turnoverSec = Math.max(1e-4, (this.scenario.machine.llc.ways * this.sets) / Math.max(1, totalMissesPerSec));
      // the part of an over-target share that survives dt, the same for every task (computed on first need)
      let survives = -1;
      for (const t of this.tasks) {
        const a = t.ans;
        if (t.lc) {
          // a service's counters follow the requests it ran (accountRequests);
          // only warm-up traffic is a rate
          t.c.memReadBytes += t.warmBytesPerSec * dt;
        } else {
          const cpuNs = t.cpuCores * a.cpuUsable * dtNs;
          t.c.cpuTimeNs += cpuNs;
          t.c.cycles += (cpuNs / 1e9) * this.hz;
          t.c.instructions += a.instructionsPerSec * dt;
          t.c.llcAccesses += a.llcAccessesPerSec * dt;
          t.c.llcMisses += a.llcAccessesPerSec * a.missRatio * dt;
          t.c.memReadBytes += a.memReadBytesPerSec * dt;
          t.c.memWriteBytes += a.memWriteBytesPerSec * dt;
          t.c.ioBytes += a.ioBytesPerSec * dt;
        }
        if (!this.llcExact) {
          // cache occupancy moves toward the steady share: fills at the task's miss rate, shrinks as the region turns over
          const target = a.targetOccupancyWays;
          if (t.occupancyWays < target) {
            t.occupancyWays = Math.min(target, t.occupancyWays + ((a.llcAccessesPerSec * a.fillMissRatio) / this.sets) * dt);
          } else if (t.occupancyWays > target) {
            if (survives < 0) survives = Math.exp(-dt / turnoverSec);
            t.occupancyWays = target + (t.occupancyWays - target) * survives;
          }
        }
      }
      if (this.llcExact) this.replayExact(dtNs);
      this.lastIntegratedNs = tNs;
    }
    for (const t of this.tasks) {
      if (!t.lc) continue;
      t.lc.runUntil(tNs);
      this.accountRequests(t);
    }
  }

  /**
   * A first-class service's counters from the requests it dispatched since
   * the last call: instructions, cycles at the CPI they ran at, CPU time =
   * cycles / clock, and the LLC and memory traffic those instructions make at
   * the current miss ratio. (The rates of the contention answer assume the
   * busy fraction of the last solve, which a service's load moves between
   * solves; CPU per request accounted from them drifted by 20% and more.)
   */
  private accountRequests(t: SimTask): void {
    const lc = t.lc!;
    const instr = lc.dispatchedInstructions - t.lcInstructionsSeen;
    const cycles = lc.dispatchedCycles - t.lcCyclesSeen;
    if (instr <= 0) return;
    t.lcInstructionsSeen = lc.dispatchedInstructions;
    t.lcCyclesSeen = lc.dispatchedCycles;
    const k = t.kernel;
    const accesses = (instr * k.apki) / 1000;
    const misses = accesses * t.ans.missRatio;
    const lineBytes = this.scenario.machine.llc.lineBytes;
    t.c.instructions += instr;
    t.c.cycles += cycles;
    t.c.cpuTimeNs += cycles / this.scenario.machine.cores.freqGHz;
    t.c.llcAccesses += accesses;
    t.c.llcMisses += misses;
    t.c.memReadBytes += misses * lineBytes;
    t.c.memWriteBytes += misses * k.writeFraction * lineBytes;
    t.c.ioBytes += (instr * k.ioBytesPerKiloInstr) / 1000;
  }

  /** Exact mode: replay the segment's accesses, interleaved by rate, through the exact LRU cache. */
  private replayExact(dtNs: number): void {
    const llc = this.llcExact!;
    const want = this.tasks.map((t) => (t.ans.llcAccessesPerSec * dtNs) / 1e9);
    const total = want.reduce((s, x) => s + x, 0);
    if (total < 1) return;
    const before = this.tasks.map((t) => [llc.hits[t.index], llc.misses[t.index]]);
    const chunk = this.exactBuf.length;
    const rounds = Math.max(1, Math.ceil(Math.max(...want) / chunk));
    const sliceLines = 1 << 26;
    for (let r = 0; r < rounds; r++) {
      for (const t of this.tasks) {
        const n = Math.floor((want[t.index] * (r + 1)) / rounds) - Math.floor((want[t.index] * r) / rounds);
        if (n <= 0 || !t.pattern) continue;
        t.pattern.fill(this.exactBuf, 0, n);
        const base = (t.index % 31) * sliceLines;
        for (let j = 0; j < n; j++) this.exactBuf[j] += base;
        llc.accessBatch(t.index, this.exactBuf, 0, n);
      }
    }
    for (const t of this.tasks) {
      const h = llc.hits[t.index] - before[t.index][0];
      const mi = llc.misses[t.index] - before[t.index][1];
      if (h + mi >= 64) {
        const m = mi / (h + mi);
        t.measuredMiss = t.measuredMiss === undefined ? m : 0.7 * t.measuredMiss + 0.3 * m;
      }
      t.occupancyWays = llc.occupancyLines[t.index] / this.sets;
    }
  }

  private syncExactMask(t: SimTask): void {
    if (this.llcExact) this.llcExact.setTaskMask(t.index, this.alloc.effectiveMask(t.index) || this.llcExact.fullMask);
  }

  /**
   * Solve contention for the current allocation and load; update rates and
   * service speeds. `full`: iterate to convergence (after actions and at the
   * start); otherwise a few rounds continuing from the last solve (the quantum
   * loop, where the state moves little from one quantum to the next).
   */
  private resolve(full = true): void {
    const wall0 = performance.now();
    try {
      this.resolveNow(full);
    } finally {
      this.solveWallMs += performance.now() - wall0;
    }
  }

  private resolveNow(full: boolean): void {
    const now = this.q.now;
    this.dirty = false;
    this.solves++;
    this.lastSolveNs = now;
    const m = this.scenario.machine;
    const extraLoad = this.extraLoad;
    extraLoad.set(this.backgroundLoad);
    for (const e of this.echoLoad) if (e.untilNs > now) extraLoad[e.core] += 1;
    for (const t of this.tasks) {
      const a = this.alloc.alloc[t.index];
      const x = this.cpuInputs[t.index];
      if (t.lc) t.busyUsed = this.workerBusy(t, now);
      x.cores = a.cores;
      if (!t.lc) {
        t.activityUsed = t.spec.load.valueAt(now);
        t.activityUntilNs = t.spec.load.nextChangeNs(now);
      }
      x.runnableThreads = t.lc ? 0 : t.spec.threads * Math.max(0, Math.min(1, t.activityUsed));
      x.workerBusy = t.lc ? t.busyUsed : 0;
      x.quotaPct = a.quotaPct;
      x.paused = a.paused;
    }
    const shares = this.cpuSharing.share(this.cpuInputs, extraLoad);
    for (const t of this.tasks) {
      const a = this.alloc.alloc[t.index];
      const x = this.contentionInputs[t.index];
      x.cpuCores = shares.cpuCores[t.index];
      x.wayMask = this.alloc.effectiveMask(t.index);
      x.colours = this.alloc.effectiveColours(t.index);
      x.mbaPct = a.mbaPct;
      x.ioWeight = a.ioWeight;
      x.occupancyWays = t.occupancyWays;
      x.extraMemBytesPerSec = t.warmBytesPerSec;
      x.measuredMissRatio = this.llcExact ? t.measuredMiss : undefined;
      if (this.siblings) x.cpiFactor = this.cpiFactor(a.cores, shares.coreBusy);
    }
    const { answers, lastMove } = this.solver.solve(this.contentionInputs, full ? undefined : QUANTUM_ITERATIONS);
    // a quantum solve takes one round of the fixed point; while its last round
    // still moved some CPI by more than UNSETTLED_MOVE, the next quantum takes
    // another (the iteration is stepped through time)
    this.unsettled = lastMove > UNSETTLED_MOVE;
    for (const t of this.tasks) {
      t.ans = answers[t.index];
      t.cpuCores = shares.cpuCores[t.index];
      if (t.lc) {
        const cpi = t.ans.cpi;
        t.lc.setSpeeds((core) => (shares.workerShare(t.index, core) * m.cores.freqGHz) / cpi, cpi);
      }
    }
  }

  // ------------------------------------------------------------------ observe

  observe(): Snapshot {
    const now = this.q.now;
    const windowNs = this.lastObserveNs < 0 ? 0 : now - this.lastObserveNs;
    this.lastObserveNs = now;
    const m = this.scenario.machine;
    const lineBytes = m.llc.lineBytes;
    const w = windowNs / 1e9;
    const views = this.allocationViews();
    const tasks: TaskSample[] = new Array(this.tasks.length);
    for (const t of this.tasks) {
      const a = this.alloc.alloc[t.index];
      const c = t.c;
      const prev = t.prev;
      const cpuCores = windowNs > 0 ? (c.cpuTimeNs - prev.cpuTimeNs) / windowNs : t.cpuCores;
      const memBandwidthBytesPerSec = windowNs > 0 ? (c.memReadBytes - prev.memReadBytes + c.memWriteBytes - prev.memWriteBytes) / w : t.ans.memReadBytesPerSec + t.ans.memWriteBytesPerSec;
      const view = views[t.index];
      const s = t.lc ? t.lc.takeWindow(now, windowNs) : null;
      // (one object literal with every field from the start, the one a class
      // lacks left undefined: a sample given its last field afterwards
      // changed shape on every observe; its number fields are doubles from
      // the start, see sample-shape.ts)
      const sample: TaskSample = {
        id: t.spec.id,
        class: t.spec.cls,
        state: a.paused ? 'paused' : 'running',
        cpuTimeNs: Math.round(c.cpuTimeNs),
        cpuCores,
        instructions: Math.round(c.instructions),
        cycles: Math.round(c.cycles),
        llcAccesses: Math.round(c.llcAccesses),
        llcMisses: Math.round(c.llcMisses),
        llcOccupancyBytes: Math.round(t.occupancyWays * this.sets * lineBytes),
        memReadBytes: Math.round(c.memReadBytes),
        memWriteBytes: Math.round(c.memWriteBytes),
        memBandwidthBytesPerSec,
        rssBytes: t.rssBytes,
        ioBytes: Math.round(c.ioBytes),
        allocation: view.allocation,
        reserved: view.reserved,
        progressPerSec: s ? undefined : windowNs > 0 ? (c.instructions - prev.instructions) / w / 1e6 : t.ans.instructionsPerSec / 1e6,
        latency: s
          ? {
              requests: s.requests,
              p50Ns: s.p50Ns,
              p95Ns: s.p95Ns,
              p99Ns: s.p99Ns,
              meanNs: s.meanNs,
              sloP99Ns: t.lc!.sloP99Ns,
              offeredRps: s.offeredRps,
              completedRps: s.completedRps,
              queueLength: s.queueLength,
            }
          : undefined,
      };
      copyCounters(c, prev);
      tasks[t.index] = sample;
    }
    const echoes: EchoResult[] = [];
    if (this.pendingEchoes.length > 0) {
      this.pendingEchoes = this.pendingEchoes.filter((e) => {
        if (e.readyAtNs > now) return true;
        e.finish?.();
        const { readyAtNs: _ready, finish: _finish, ...result } = e;
        echoes.push(result);
        return false;
      });
    }
    const snap: Snapshot = { timeNs: now, windowNs, tasks, echoes, free: this.alloc.free() };
    if (this.opts.futureHorizonNs) snap.future = this.future(now, this.opts.futureHorizonNs);
    return snap;
  }

  /**
   * Each task's allocation and reservation as a snapshot reports them, rebuilt
   * only when an action changed the allocation state, and shared (frozen)
   * between the snapshots until then (util/snapshot-views.ts).
   */
  private allocationViews(): { allocation: TaskSample['allocation']; reserved: TaskSample['reserved'] }[] {
    if (this.viewsVersion === this.alloc.version) return this.views;
    this.views = this.tasks.map((t) => {
      const a = this.alloc.alloc[t.index];
      const r = this.alloc.reserve[t.index];
      return {
        allocation: frozenAllocation({ cores: a.cores, cacheWayMask: a.wayMask, bankColours: a.colours, memBandwidthPct: a.mbaPct, ioWeight: a.ioWeight, cpuQuotaPct: a.quotaPct, paused: a.paused }),
        reserved: frozenReservation({
          cores: [...r.cores].sort((x, y) => x - y),
          cacheWayMask: r.wayMask,
          bankColours: [...r.colours].sort((x, y) => x - y),
          memBandwidthPct: r.mbaPct,
          ioWeight: r.ioWeight,
        }),
      };
    });
    this.viewsVersion = this.alloc.version;
    return this.views;
  }

  /** Demand of a task over (now, now + horizon]: rps and the cores it needs at current CPI. */
  private demandOver(t: SimTask, now: number, horizonNs: number, peak: boolean): { rps?: number; cpu: number; memBw: number } {
    const f = peak ? t.spec.load.peakOver(now, horizonNs) : t.spec.load.meanOver(now, horizonNs);
    const ipsPerCore = this.hz / t.ans.cpi;
    const bytesPerInstr = (t.kernel.apki / 1000) * t.ans.missRatio * this.lineBytes * (1 + t.kernel.writeFraction);
    if (t.lc) {
      const cpu = (f * t.kernel.instrPerRequest!) / ipsPerCore;
      return { rps: f, cpu, memBw: cpu * ipsPerCore * bytesPerInstr };
    }
    const cpu = t.spec.threads * f;
    return { cpu, memBw: cpu * ipsPerCore * bytesPerInstr };
  }

  private future(now: number, horizonNs: number): FutureDemand[] {
    return this.tasks.map((t) => {
      const d = this.demandOver(t, now, horizonNs, true);
      const peak: FutureDemand['peak'] = { cpu: d.cpu, memBw: d.memBw, llcOccupancy: t.ans.targetOccupancyWays * this.sets * this.lineBytes };
      if (d.rps !== undefined) peak.rps = d.rps;
      return { task: t.spec.id, horizonNs, peak };
    });
  }

  // ------------------------------------------------------------------ apply

  apply(actions: Action[]): ApplyResult {
    const applied: Action[] = [];
    const refused: { action: Action; reason: string }[] = [];
    for (const action of actions) {
      try {
        const changes = this.alloc.apply(action);
        this.onApplied(action, changes);
        applied.push(action);
      } catch (err) {
        if (!(err instanceof Refusal)) throw err;
        refused.push({ action, reason: err.message });
      }
    }
    if (this.dirty) this.resolve();
    return { applied, refused };
  }

  private onApplied(action: Action, changes: Change[]): void {
    const now = this.q.now;
    const t = this.tasks[this.alloc.index(action.task)];
    if (changes.some((c) => c !== 'reservation' && c !== 'echo')) this.dirty = true;
    if (changes.includes('cache')) for (const x of this.tasks) this.syncExactMask(x);
    if ((action.kind === 'setCores' || action.kind === 'migrate' || action.kind === 'release') && t.lc) {
      const before = new Set(t.lc.serverCores());
      const activationNs = Math.round(this.scenario.machine.cores.activationUs * 1000);
      t.lc.setServers(
        this.alloc.alloc[t.index].cores.map((c) => ({ coreId: c, readyAtNs: before.has(c) || t.warmedCores.has(c) ? now : now + activationNs })),
      );
    }
    if (action.kind === 'release' && action.grant.resource === 'cores') action.grant.cores.forEach((c) => t.warmedCores.delete(c));
    if (action.kind === 'warm') this.startWarm(t, action.resource, action.budgetNs);
    if (action.kind === 'echo') this.startEcho(t, action.durationNs);
  }

  private startWarm(t: SimTask, resource: string, budgetNs: number): void {
    const r = this.alloc.reserve[t.index];
    if (resource === 'cores') {
      // a worker is spun up and its state touched on each reserved core: no cold start later
      r.cores.forEach((c) => t.warmedCores.add(c));
      return;
    }
    // cacheWays: prefetch the task's hottest lines into the reserved ways, paid in DRAM traffic
    // (at most the reserved ways, less what running warm-ups already bring in)
    const gainWays = Math.min(popcount(r.wayMask) - t.warmingWays, t.profile.linesPerSet - t.occupancyWays - t.warmingWays);
    if (gainWays <= 0) return;
    const bytes = gainWays * this.sets * this.lineBytes;
    const now = this.q.now;
    // The traffic is open loop (nothing slows it as DRAM latency grows), so
    // it is bounded here: one core keeps at most WARM_LINES_IN_FLIGHT lines
    // in flight (fewer under an MBA cap, as for the task's own misses), and
    // all warm-ups together take at most WARM_SHARE_OF_PEAK of the channels'
    // peak. A budget shorter than that allows is stretched; a warm-up with no
    // share left waits for the first running one to end.
    let runningBytesPerSec = 0;
    for (const o of this.tasks) runningBytesPerSec += o.warmBytesPerSec;
    const latencyNs = Math.max(t.ans.dramLatencyNs, this.unloadedDramNs);
    const linesInFlight = WARM_LINES_IN_FLIGHT * Math.min(1, this.alloc.alloc[t.index].mbaPct / 100);
    const headroom = WARM_SHARE_OF_PEAK * this.peakBytesPerSec - runningBytesPerSec;
    const rate = Math.min(bytes / (budgetNs / 1e9), (linesInFlight * this.lineBytes) / (latencyNs / 1e9), headroom);
    if (rate === headroom && !(headroom > 0.01 * WARM_SHARE_OF_PEAK * this.peakBytesPerSec)) {
      this.warmsWaiting.push(() => this.startWarm(t, resource, budgetNs));
      return;
    }
    const durationNs = Math.ceil((bytes / rate) * 1e9);
    t.warmBytesPerSec += rate;
    t.warmingWays += gainWays;
    this.q.schedule(now + durationNs, () => {
      t.warmBytesPerSec = Math.max(0, t.warmBytesPerSec - rate);
      t.warmingWays -= gainWays;
      t.occupancyWays = Math.min(t.profile.linesPerSet, t.occupancyWays + gainWays);
      if (this.llcExact && t.pattern) this.prefetchExact(t, gainWays);
      for (const start of this.warmsWaiting.splice(0)) start();
      // solved at once, as an applied action is: the answer carries the
      // warm-up's traffic (up to half the DRAM peak), which must not outlive
      // it until the next quantum
      this.resolve();
    }, `warm-done/${t.spec.id}`, 0);
    this.dirty = true;
  }

  /** Exact mode: touch the task's own stream into the cache (a prefetch of its likely lines). */
  private prefetchExact(t: SimTask, ways: number): void {
    const llc = this.llcExact!;
    const n = Math.round(ways * this.sets * 2);
    const sliceLines = 1 << 26;
    for (let done = 0; done < n; done += this.exactBuf.length) {
      const k = Math.min(this.exactBuf.length, n - done);
      t.pattern!.fill(this.exactBuf, 0, k);
      for (let j = 0; j < k; j++) this.exactBuf[j] += (t.index % 31) * sliceLines;
      llc.accessBatch(t.index, this.exactBuf, 0, k);
    }
  }

  private echoCore(t: SimTask): number {
    const free = this.alloc.free().cores;
    if (free.length) return free[0];
    const reservedOrFirst = new Set<number>();
    this.tasks.forEach((o) => {
      if (o.lc) this.alloc.alloc[o.index].cores.forEach((c) => reservedOrFirst.add(c));
      this.alloc.reserve[o.index].cores.forEach((c) => reservedOrFirst.add(c));
    });
    for (let c = 0; c < this.scenario.machine.cores.count; c++) if (!reservedOrFirst.has(c)) return c;
    const own = this.alloc.alloc[t.index].cores;
    return own[this.echoRng.int(own.length)];
  }

  private startEcho(t: SimTask, durationNs: number): void {
    const now = this.q.now;
    if (t.lc && this.opts.serviceEcho === 'requests') {
      this.startRequestEcho(t, durationNs);
      return;
    }
    const truth = this.demandOver(t, now, durationNs, false);
    // the burst samples a share of the window's work: sampling error shrinks with the requests it saw
    const sampled = t.lc ? Math.max(1, (truth.rps ?? 0) * (durationNs / 1e9) * ECHO_SAMPLE_FRACTION) : 100;
    const noise = 1 + this.echoRng.normal() / Math.sqrt(sampled);
    const measured: EchoResult['measured'] = { cpu: Math.max(0, truth.cpu * noise), memBw: Math.max(0, truth.memBw * noise) };
    if (truth.rps !== undefined) measured.rps = Math.max(0, truth.rps * noise);
    const costNs = Math.max(MIN_ECHO_LATENCY_NS, Math.round(durationNs * ECHO_SAMPLE_FRACTION));
    // The burst runs on a spare core (free, or one of second-class work, which
    // pays for it), so the measured task is not disturbed by its own echo;
    // only when every core is reserved for first-class work does it share one.
    const core = this.echoCore(t);
    this.echoLoad.push({ core, untilNs: now + costNs });
    this.pendingEchoes.push({ task: t.spec.id, requestedAtNs: now, durationNs, measured, costCpuNs: costNs, readyAtNs: now + costNs });
    this.dirty = true;
  }

  /** serviceEcho 'requests': a burst of extra requests to the service itself (see SimPlatformOptions). */
  private startRequestEcho(t: SimTask, durationNs: number): void {
    const now = this.q.now;
    const lc = t.lc!;
    lc.runUntil(now);
    const rate = Math.max(500, 2 * t.spec.load.valueAt(now));
    if (!lc.startBurst(now, durationNs, rate, rngFor(this.opts.seed, `echo/${t.spec.id}/${now}`))) throw new Refusal('echo: a probe burst of this service is already running');
    const entry: EchoResult & { readyAtNs: number; finish?: () => void } = { task: t.spec.id, requestedAtNs: now, durationNs, measured: {}, costCpuNs: 0, readyAtNs: now + durationNs };
    entry.finish = () => {
      const r = lc.burstResult()!;
      const cpuNs = r.cycles / this.scenario.machine.cores.freqGHz;
      entry.measured = { rps: (r.accepted * 1e9) / durationNs, cpu: cpuNs / durationNs };
      entry.costCpuNs = Math.round(cpuNs);
    };
    this.pendingEchoes.push(entry);
  }
}

