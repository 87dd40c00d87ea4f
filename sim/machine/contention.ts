// Contention between co-located tasks, solved whenever the machine's state
// changes (an allocation, a phase, a load shift), as a fixed point:
//
//   instructions/s  = cores' worth of CPU x frequency / CPI
//   LLC accesses/s  = instructions/s x APKI / 1000
//   miss ratio      = shared-LLC model (fast mode: natural partition over
//                     profiles; exact mode: measured on the exact cache)
//   DRAM latency    = memory model at everyone's miss traffic
//   CPI             = CPI_core + APKI/1000 x miss ratio x DRAM latency (cycles) / MLP_eff
//
// MLP_eff is the kernel's memory-level parallelism scaled by its MBA level
// (Intel MBA throttles a core's outstanding requests). IO kernels are further
// limited by their weighted fair share of the IO device. A task's cold cache
// (occupancy below its steady-state share, after a grant or a migration)
// misses on the part it has not filled yet.
import type { Kernel } from '../workloads/kernel.js';
import type { CacheProfile } from '../llc/cache-profile.js';
import { solveLlcSharing } from '../llc/llc-fast-model.js';
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

let lastIterations = 0;
/** Rounds the last solve took (for the benchmark). */
export function lastContentionIterations(): number {
  return lastIterations;
}

/** What a solve leaves for the next one to start from. */
export interface ContentionWarmStart {
  cpi: number[];
  llcEvictionTime: number;
}

/**
 * `warm`: the previous solve's state (same tasks), to start from; `maxIterations`
 * bounds the rounds (the quantum loop uses few, since the state moves little
 * between quanta and each quantum continues the iteration).
 */
export function solveContention(m: MachineParams, tasks: ContentionTask[], dram: DramSolver, warm?: ContentionWarmStart, maxIterations = MAX_ITERATIONS): { answers: ContentionAnswer[]; warm: ContentionWarmStart } {
  const previousCpi = warm?.cpi;
  const n = tasks.length;
  const hz = m.freqGHz * 1e9;
  const cpi = tasks.map((t, i) => previousCpi?.[i] ?? t.kernel.cpiCore);
  const active = tasks.map((t) => t.cpuCores > 0);
  // Steady LLC shares depend on access rates, which depend on CPI: iterate.
  let llc = { occupancyWays: new Array<number>(n).fill(0), missRatio: new Array<number>(n).fill(1), rootEvictionTime: warm?.llcEvictionTime ?? Infinity };
  let lat = new Array<number>(n).fill(0);
  let ioShare = new Array<number>(n).fill(1);
  let miss = new Array<number>(n).fill(1);
  let iterations = 0;
  const step = new Array<number>(n).fill(0.9);
  const lastDelta = new Array<number>(n).fill(0);
  const mlpEff = tasks.map((t) => Math.max(0.05, t.kernel.mlp * Math.min(1, t.mbaPct / 100)));
  for (let it = 0; it < maxIterations; it++) {
    const ips = tasks.map((t, i) => (active[i] ? (t.cpuCores * hz * ioShare[i]) / cpi[i] : 0));
    const accesses = tasks.map((t, i) => (ips[i] * t.kernel.apki) / 1000);
    llc = solveLlcSharing(
      m.ways,
      tasks.map((t, i) => ({ profile: t.profile, accessesPerSec: accesses[i], mask: t.wayMask })),
      Number.isFinite(llc.rootEvictionTime) ? llc.rootEvictionTime : undefined,
    );
    miss = tasks.map((t, i) => {
      if (t.measuredMissRatio !== undefined) return t.measuredMissRatio;
      const steady = llc.missRatio[i];
      const target = llc.occupancyWays[i];
      if (target <= 0 || t.occupancyWays >= target) return steady;
      // the part of its share not yet filled misses
      return steady + (1 - steady) * (1 - t.occupancyWays / target);
    });
    const streams: DramStreamDemand[] = tasks.map((t, i) => {
      const missesPerSec = accesses[i] * miss[i];
      const extraReq = t.extraMemBytesPerSec / m.lineBytes;
      return {
        id: t.id,
        requestsPerSec: missesPerSec * (1 + t.kernel.writeFraction) + extraReq,
        rowHitRate: t.kernel.dramRowHitRate,
        readFraction: (missesPerSec + extraReq) / Math.max(1e-9, missesPerSec * (1 + t.kernel.writeFraction) + extraReq),
        colours: t.colours,
        maxOutstanding: Math.max(1, mlpEff[i] * Math.max(1, t.cpuCores)),
      };
    });
    const answers = dram(streams);
    lat = answers.map((a) => a.avgLatencyNs);
    const newCpi = tasks.map((t, i) => t.kernel.cpiCore + ((t.kernel.apki / 1000) * miss[i] * lat[i] * m.freqGHz) / mlpEff[i]);
    // IO: weighted max-min share of the device
    const ioDemand = tasks.map((t, i) => (active[i] ? ((t.cpuCores * hz) / newCpi[i]) * (t.kernel.ioBytesPerKiloInstr / 1000) : 0));
    const ioAlloc = weightedMaxMin(ioDemand, tasks.map((t) => t.ioWeight), m.ioBandwidthBytesPerSec);
    ioShare = ioDemand.map((d, i) => (d > 0 ? Math.min(1, ioAlloc[i] / d) : 1));
    // Step toward the new CPI; halve a task's step whenever its direction flips
    // (memory-bound tasks feed back negatively through DRAM latency and can
    // oscillate), otherwise go most of the way.
    let moved = 0;
    for (let i = 0; i < n; i++) {
      const delta = newCpi[i] - cpi[i];
      if (it > 0 && delta * lastDelta[i] < 0) step[i] *= 0.5;
      lastDelta[i] = delta;
      const next = it === 0 && !previousCpi ? newCpi[i] : cpi[i] + step[i] * delta;
      moved = Math.max(moved, Math.abs(next - cpi[i]) / cpi[i]);
      cpi[i] = next;
    }
    iterations = it + 1;
    if (it > 0 && moved < CPI_TOLERANCE) break;
  }
  lastIterations = iterations;
  const answers = tasks.map((t, i) => {
    const ips = active[i] ? (t.cpuCores * hz * ioShare[i]) / cpi[i] : 0;
    const acc = (ips * t.kernel.apki) / 1000;
    const missesPerSec = acc * miss[i];
    return {
      cpi: cpi[i],
      instructionsPerSec: ips,
      llcAccessesPerSec: acc,
      missRatio: miss[i],
      targetOccupancyWays: llc.occupancyWays[i],
      memReadBytesPerSec: missesPerSec * m.lineBytes + t.extraMemBytesPerSec,
      memWriteBytesPerSec: missesPerSec * t.kernel.writeFraction * m.lineBytes,
      dramLatencyNs: lat[i],
      ioBytesPerSec: (ips * t.kernel.ioBytesPerKiloInstr) / 1000,
      cpuUsable: ioShare[i],
    };
  });
  return { answers, warm: { cpi, llcEvictionTime: llc.rootEvictionTime } };
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
