// Contention between co-located tasks, solved whenever the machine's state
// changes (an allocation, a phase, a load shift), as a fixed point:
//
//   instructions/s  = cores' worth of CPU x frequency / CPI
//   LLC accesses/s  = instructions/s x APKI / 1000
//   miss ratio      = shared-LLC model (fast mode: natural partition over
//                     profiles; exact mode: measured on the exact cache)
//   DRAM latency    = memory model at everyone's miss traffic
//   CPI             = CPI_core + APKI/1000 x miss ratio x DRAM latency (cycles) / MLP_eff
//                     (x the task's cpiFactor: busy sibling cores, when the
//                     machine models core interference)
//
// MLP_eff is the kernel's memory-level parallelism scaled by its MBA level
// (Intel MBA throttles a core's outstanding requests). IO kernels are further
// limited by their weighted fair share of the IO device. A task's cold cache
// (occupancy below its steady-state share, after a grant or a migration)
// misses on the part it has not filled yet.
import type { Kernel } from '../workloads/kernel.js';
import type { CacheProfile } from '../llc/cache-profile.js';
import { solveLlcSharing, updateLlcSharing, type LlcFastResult } from '../llc/llc-fast-model.js';
import { solveDram, type DramSolution, type DramStreamAnswer, type DramStreamDemand } from '../dram/dram-analytic-model.js';
import type { DramConfig } from '../dram/dram-config.js';

/** The memory model the machine uses (the DRAM analytic model, or a stand-in); a stream may stand for several identical ones (`copies`), one answer each. */
export type DramSolver = (streams: DramStreamDemand[]) => Pick<DramStreamAnswer, 'avgLatencyNs' | 'achievedRequestsPerSec'>[];

/**
 * The DRAM analytic model of sim/dram for a configuration. Demand moves little
 * between calls: when no stream's demand (rate, locality, colours, MLP) moved
 * by more than DRAM_REUSE_TOLERANCE, the previous answer stands (latency is
 * smooth in demand, so the error is of that order); otherwise the model is
 * solved again, starting from the previous solution.
 */
const DRAM_REUSE_TOLERANCE = 0.01;

export function analyticDram(config: DramConfig): DramSolver {
  let previous: DramSolution | undefined;
  const previousInput = new DemandRecord();
  return (streams) => {
    if (previous && previousInput.same(streams)) return previous.streams;
    previous = solveDram(config, streams, previous ? { warmStart: previous } : {});
    previousInput.record(streams);
    return previous.streams;
  };
}

/**
 * The demand a DRAM solution was computed for, kept in arrays reused from
 * call to call: copying the 32 stream objects by spread, the way this was
 * first written, cost about as much as a warm DRAM solve.
 */
class DemandRecord {
  private n = 0;
  private ids: string[] = [];
  private rate = new Float64Array(0);
  private rowHit = new Float64Array(0);
  private read = new Float64Array(0);
  private outstanding = new Float64Array(0);
  private copies = new Float64Array(0);
  private colours: (number[] | null)[] = [];

  record(streams: readonly DramStreamDemand[]): void {
    const n = streams.length;
    if (this.rate.length < n) {
      this.rate = new Float64Array(n);
      this.rowHit = new Float64Array(n);
      this.read = new Float64Array(n);
      this.outstanding = new Float64Array(n);
      this.copies = new Float64Array(n);
    }
    this.n = n;
    this.ids.length = n;
    this.colours.length = n;
    for (let i = 0; i < n; i++) {
      const s = streams[i];
      this.ids[i] = s.id;
      this.rate[i] = s.requestsPerSec;
      this.rowHit[i] = s.rowHitRate;
      this.read[i] = s.readFraction;
      this.outstanding[i] = s.maxOutstanding;
      this.copies[i] = s.copies ?? 1;
      // a copy, since callers refill their stream objects (and may reuse the arrays)
      const c = s.colours;
      const kept = this.colours[i];
      this.colours[i] = c === null ? null : kept && sameColours(kept, c) ? kept : [...c];
    }
  }

  /** Whether no stream's demand moved by more than DRAM_REUSE_TOLERANCE since record(). */
  same(b: readonly DramStreamDemand[]): boolean {
    if (this.n !== b.length) return false;
    let total = 0;
    for (let i = 0; i < b.length; i++) total += b[i].requestsPerSec;
    for (let i = 0; i < b.length; i++) {
      const y = b[i];
      if (this.ids[i] !== y.id || this.rowHit[i] !== y.rowHitRate || this.outstanding[i] !== y.maxOutstanding || this.copies[i] !== (y.copies ?? 1)) return false;
      if (Math.abs(this.rate[i] - y.requestsPerSec) > DRAM_REUSE_TOLERANCE * Math.max(y.requestsPerSec, 0.01 * total)) return false;
      if (Math.abs(this.read[i] - y.readFraction) > DRAM_REUSE_TOLERANCE) return false;
      const cx = this.colours[i];
      const cy = y.colours;
      if ((cx === null) !== (cy === null)) return false;
      if (cx && cy && !sameColours(cx, cy)) return false;
    }
    return true;
  }
}

function sameColours(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

export interface ContentionTask {
  id: string;
  kernel: Kernel;
  profile: CacheProfile;
  /** Cores' worth of CPU time the task runs on (after sharing, quota, pause, activity). */
  cpuCores: number;
  wayMask: number;
  colours: number[] | null;
  mbaPct: number;
  ioWeight: number;
  /** Lines per set it holds now (below the steady share after a grant: cold). */
  occupancyWays: number;
  /** Extra DRAM traffic it causes now (warming), bytes/s. */
  extraMemBytesPerSec: number;
  /** Miss ratio measured on the exact cache (exact mode); overrides the fast model. */
  measuredMissRatio?: number;
  /** Factor on the task's CPI from busy sibling cores (core interference); 1 when absent. */
  cpiFactor?: number;
}

export interface ContentionAnswer {
  cpi: number;
  instructionsPerSec: number;
  llcAccessesPerSec: number;
  missRatio: number;
  /** Steady-state lines per set the task would hold. */
  targetOccupancyWays: number;
  /** Miss ratio once that share has filled: missRatio less the cold-miss excess of a share still filling. */
  steadyMissRatio: number;
  /** Miss ratio at the solve (steady plus the whole excess at the occupancy then): the rate its share fills at. */
  fillMissRatio: number;
  memReadBytesPerSec: number;
  memWriteBytesPerSec: number;
  dramLatencyNs: number;
  ioBytesPerSec: number;
  /** Share of its CPU it can use (below 1 when IO-bound: it blocks). */
  cpuUsable: number;
}

export interface MachineParams {
  freqGHz: number;
  ways: number;
  lineBytes: number;
  ioBandwidthBytesPerSec: number;
  /**
   * The LLC's sets and the time an answer stands for (the simulator's
   * quantum): a filling share's cold-miss excess is averaged over that time
   * (averagedColdMissRatio). Without them the excess is the one at the solve.
   */
  llcSets?: number;
  coldHorizonSec?: number;
}

// Damped fixed-point rounds until no CPI moves by more than CPI_TOLERANCE
// (relative), warm-started from the previous solve's CPIs.
const MAX_ITERATIONS = 12;
const CPI_TOLERANCE = 0.002;
/** Share of the way to the new CPI a round goes, until the direction flips. */
const FULL_STEP = 0.9;

/** What the last full LLC solve was computed from, per set of identical tasks. */
interface LlcInput {
  sets: number;
  accesses: Float64Array;
  masks: Int32Array;
  copies: Float64Array;
  profiles: CacheProfile[];
}

const LLC_REUSE_TOLERANCE = 0.02;

function sameLlcInput(prev: LlcInput, sets: number, llcTasks: readonly LlcSetTask[]): boolean {
  if (prev.sets !== sets) return false;
  let total = 0;
  let moved = 0;
  for (let r = 0; r < sets; r++) {
    const t = llcTasks[r];
    if (prev.masks[r] !== t.mask || prev.profiles[r] !== t.profile || prev.copies[r] !== t.copies) return false;
    if ((prev.accesses[r] > 0) !== (t.accessesPerSec > 0)) return false;
    total += t.copies * t.accessesPerSec;
    moved += t.copies * Math.abs(prev.accesses[r] - t.accessesPerSec);
  }
  return moved <= LLC_REUSE_TOLERANCE * total;
}

interface LlcSetTask {
  profile: CacheProfile;
  accessesPerSec: number;
  mask: number;
  copies: number;
}

/** The fields of a kernel the solver reads. */
function sameKernelCosts(a: Kernel, b: Kernel): boolean {
  return a === b || (a.cpiCore === b.cpiCore && a.mlp === b.mlp && a.apki === b.apki && a.writeFraction === b.writeFraction && a.dramRowHitRate === b.dramRowHitRate && a.ioBytesPerKiloInstr === b.ioBytesPerKiloInstr);
}

/**
 * The contention fixed point of one machine, solved again and again as its
 * state moves. Each solve starts from the last one's state: its CPIs, and per
 * task the step size and the last CPI change of the iteration, so a solve
 * that continues the last one (the quantum loop takes one round per quantum)
 * still sees a direction flip and damps it (without them every round started
 * at the full step and an oscillating task never settled); the last LLC
 * eviction time; and the last full LLC solve with what it was computed from.
 * Its work arrays and answer objects are allocated once per task count and
 * reused: the simulator's fast mode solves over a hundred times a simulated
 * second, and allocating them each time was about 50 KB of garbage a solve.
 */
export class ContentionSolver {
  private n = -1;
  private cpi = new Float64Array(0);
  private active = new Uint8Array(0);
  private mlpEff = new Float64Array(0);
  private ips = new Float64Array(0);
  private accesses = new Float64Array(0);
  private miss = new Float64Array(0);
  private lat = new Float64Array(0);
  private ioShare = new Float64Array(0);
  private newCpi = new Float64Array(0);
  private step = new Float64Array(0);
  private lastDelta = new Float64Array(0);
  private ioDemand = new Float64Array(0);
  private ioWeight = new Float64Array(0);
  /** Sets of identical tasks: each task's set, each set's first task and its size. */
  private setOf = new Int32Array(0);
  private setFirst = new Int32Array(0);
  private setCopies = new Float64Array(0);
  /** One object per set for the LLC and DRAM models, reused. */
  private llcTasks: LlcSetTask[] = [];
  private streams: DramStreamDemand[] = [];
  private answers: ContentionAnswer[] = [];
  /** Whether a solve has run: its CPIs, steps and eviction time are the next start. */
  private solved = false;
  private llcEvictionTime = Infinity;
  private llcInput: LlcInput | undefined;
  private llcBase: LlcFastResult | undefined;

  constructor(
    private readonly m: MachineParams,
    private readonly dram: DramSolver,
  ) {}

  private size(n: number): void {
    if (n === this.n) return;
    this.n = n;
    this.cpi = new Float64Array(n);
    this.active = new Uint8Array(n);
    this.mlpEff = new Float64Array(n);
    this.ips = new Float64Array(n);
    this.accesses = new Float64Array(n);
    this.miss = new Float64Array(n);
    this.lat = new Float64Array(n);
    this.ioShare = new Float64Array(n);
    this.newCpi = new Float64Array(n);
    this.step = new Float64Array(n);
    this.lastDelta = new Float64Array(n);
    this.ioDemand = new Float64Array(n);
    this.ioWeight = new Float64Array(n);
    this.setOf = new Int32Array(n);
    this.setFirst = new Int32Array(n);
    this.setCopies = new Float64Array(n);
    this.llcTasks = [];
    this.streams = [];
    this.answers = [];
    this.solved = false;
    this.llcEvictionTime = Infinity;
    this.llcInput = undefined;
    this.llcBase = undefined;
  }

  /**
   * Solve for `tasks` (the same tasks, in the same order, as the last solve:
   * a different count starts afresh). `maxIterations` bounds the rounds: a
   * bounded solve continues the last one's iteration, damping included; a
   * full one (after an action: the fixed point moved) starts at full step.
   * The answers returned are this solver's, overwritten by the next solve.
   */
  solve(tasks: ContentionTask[], maxIterations = MAX_ITERATIONS): { answers: ContentionAnswer[]; converged: boolean; lastMove: number } {
    const m = this.m;
    const n = tasks.length;
    this.size(n);
    const hadPrevious = this.solved;
    const hz = m.freqGHz * 1e9;
    const { cpi, active, mlpEff, ips, accesses, miss, lat, ioShare, newCpi, step, lastDelta } = this;
    miss.fill(1);
    ioShare.fill(1);
    const continued = maxIterations < MAX_ITERATIONS && hadPrevious;
    if (!continued) {
      step.fill(FULL_STEP);
      lastDelta.fill(0);
    }
    let anyIo = false;
    for (let i = 0; i < n; i++) {
      const t = tasks[i];
      if (!hadPrevious) cpi[i] = t.kernel.cpiCore;
      active[i] = t.cpuCores > 0 ? 1 : 0;
      mlpEff[i] = Math.max(0.05, t.kernel.mlp * Math.min(1, t.mbaPct / 100));
      if (t.kernel.ioBytesPerKiloInstr > 0 && active[i]) anyIo = true;
    }
    // The rounds run on one task of each set of identical ones (copies of a
    // job: same inputs and same iterate), which the LLC and DRAM models count
    // once per copy; the others take its results at the end.
    const sets = this.groupIdentical(tasks);
    const { setOf, setFirst, setCopies } = this;
    // one object per set for the LLC and DRAM models, updated in place each round
    const llcTasks = this.llcTasks;
    const streams = this.streams;
    if (llcTasks.length > sets) llcTasks.length = sets;
    if (streams.length > sets) streams.length = sets;
    for (let r = 0; r < sets; r++) {
      const i = setFirst[r];
      const t = tasks[i];
      const maxOutstanding = Math.max(1, mlpEff[i] * Math.max(1, t.cpuCores));
      const l = (llcTasks[r] ??= { profile: t.profile, accessesPerSec: 0, mask: t.wayMask, copies: 1 });
      l.profile = t.profile;
      l.accessesPerSec = 0;
      l.mask = t.wayMask;
      l.copies = setCopies[r];
      const s = (streams[r] ??= { id: t.id, requestsPerSec: 0, rowHitRate: t.kernel.dramRowHitRate, readFraction: 1, colours: t.colours, maxOutstanding, copies: 1 });
      s.id = t.id;
      s.requestsPerSec = 0;
      s.rowHitRate = t.kernel.dramRowHitRate;
      s.readFraction = 1;
      s.colours = t.colours;
      s.maxOutstanding = maxOutstanding;
      s.copies = setCopies[r];
    }
    let llc: LlcFastResult | undefined;
    let rootEvictionTime = this.llcEvictionTime;
    let converged = false;
    let lastMove = 0;
    for (let it = 0; it < maxIterations; it++) {
      for (let r = 0; r < sets; r++) {
        const i = setFirst[r];
        ips[i] = active[i] ? (tasks[i].cpuCores * hz * ioShare[i]) / cpi[i] : 0;
        accesses[i] = (ips[i] * tasks[i].kernel.apki) / 1000;
        llcTasks[r].accessesPerSec = accesses[i];
      }
      // Eviction times move with the total traffic: while the access rates moved
      // by less than LLC_REUSE_TOLERANCE of the total since the last full LLC
      // solve (same masks), only each task's share at its new rate is re-evaluated.
      if (this.llcInput && this.llcBase && sameLlcInput(this.llcInput, sets, llcTasks)) {
        llc = updateLlcSharing(m.ways, llcTasks, this.llcBase);
      } else {
        llc = solveLlcSharing(m.ways, llcTasks, Number.isFinite(rootEvictionTime) ? rootEvictionTime : undefined);
        this.llcBase = llc;
        const input = this.llcInput ?? { sets: 0, accesses: new Float64Array(n), masks: new Int32Array(n), copies: new Float64Array(n), profiles: new Array<CacheProfile>(n) };
        input.sets = sets;
        for (let r = 0; r < sets; r++) {
          input.accesses[r] = llcTasks[r].accessesPerSec;
          input.masks[r] = llcTasks[r].mask;
          input.copies[r] = llcTasks[r].copies;
          input.profiles[r] = llcTasks[r].profile;
        }
        this.llcInput = input;
      }
      rootEvictionTime = llc.rootEvictionTime;
      for (let r = 0; r < sets; r++) {
        const i = setFirst[r];
        const t = tasks[i];
        let mi: number;
        if (t.measuredMissRatio !== undefined) mi = t.measuredMissRatio;
        else mi = averagedColdMissRatio(llc.missRatio[r], llc.occupancyWays[r], t.occupancyWays, accesses[i], m.llcSets, m.coldHorizonSec);
        miss[i] = mi;
        const missesPerSec = accesses[i] * mi;
        const extraReq = t.extraMemBytesPerSec / m.lineBytes;
        const req = missesPerSec * (1 + t.kernel.writeFraction) + extraReq;
        streams[r].requestsPerSec = req;
        streams[r].readFraction = (missesPerSec + extraReq) / Math.max(1e-9, req);
      }
      const dramAnswers = this.dram(streams);
      for (let r = 0; r < sets; r++) {
        const i = setFirst[r];
        lat[i] = dramAnswers[r].avgLatencyNs;
        const k = tasks[i].kernel;
        newCpi[i] = (k.cpiCore + ((k.apki / 1000) * miss[i] * lat[i] * m.freqGHz) / mlpEff[i]) * (tasks[i].cpiFactor ?? 1);
      }
      // IO: weighted max-min share of the device (skipped when no task does IO)
      if (anyIo) {
        const { ioDemand, ioWeight } = this;
        for (let r = 0; r < sets; r++) {
          const i = setFirst[r];
          const t = tasks[i];
          ioDemand[r] = active[i] ? ((t.cpuCores * hz) / newCpi[i]) * (t.kernel.ioBytesPerKiloInstr / 1000) : 0;
          ioWeight[r] = t.ioWeight;
        }
        const ioAlloc = weightedMaxMin(ioDemand, ioWeight, m.ioBandwidthBytesPerSec, setCopies, sets);
        for (let r = 0; r < sets; r++) ioShare[setFirst[r]] = ioDemand[r] > 0 ? Math.min(1, ioAlloc[r] / ioDemand[r]) : 1;
      }
      // Step toward the new CPI; halve a task's step whenever its direction flips
      // (memory-bound tasks feed back negatively through DRAM latency and can
      // oscillate), otherwise go most of the way.
      let moved = 0;
      for (let r = 0; r < sets; r++) {
        const i = setFirst[r];
        const delta = newCpi[i] - cpi[i];
        if ((it > 0 || continued) && delta * lastDelta[i] < 0) step[i] *= 0.5;
        else if (it === 0 && continued && delta * lastDelta[i] > 0) step[i] = Math.min(FULL_STEP, step[i] * 1.5); // same direction again: speed back up
        lastDelta[i] = delta;
        const next = it === 0 && !hadPrevious ? newCpi[i] : cpi[i] + step[i] * delta;
        moved = Math.max(moved, Math.abs(next - cpi[i]) / cpi[i]);
        cpi[i] = next;
      }
      lastMove = moved;
      if (moved < CPI_TOLERANCE && (it > 0 || hadPrevious)) {
        converged = true;
        break;
      }
    }
    this.solved = true;
    this.llcEvictionTime = rootEvictionTime;
    const answers = this.answers;
    for (let i = 0; i < n; i++) {
      const t = tasks[i];
      const r = setOf[i];
      const first = setFirst[r];
      if (first !== i) {
        // a copy: its set's iterate and results
        cpi[i] = cpi[first];
        step[i] = step[first];
        lastDelta[i] = lastDelta[first];
        miss[i] = miss[first];
        lat[i] = lat[first];
        ioShare[i] = ioShare[first];
      }
      const ipsI = active[i] ? (t.cpuCores * hz * ioShare[i]) / cpi[i] : 0;
      const acc = (ipsI * t.kernel.apki) / 1000;
      const missesPerSec = acc * miss[i];
      const a = answers[i] ?? (answers[i] = { cpi: 0, instructionsPerSec: 0, llcAccessesPerSec: 0, missRatio: 0, targetOccupancyWays: 0, steadyMissRatio: 0, fillMissRatio: 0, memReadBytesPerSec: 0, memWriteBytesPerSec: 0, dramLatencyNs: 0, ioBytesPerSec: 0, cpuUsable: 0 });
      a.cpi = cpi[i];
      a.instructionsPerSec = ipsI;
      a.llcAccessesPerSec = acc;
      a.missRatio = miss[i];
      a.targetOccupancyWays = llc ? llc.occupancyWays[r] : 0;
      if (t.measuredMissRatio !== undefined || !llc) a.steadyMissRatio = a.fillMissRatio = miss[i];
      else {
        a.steadyMissRatio = llc.missRatio[r];
        a.fillMissRatio = coldMissRatio(llc.missRatio[r], llc.occupancyWays[r], t.occupancyWays);
      }
      a.memReadBytesPerSec = missesPerSec * m.lineBytes + t.extraMemBytesPerSec;
      a.memWriteBytesPerSec = missesPerSec * t.kernel.writeFraction * m.lineBytes;
      a.dramLatencyNs = lat[i];
      a.ioBytesPerSec = (ipsI * t.kernel.ioBytesPerKiloInstr) / 1000;
      a.cpuUsable = ioShare[i];
    }
    return { answers, converged, lastMove };
  }

  /**
   * Sets of identical tasks: the same inputs the solver reads (kernel costs,
   * cache profile, CPU, mask, colours, MBA, IO weight, occupancy, warm-up
   * traffic, core interference) and the same iterate (CPI, step, last move),
   * so every round would compute the same for each. Fills setOf, setFirst
   * and setCopies; returns the number of sets.
   */
  private groupIdentical(tasks: ContentionTask[]): number {
    const { setOf, setFirst, setCopies, cpi, step, lastDelta } = this;
    let sets = 0;
    for (let i = 0; i < tasks.length; i++) {
      const a = tasks[i];
      let set = -1;
      for (let r = 0; r < sets && set < 0; r++) {
        const j = setFirst[r];
        const b = tasks[j];
        if (
          a.profile === b.profile &&
          a.cpuCores === b.cpuCores &&
          a.wayMask === b.wayMask &&
          cpi[i] === cpi[j] &&
          step[i] === step[j] &&
          lastDelta[i] === lastDelta[j] &&
          a.occupancyWays === b.occupancyWays &&
          a.mbaPct === b.mbaPct &&
          a.ioWeight === b.ioWeight &&
          a.extraMemBytesPerSec === b.extraMemBytesPerSec &&
          a.measuredMissRatio === b.measuredMissRatio &&
          (a.cpiFactor ?? 1) === (b.cpiFactor ?? 1) &&
          sameKernelCosts(a.kernel, b.kernel) &&
          (a.colours === b.colours || (a.colours !== null && b.colours !== null && sameColours(a.colours, b.colours)))
        )
          set = r;
      }
      if (set < 0) {
        set = sets++;
        setFirst[set] = i;
        setCopies[set] = 0;
      }
      setOf[i] = set;
      setCopies[set]++;
    }
    return sets;
  }
}

/** A task's miss ratio while its share (`targetWays`) is filling: the part not yet filled misses. */
function coldMissRatio(steady: number, targetWays: number, occupancyWays: number): number {
  return steady + coldExcess(steady, targetWays, occupancyWays);
}

/** The hits a filling share misses still: the unfilled part of its steady hits (0 once full). */
function coldExcess(steady: number, targetWays: number, occupancyWays: number): number {
  return targetWays <= 0 || occupancyWays >= targetWays ? 0 : (1 - steady) * (1 - occupancyWays / targetWays);
}

/**
 * The miss ratio of a filling share averaged over the next `horizonSec`: the
 * share fills at its miss rate at the start (accesses x that miss ratio, per
 * set), so its cold-miss excess falls linearly to 0 when it is full. An
 * answer stands for a whole quantum; charged the excess at the solve, a
 * share that fills in part of the quantum (a first-class service's, under a
 * way at a few hundred ways a second: 1-2 ms of a 5 ms quantum) paid its
 * cold misses for all of it.
 */
export function averagedColdMissRatio(steady: number, targetWays: number, occupancyWays: number, accessesPerSec: number, sets: number | undefined, horizonSec: number | undefined): number {
  if (targetWays <= 0 || occupancyWays >= targetWays) return steady;
  const cold = coldExcess(steady, targetWays, occupancyWays);
  if (sets === undefined || horizonSec === undefined || !(horizonSec > 0) || !(accessesPerSec > 0)) return steady + cold;
  const fillSec = ((targetWays - occupancyWays) * sets) / (accessesPerSec * (steady + cold));
  return steady + (fillSec >= horizonSec ? cold * (1 - horizonSec / (2 * fillSec)) : (cold * fillSec) / (2 * horizonSec));
}

/**
 * Weighted max-min fair allocation of `capacity` among the first `count`
 * demands: rounds that satisfy every demand below its weighted share of
 * what is left, until none is, and then split the rest by weight. `copies`:
 * demand i stands for that many identical ones (its allocation is each
 * one's). (Typed arrays for the same reason as LlcFastResult's: a plain
 * array of demands or allocations that were all whole numbers in one call
 * and not in the next cost the solver its compiled code. And no work
 * arrays: it runs in every round of every contention solve.)
 */
export function weightedMaxMin(demand: ArrayLike<number>, weight: ArrayLike<number>, capacity: number, copies?: ArrayLike<number>, count = demand.length): Float64Array {
  // an open demand (not yet satisfied) has allocation 0; one satisfied in the
  // round being decided is marked -1 until the round's share is known
  const alloc = new Float64Array(count);
  let left = capacity;
  for (;;) {
    let wSum = 0;
    let open = false;
    for (let i = 0; i < count; i++) {
      if (demand[i] > 0 && alloc[i] === 0) {
        wSum += (copies === undefined ? 1 : copies[i]) * weight[i];
        open = true;
      }
    }
    if (!open || !(left > 1e-9)) break;
    let satisfied = false;
    for (let i = 0; i < count; i++) {
      if (demand[i] > 0 && alloc[i] === 0 && demand[i] <= (left * weight[i]) / wSum) {
        alloc[i] = -1;
        satisfied = true;
      }
    }
    if (!satisfied) {
      for (let i = 0; i < count; i++) if (demand[i] > 0 && alloc[i] === 0) alloc[i] = (left * weight[i]) / wSum;
      break;
    }
    for (let i = 0; i < count; i++) {
      if (alloc[i] !== -1) continue;
      left -= (copies === undefined ? 1 : copies[i]) * demand[i];
      alloc[i] = demand[i];
    }
  }
  return alloc;
}
