// Analytical DRAM model for the machine simulator's fast mode: given the
// aggregate demand of request streams over a quantum, the latency each sees,
// the rate each achieves and its row-hit rate after interference.
//
// Mechanism (all times in DRAM clocks, converted at the end):
//  * Each stream spreads its requests uniformly over the banks its colours
//    reach. Its own row locality h (the hit rate it would have alone) survives
//    unless another stream closes the row between two of its requests:
//    scattered requests of others arrive at their rate, another stream's run in
//    the same bank ping-pongs with ours; FR-FCFS rescues the hit when our next
//    request is already queued. Refresh closes a stream's row once per tREFI.
//  * Service stations: a bank (activate/precharge episode: max(tRC,
//    tRCD + (n-1) tCCD_L + tRTP|tWRp + tRP) per row of n accesses), a bank
//    group (column commands tCCD_L apart), a rank's activate window (4 ACTs per
//    tFAW), and the channel data bus (tBurst per request plus read/write and
//    rank turnarounds). Refresh takes (tRFC + tRP) / tREFI of each rank.
//  * Waiting: Pollaczek-Khinchine at each station, bounded by the population
//    that can wait there; plus vacations: refresh (with the backlog it leaves),
//    write drains (reads wait while a batch of writes is moved and written), a
//    run's followers waiting for its row to open and for the bank group, and
//    other streams' requests interrupting a run.
//  * Streams are closed loops: a stream achieves its rate times the chance a
//    request finds one of its maxOutstanding slots free (Erlang's loss formula,
//    tending to maxOutstanding / latency), so latency rises with load and the
//    achieved bandwidth saturates at what the stations allow.
//
// Solving (why it is fast):
//  * Banks, bank groups, ranks and channels that the same streams reach alike
//    are handled once per symmetry class (analytic-topology.ts; one class per
//    level when every stream uses all colours), cached per colour assignment.
//  * Identical streams given once with a count (`copies`: several copies of
//    one job) are one unknown: the per-stream work shrinks with them.
//  * The model (analytic-fixed-point.ts) is evaluated on typed arrays
//    allocated once per topology and reused across calls.
//  * The fixed point is found by Newton steps on the steep station waits
//    (analytic-newton.ts) rather than by damped iteration on the rates: a
//    few rounds at any load instead of up to 30 (and then unconverged) near
//    saturation. Damped iteration remains as a fallback for inputs the
//    Newton steps do not settle.
//  * A warm start (the previous answer) restores the rates and waits behind
//    it, so a small change of demand costs one or two rounds.
import type { DramConfig } from './dram-config.js';
import { ddr4PeakBytesPerSec } from './dram-config.js';
import { InputError } from '../../util/errors.js';
import { prepare, topologyFor, type Topology } from './analytic-topology.js';
import { DramFixedPoint } from './analytic-fixed-point.js';
import { StationNewton } from './analytic-newton.js';

export { erlangB, inverseErlangLoad, runWaitCycles } from './analytic-queueing.js';

export interface DramStreamDemand {
  id: string;
  /** Requests (64 B) per second the stream would issue if memory were instant. */
  requestsPerSec: number;
  /** Fraction of its requests that hit the open row when it runs alone. */
  rowHitRate: number;
  readFraction: number;
  /** Bank colours its pages live in; null = all. */
  colours: number[] | null;
  /** Memory-level parallelism of the issuing cores (reads in flight at most). */
  maxOutstanding: number;
  /**
   * Identical streams (the same demand in every field above) this one
   * stands for, default 1: by symmetry they see the same latency and achieve
   * the same rate, so the model solves for one and counts its traffic once
   * per copy (the contention solver passes copies of one job this way).
   * Its answer is each copy's.
   */
  copies?: number;
}

export interface DramStreamAnswer {
  id: string;
  /** Mean read latency, issue to data, ns. */
  avgLatencyNs: number;
  achievedRequestsPerSec: number;
  /** Row-hit rate after interference with the other streams. */
  rowHitRate: number;
}

export interface DramSolution {
  streams: DramStreamAnswer[];
  /** Data-bus busy fraction per channel. */
  channelUtilisation: number[];
  peakBytesPerSec: number;
}

function validate(s: DramStreamDemand, i: number): void {
  if (s.requestsPerSec >= 0 && s.requestsPerSec < Infinity && s.rowHitRate >= 0 && s.rowHitRate <= 1 && s.readFraction >= 0 && s.readFraction <= 1 && s.maxOutstanding > 0 && (s.colours === null || s.colours.length > 0) && (s.copies === undefined || (Number.isInteger(s.copies) && s.copies >= 1))) return;
  const where = `streams[${i}]`;
  if (!(s.requestsPerSec >= 0) || !Number.isFinite(s.requestsPerSec)) throw new InputError(`requestsPerSec must be a finite number >= 0, got ${s.requestsPerSec}`, `${where}.requestsPerSec`);
  if (!(s.rowHitRate >= 0 && s.rowHitRate <= 1)) throw new InputError(`rowHitRate must be in [0, 1], got ${s.rowHitRate}`, `${where}.rowHitRate`);
  if (!(s.readFraction >= 0 && s.readFraction <= 1)) throw new InputError(`readFraction must be in [0, 1], got ${s.readFraction}`, `${where}.readFraction`);
  if (!(s.maxOutstanding > 0)) throw new InputError(`maxOutstanding must be > 0, got ${s.maxOutstanding}`, `${where}.maxOutstanding`);
  if (s.colours !== null && s.colours.length === 0) throw new InputError('colours must be null (all) or a non-empty list', `${where}.colours`);
  throw new InputError(`copies must be a whole number >= 1, got ${s.copies}`, `${where}.copies`);
}

/** Relative change of every stream's rate at which the fixed point is accepted. */
const TOLERANCE = 2e-3;
/** ... and relative correction of every wait the Newton steps solve for. */
const WAIT_TOLERANCE = 5e-3;
/** Rounds of Newton steps, then (if they have not settled) at most MAX_ITER damped rounds. */
const NEWTON_ROUNDS = 30;
const MAX_ITER = 30;

export interface SolveDramOptions {
  /**
   * A previous solution for (mostly) the same streams: the fixed point starts
   * from it (rates matched by stream id; with the same streams' colours also
   * the solver's internal waits), which saves most rounds when demand changes
   * little between calls. The answer does not depend on the start beyond the
   * solver's tolerance.
   */
  warmStart?: DramSolution;
}

/**
 * Internal state behind a returned solution, for warm starts (kept only as
 * long as the solution object lives, so an answer depends on its inputs and
 * on the warm start it is given, never on other calls): rates, the Newton
 * waits and which are active, and the bank and group waits the row hits use,
 * packed in one array.
 */
interface WarmState {
  topo: Topology;
  packed: number[];
  /** How many identical streams each stood for (undefined: one each). */
  counts: Float64Array | undefined;
}
const warmStates = new WeakMap<DramSolution, WarmState>();

interface Workspace {
  fp: DramFixedPoint;
  newton: StationNewton;
}

export function solveDram(config: DramConfig, streams: DramStreamDemand[], options: SolveDramOptions = {}): DramSolution {
  const p = prepare(config);
  let counts: Float64Array | undefined;
  for (let i = 0; i < streams.length; i++) {
    validate(streams[i], i);
    const copies = streams[i].copies;
    if (copies !== undefined && copies !== 1) (counts ??= new Float64Array(streams.length).fill(1))[i] = copies;
  }
  const topo = topologyFor(p, streams);
  let ws = topo.workspace as Workspace | null;
  if (ws === null) {
    const fp = new DramFixedPoint(p, topo);
    topo.workspace = ws = { fp, newton: new StationNewton(fp) };
  }
  const { fp, newton } = ws;
  fp.reset(streams, counts);
  newton.reset();
  const cyclesPerSec = 1e9 / p.tCkNs;
  // A warm start from the same streams restores every rate and wait, so the
  // initial guess would only be overwritten (about a tenth of a warm call).
  const restored = !!options.warmStart && restoreWarmState(fp, newton, topo, streams, counts, options.warmStart);
  if (!restored) {
    fp.initialGuess();
    if (options.warmStart) warmRates(fp, streams, options.warmStart, cyclesPerSec);
    // Row hits use the waits of the round before: from a cold start, take them
    // from the starting rates first.
    fp.bankArrivals();
    fp.rowHits();
    fp.stations();
  }
  let iterations = 0;
  let converged = false;
  for (let iter = 0; iter < NEWTON_ROUNDS; iter++) {
    fp.bankArrivals();
    fp.rowHits();
    fp.stations();
    newton.adopt();
    fp.latenciesAndTargets();
    iterations = iter + 1;
    let change = 0;
    for (let s = 0; s < fp.S; s++) {
      const rel = Math.abs(fp.target[s] - fp.x[s]) / Math.max(fp.lambda[s], 1e-15);
      if (rel > change) change = rel;
    }
    // Done when every stream is at its target and no wait needs correcting;
    // the answer is the state just evaluated. (After a small step the last
    // round's Jacobian tells how far the waits are, without building a new one.)
    if (change < TOLERANCE && newton.quickDistance() < WAIT_TOLERANCE) {
      converged = true;
      break;
    }
    const waitStep = newton.solve();
    if (change < TOLERANCE && waitStep < WAIT_TOLERANCE) {
      converged = true;
      break;
    }
    if (iter === NEWTON_ROUNDS - 1) break;
    newton.apply();
  }
  if (!fp.finite()) {
    // (a degenerate input the Newton steps could not handle: the plain damped iteration)
    iterations = dampedSolve(fp, streams, counts, true);
    newton.reset();
  } else if (!converged) {
    // Newton steps that do not settle (extreme demand, e.g. a sequential
    // stream asking for several times the channel's peak, whose own run
    // terms swing across a steep stretch): go on with damped steps from there
    iterations += dampedSolve(fp, streams, counts, false);
    newton.reset();
  }
  lastIterations = iterations;
  if (fp.overCapacity()) fp.projectToCapacity();
  fp.throttledLatencies();
  const answers: DramStreamAnswer[] = new Array(streams.length);
  for (let i = 0; i < streams.length; i++) {
    const s = streams[i];
    answers[i] = {
      id: s.id,
      avgLatencyNs: fp.latency[i] * p.tCkNs,
      achievedRequestsPerSec: Math.min(s.requestsPerSec, Math.max(0, fp.x[i] * cyclesPerSec)),
      rowHitRate: fp.hitOut[i],
    };
  }
  const channelUtilisation: number[] = new Array(p.channels);
  for (let c = 0; c < p.channels; c++) channelUtilisation[c] = Math.min(1, fp.busRate[topo.channelClass[c]] * p.t.tBurst);
  const solution: DramSolution = { streams: answers, channelUtilisation, peakBytesPerSec: ddr4PeakBytesPerSec(config) };
  warmStates.set(solution, { topo, packed: packWarmState(fp, newton), counts });
  return solution;
}

/**
 * Start from a previous solution with the same streams (ids in the same
 * order) and topology: its rates and waits (returns true; otherwise changes
 * nothing).
 */
function restoreWarmState(fp: DramFixedPoint, newton: StationNewton, topo: Topology, streams: DramStreamDemand[], counts: Float64Array | undefined, prev: DramSolution): boolean {
  const state = warmStates.get(prev);
  const prevStreams = prev.streams;
  if (state === undefined || state.topo !== topo || prevStreams.length !== streams.length) return false;
  for (let i = 0; i < streams.length; i++) {
    if (prevStreams[i].id !== streams[i].id) return false;
    if ((state.counts === undefined ? 1 : state.counts[i]) !== (counts === undefined ? 1 : counts[i])) return false;
  }
  unpackWarmState(fp, newton, state.packed);
  return true;
}

/** Otherwise: the achieved rates of the streams it shares (matched by id), over the initial guess. */
function warmRates(fp: DramFixedPoint, streams: DramStreamDemand[], prev: DramSolution, cyclesPerSec: number): void {
  const prevStreams = prev.streams;
  let byId: Map<string, number> | null = null;
  for (let i = 0; i < streams.length; i++) {
    const id = streams[i].id;
    let v: number | undefined;
    if (i < prevStreams.length && prevStreams[i].id === id) v = prevStreams[i].achievedRequestsPerSec;
    else {
      byId ??= new Map(prevStreams.map((a) => [a.id, a.achievedRequestsPerSec]));
      v = byId.get(id);
    }
    if (v !== undefined && Number.isFinite(v)) fp.x[i] = Math.min(fp.lambda[i], v / cyclesPerSec);
  }
}

/**
 * The fixed point by damped iteration on the rates alone (each step shrinks
 * when its correction changes sign): robust, slow near saturation.
 */
function dampedSolve(fp: DramFixedPoint, streams: DramStreamDemand[], counts: Float64Array | undefined, fromStart: boolean): number {
  if (fromStart) {
    fp.reset(streams, counts);
    fp.initialGuess();
  }
  let iterations = 0;
  for (let iter = 0; iter < MAX_ITER; iter++) {
    fp.evaluate();
    const change = fp.dampedStep();
    iterations = iter + 1;
    if (iter >= 1 && (change < 5e-3 || (iter > 8 && fp.moved < 1e-3))) break;
  }
  fp.bankArrivals();
  fp.rowHits();
  fp.stations();
  return iterations;
}

function packWarmState(fp: DramFixedPoint, newton: StationNewton): number[] {
  const { S } = fp;
  const { K, G } = fp.topo;
  const n = newton.n;
  // (a plain array: cheaper to allocate than a typed one for a few dozen numbers)
  const out: number[] = new Array(2 * S + 2 * n + K + G);
  let o = 0;
  for (let i = 0; i < S; i++) out[o++] = fp.x[i];
  for (let i = 0; i < S; i++) out[o++] = fp.lambda[i];
  for (let i = 0; i < n; i++) out[o++] = newton.w[i];
  for (let i = 0; i < n; i++) out[o++] = newton.active[i];
  for (let i = 0; i < K; i++) out[o++] = fp.kWait[i];
  for (let i = 0; i < G; i++) out[o++] = fp.groupWait[i];
  return out;
}

/**
 * Each stream starts from the share of its demand it achieved before (so an
 * unthrottled stream starts at its new demand), and the waits where they were.
 */
function unpackWarmState(fp: DramFixedPoint, newton: StationNewton, packed: number[]): void {
  const { S } = fp;
  const { K, G } = fp.topo;
  const n = newton.n;
  for (let i = 0; i < S; i++) {
    const before = packed[S + i];
    fp.x[i] = before > 0 ? Math.min(fp.lambda[i], packed[i] * (fp.lambda[i] / before)) : fp.lambda[i];
  }
  newton.restore(packed, 2 * S, 2 * S + n);
  let o = 2 * S + 2 * n;
  for (let i = 0; i < K; i++) fp.kWait[i] = packed[o++];
  for (let i = 0; i < G; i++) fp.groupWait[i] = packed[o++];
}

let lastIterations = 0;
/** Fixed-point rounds the last solveDram call took (for benchmarks). */
export function lastSolveIterations(): number {
  return lastIterations;
}
