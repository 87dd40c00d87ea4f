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

/** The memory model the machine uses (the DRAM analytic model, or a stand-in in tests). */
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
  let previousInput: DramStreamDemand[] = [];
  return (streams) => {
    if (previous && sameDemand(previousInput, streams)) return previous.streams;
    previous = solveDram(config, streams, previous ? { warmStart: previous } : {});
    previousInput = streams.map((x) => ({ ...x, colours: x.colours ? [...x.colours] : null }));
    return previous.streams;
  };
}

function sameDemand(a: DramStreamDemand[], b: DramStreamDemand[]): boolean {
  if (a.length !== b.length) return false;
  const total = b.reduce((s, x) => s + x.requestsPerSec, 0);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.id !== y.id || x.rowHitRate !== y.rowHitRate || x.maxOutstanding !== y.maxOutstanding) return false;
    if (Math.abs(x.requestsPerSec - y.requestsPerSec) > DRAM_REUSE_TOLERANCE * Math.max(y.requestsPerSec, 0.01 * total)) return false;
    if (Math.abs(x.readFraction - y.readFraction) > DRAM_REUSE_TOLERANCE) return false;
    const cx = x.colours;
    const cy = y.colours;
    if ((cx === null) !== (cy === null)) return false;
    if (cx && cy && (cx.length !== cy.length || cx.some((c, k) => c !== cy[k]))) return false;
  }
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
}

// Damped fixed-point rounds until no CPI moves by more than CPI_TOLERANCE
// (relative), warm-started from the previous solve's CPIs.
const MAX_ITERATIONS = 12;
const CPI_TOLERANCE = 0.002;
/** Share of the way to the new CPI a round goes, until the direction flips. */
const FULL_STEP = 0.9;

let lastIterations = 0;
/** Rounds the last solve took (for the benchmark). */
export function lastContentionIterations(): number {
  return lastIterations;
}

interface LlcInput {
  accesses: number[];
  masks: number[];
  profiles: CacheProfile[];
}

const LLC_REUSE_TOLERANCE = 0.02;

function sameLlcInput(prev: LlcInput, accesses: number[], tasks: ContentionTask[]): boolean {
  if (prev.accesses.length !== accesses.length) return false;
  let total = 0;
  let moved = 0;
  for (let i = 0; i < accesses.length; i++) {
    if (prev.masks[i] !== tasks[i].wayMask || prev.profiles[i] !== tasks[i].profile) return false;
    if ((prev.accesses[i] > 0) !== (accesses[i] > 0)) return false;
    total += accesses[i];
    moved += Math.abs(prev.accesses[i] - accesses[i]);
  }
  return moved <= LLC_REUSE_TOLERANCE * total;
}

/** What a solve leaves for the next one to start from. */
export interface ContentionWarmStart {
  cpi: number[];
  /**
   * Per task: the step size and the last CPI change of the iteration, so a
   * solve that continues the last one (the quantum loop takes one round per
   * quantum) still sees a direction flip and damps it; without them every
   * round started at the full step and an oscillating task never settled.
   */
  step?: Float64Array;
  lastDelta?: Float64Array;
  llcEvictionTime: number;
  /** The last full LLC solve and what it was computed from. */
  llc?: { input: LlcInput; result: LlcFastResult };
}

/**
 * `warm`: the previous solve's state (same tasks), to start from; `maxIterations`
 * bounds the rounds (the quantum loop uses few, since the state moves little
 * between quanta and each quantum continues the iteration).
 */
export function solveContention(m: MachineParams, tasks: ContentionTask[], dram: DramSolver, warm?: ContentionWarmStart, maxIterations = MAX_ITERATIONS): { answers: ContentionAnswer[]; warm: ContentionWarmStart; converged: boolean; lastMove: number } {
  const previousCpi = warm?.cpi;
  const n = tasks.length;
  const hz = m.freqGHz * 1e9;
  const cpi = new Array<number>(n);
  const active = new Uint8Array(n);
  const mlpEff = new Float64Array(n);
  const ips = new Float64Array(n);
  const accesses = new Array<number>(n);
  const miss = new Float64Array(n).fill(1);
  const lat = new Float64Array(n);
  const ioShare = new Float64Array(n).fill(1);
  const newCpi = new Float64Array(n);
  // a bounded solve continues the last one's iteration (damping included); a
  // full solve (after an action: the fixed point moved) starts at full step
  const continued = maxIterations < MAX_ITERATIONS && !!warm?.step && warm.step.length === n && !!warm.lastDelta && warm.lastDelta.length === n;
  const step = continued ? Float64Array.from(warm!.step!) : new Float64Array(n).fill(FULL_STEP);
  const lastDelta = continued ? Float64Array.from(warm!.lastDelta!) : new Float64Array(n);
  let anyIo = false;
  for (let i = 0; i < n; i++) {
    const t = tasks[i];
    cpi[i] = previousCpi?.[i] ?? t.kernel.cpiCore;
    active[i] = t.cpuCores > 0 ? 1 : 0;
    mlpEff[i] = Math.max(0.05, t.kernel.mlp * Math.min(1, t.mbaPct / 100));
    if (t.kernel.ioBytesPerKiloInstr > 0 && active[i]) anyIo = true;
  }
  // one object per task for the LLC and DRAM models, updated in place each round
  const llcTasks = tasks.map((t) => ({ profile: t.profile, accessesPerSec: 0, mask: t.wayMask }));
  const streams: DramStreamDemand[] = tasks.map((t, i) => ({ id: t.id, requestsPerSec: 0, rowHitRate: t.kernel.dramRowHitRate, readFraction: 1, colours: t.colours, maxOutstanding: Math.max(1, mlpEff[i] * Math.max(1, t.cpuCores)) }));
  let llc: LlcFastResult = { occupancyWays: new Array<number>(n).fill(0), missRatio: new Array<number>(n).fill(1), rootEvictionTime: warm?.llcEvictionTime ?? Infinity, evictionTime: new Array<number>(n).fill(Infinity) };
  let llcInput: LlcInput | undefined = warm?.llc?.input;
  let llcBase: LlcFastResult | undefined = warm?.llc?.result;
  let iterations = 0;
  let converged = false;
  let lastMove = 0;
  for (let it = 0; it < maxIterations; it++) {
    for (let i = 0; i < n; i++) {
      ips[i] = active[i] ? (tasks[i].cpuCores * hz * ioShare[i]) / cpi[i] : 0;
      accesses[i] = (ips[i] * tasks[i].kernel.apki) / 1000;
      llcTasks[i].accessesPerSec = accesses[i];
    }
    // Eviction times move with the total traffic: while the access rates moved
    // by less than LLC_REUSE_TOLERANCE of the total since the last full LLC
    // solve (same masks), only each task's share at its new rate is re-evaluated.
    if (llcInput && llcBase && sameLlcInput(llcInput, accesses, tasks)) {
      llc = updateLlcSharing(m.ways, llcTasks, llcBase);
    } else {
      llc = solveLlcSharing(m.ways, llcTasks, Number.isFinite(llc.rootEvictionTime) ? llc.rootEvictionTime : undefined);
      llcBase = llc;
      llcInput = { accesses: [...accesses], masks: tasks.map((t) => t.wayMask), profiles: tasks.map((t) => t.profile) };
    }
    for (let i = 0; i < n; i++) {
      const t = tasks[i];
      let mi: number;
      if (t.measuredMissRatio !== undefined) mi = t.measuredMissRatio;
      else {
        const steady = llc.missRatio[i];
        const target = llc.occupancyWays[i];
        // the part of its share not yet filled misses
        mi = target <= 0 || t.occupancyWays >= target ? steady : steady + (1 - steady) * (1 - t.occupancyWays / target);
      }
      miss[i] = mi;
      const missesPerSec = accesses[i] * mi;
      const extraReq = t.extraMemBytesPerSec / m.lineBytes;
      const req = missesPerSec * (1 + t.kernel.writeFraction) + extraReq;
      streams[i].requestsPerSec = req;
      streams[i].readFraction = (missesPerSec + extraReq) / Math.max(1e-9, req);
    }
    const answers = dram(streams);
    for (let i = 0; i < n; i++) {
      lat[i] = answers[i].avgLatencyNs;
      const k = tasks[i].kernel;
      newCpi[i] = (k.cpiCore + ((k.apki / 1000) * miss[i] * lat[i] * m.freqGHz) / mlpEff[i]) * (tasks[i].cpiFactor ?? 1);
    }
    // IO: weighted max-min share of the device (skipped when no task does IO)
    if (anyIo) {
      const ioDemand = tasks.map((t, i) => (active[i] ? ((t.cpuCores * hz) / newCpi[i]) * (t.kernel.ioBytesPerKiloInstr / 1000) : 0));
      const ioAlloc = weightedMaxMin(ioDemand, tasks.map((t) => t.ioWeight), m.ioBandwidthBytesPerSec);
      for (let i = 0; i < n; i++) ioShare[i] = ioDemand[i] > 0 ? Math.min(1, ioAlloc[i] / ioDemand[i]) : 1;
    }
    // Step toward the new CPI; halve a task's step whenever its direction flips
    // (memory-bound tasks feed back negatively through DRAM latency and can
    // oscillate), otherwise go most of the way.
    let moved = 0;
    for (let i = 0; i < n; i++) {
      const delta = newCpi[i] - cpi[i];
      if ((it > 0 || continued) && delta * lastDelta[i] < 0) step[i] *= 0.5;
      else if (it === 0 && continued && delta * lastDelta[i] > 0) step[i] = Math.min(FULL_STEP, step[i] * 1.5); // same direction again: speed back up
      lastDelta[i] = delta;
      const next = it === 0 && !previousCpi ? newCpi[i] : cpi[i] + step[i] * delta;
      moved = Math.max(moved, Math.abs(next - cpi[i]) / cpi[i]);
      cpi[i] = next;
    }
    iterations = it + 1;
    lastMove = moved;
    if (moved < CPI_TOLERANCE && (it > 0 || previousCpi)) {
      converged = true;
      break;
    }
  }
  lastIterations = iterations;
  const answers: ContentionAnswer[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const t = tasks[i];
    const ipsI = active[i] ? (t.cpuCores * hz * ioShare[i]) / cpi[i] : 0;
    const acc = (ipsI * t.kernel.apki) / 1000;
    const missesPerSec = acc * miss[i];
    answers[i] = {
      cpi: cpi[i],
      instructionsPerSec: ipsI,
      llcAccessesPerSec: acc,
      missRatio: miss[i],
      targetOccupancyWays: llc.occupancyWays[i],
      memReadBytesPerSec: missesPerSec * m.lineBytes + t.extraMemBytesPerSec,
      memWriteBytesPerSec: missesPerSec * t.kernel.writeFraction * m.lineBytes,
      dramLatencyNs: lat[i],
      ioBytesPerSec: (ipsI * t.kernel.ioBytesPerKiloInstr) / 1000,
      cpuUsable: ioShare[i],
    };
  }
  return { answers, warm: { cpi, step, lastDelta, llcEvictionTime: llc.rootEvictionTime, llc: llcInput && llcBase ? { input: llcInput, result: llcBase } : undefined }, converged, lastMove };
}

/** Weighted max-min fair allocation of `capacity` among demands. */
export function weightedMaxMin(demand: number[], weight: number[], capacity: number): number[] {
  const alloc = new Array<number>(demand.length).fill(0);
  let left = capacity;
  let open = demand.map((d, i) => i).filter((i) => demand[i] > 0);
  while (open.length > 0 && left > 1e-9) {
    const wSum = open.reduce((s, i) => s + weight[i], 0);
    const satisfied = open.filter((i) => demand[i] - alloc[i] <= (left * weight[i]) / wSum);
    if (satisfied.length === 0) {
      for (const i of open) alloc[i] += (left * weight[i]) / wSum;
      break;
    }
    for (const i of satisfied) {
      left -= demand[i] - alloc[i];
      alloc[i] = demand[i];
    }
    open = open.filter((i) => !satisfied.includes(i));
  }
  return alloc;
}
