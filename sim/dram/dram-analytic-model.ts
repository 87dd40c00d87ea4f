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
//  The banks are handled in classes (banks of a bank group reached by the same
//  streams behave alike), cached per colour assignment, so a call with ~32
//  streams costs tens of microseconds.
import type { DramConfig } from './dram-config.js';
import { banksPerRank, ddr4PeakBytesPerSec } from './dram-config.js';
import { banksOfColours } from './page-colouring.js';
import { InputError } from '../../util/errors.js';

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

/** Constants derived once per configuration. */
interface Prepared {
  channels: number;
  ranks: number;
  banksPerChannel: number;
  banksPerRank: number;
  banksPerGroup: number;
  totalBanks: number;
  groupsTotal: number;
  ranksTotal: number;
  tCkNs: number;
  t: DramConfig['timingCycles'];
  wrToPre: number;
  refreshBlockCycles: number;
  refreshFraction: number;
  rdToWrPenalty: number;
  wrToRdPenalty: number;
  drainBatchHigh: number;
  drainBatchLow: number;
  rowHitCap: number;
  bankSets: Map<string, Int32Array>;
  topologies: Map<string, Topology>;
  config: DramConfig;
}

const prepared = new WeakMap<DramConfig, Prepared>();

function prepare(config: DramConfig): Prepared {
  const hit = prepared.get(config);
  if (hit) return hit;
  const t = config.timingCycles;
  const bpr = banksPerRank(config);
  const bpc = bpr * config.ranks;
  const refreshBlockCycles = t.tRFC + t.tRP;
  const p: Prepared = {
    channels: config.channels,
    ranks: config.ranks,
    banksPerChannel: bpc,
    banksPerRank: bpr,
    banksPerGroup: config.banksPerGroup,
    totalBanks: bpc * config.channels,
    groupsTotal: config.channels * config.ranks * config.bankGroups,
    ranksTotal: config.channels * config.ranks,
    tCkNs: config.tCkNs,
    t,
    wrToPre: t.tCWL + t.tBurst + t.tWR,
    refreshBlockCycles,
    refreshFraction: refreshBlockCycles / t.tREFI,
    // bus cycles lost when the data bus turns from reads to writes and back
    rdToWrPenalty: Math.max(0, t.tCL + t.tBurst + t.tRTRS - t.tCWL - t.tBurst),
    wrToRdPenalty: Math.max(0, t.tCWL + t.tBurst + t.tWTR_S - t.tBurst),
    drainBatchHigh: config.controller.transactionQueueSize,
    drainBatchLow: config.controller.writeDrainLowThreshold + 1,
    rowHitCap: config.controller.rowHitCap,
    bankSets: new Map(),
    topologies: new Map(),
    config,
  };
  prepared.set(config, p);
  return p;
}

function bankSet(p: Prepared, colours: number[] | null): Int32Array {
  const key = colours === null ? '*' : colours.join(',');
  let s = p.bankSets.get(key);
  if (!s) {
    s = banksOfColours(p.config, colours);
    if (p.bankSets.size > 4096) p.bankSets.clear();
    p.bankSets.set(key, s);
  }
  return s;
}

function validate(s: DramStreamDemand, i: number): void {
  const where = `streams[${i}]`;
  if (!(s.requestsPerSec >= 0) || !Number.isFinite(s.requestsPerSec)) throw new InputError(`requestsPerSec must be a finite number >= 0, got ${s.requestsPerSec}`, `${where}.requestsPerSec`);
  if (!(s.rowHitRate >= 0 && s.rowHitRate <= 1)) throw new InputError(`rowHitRate must be in [0, 1], got ${s.rowHitRate}`, `${where}.rowHitRate`);
  if (!(s.readFraction >= 0 && s.readFraction <= 1)) throw new InputError(`readFraction must be in [0, 1], got ${s.readFraction}`, `${where}.readFraction`);
  if (!(s.maxOutstanding > 0)) throw new InputError(`maxOutstanding must be > 0, got ${s.maxOutstanding}`, `${where}.maxOutstanding`);
  if (s.colours !== null && s.colours.length === 0) throw new InputError('colours must be null (all) or a non-empty list', `${where}.colours`);
}

/**
 * Erlang's loss formula B(m, a): the probability that all m slots are busy
 * with offered load a. Non-integer m interpolates between neighbours.
 */
export function erlangB(m: number, a: number): number {
  if (a <= 0) return 0;
  if (m > 4096) return a > m ? 1 - m / a : 0;
  const lo = Math.floor(m);
  let B = 1;
  for (let k = 1; k <= lo; k++) B = (a * B) / (k + a * B);
  const frac = m - lo;
  if (frac === 0) return B;
  const B1 = (a * B) / (lo + 1 + a * B);
  return B + frac * (B1 - B);
}

/** The offered load a with B(m, a) = blocking (bisection; B rises with a). */
export function inverseErlangLoad(m: number, blocking: number): number {
  if (blocking <= 0) return 0;
  let lo = 0;
  let hi = Math.max(1, m);
  while (erlangB(m, hi) < blocking && hi < 1e12) hi *= 2;
  for (let i = 0; i < 50; i++) {
    const mid = 0.5 * (lo + hi);
    if (erlangB(m, mid) < blocking) lo = mid;
    else hi = mid;
    if (hi - lo < 1e-6 * hi) break;
  }
  return 0.5 * (lo + hi);
}

/** A stream allowed more outstanding requests than this is treated as open (no closed-loop limit). */
const OPEN_STREAM_OUTSTANDING = 4096;

/** Relative change of every stream's rate at which the fixed point is accepted. */
const TOLERANCE = 5e-3;
const MAX_ITER = 30;

/**
 * Mean wait at a station: Pollaczek-Khinchine (offered load U, mean residual
 * service) while few are waiting, bounded by the population that can wait
 * there (the requests the streams using the station can have outstanding):
 * N customers each needing the mean service S = U / X wait at most N * S.
 * Combined harmonically, so the wait rises smoothly with load, stays finite
 * under overload, and keeps rising with the overload (which is what brings
 * the closed loop back to the station's capacity).
 */
function stationWait(U: number, residual: number, X: number, N: number): number {
  if (X <= 0 || U <= 0) return 0;
  const open = U < 1 ? (1 - U) / (U * residual) : 0;
  return 1 / (open + X / (N * U));
}

/**
 * Mean extra wait of the requests of a row run caused by the run itself: the
 * run's first request opens the row (openCycles), and its followers, arriving
 * every `gap` cycles on average, must be tCCD_L apart on the bank group. The
 * k-th request (k >= 2) waits w_k ~ max(floor, w_2 - (k-2)(gap - tCCD)) when
 * the stream is slower than tCCD, or w_2 + (k-2)(tCCD - gap) when faster;
 * runs are geometric with continuation probability h. Returned per request of
 * the stream (first requests of runs wait 0 here).
 */
export function runWaitCycles(h: number, gapCycles: number, openCycles: number, tCcd: number): number {
  if (h <= 0 || !Number.isFinite(gapCycles)) return 0;
  const hh = Math.min(h, 0.999);
  const g = gapCycles;
  const a = openCycles + tCcd;
  // E[max(0, a - G)], G ~ Exp(mean g): the second request's wait
  const w2 = a - g * (1 - Math.exp(-a / g));
  const d = g - tCcd;
  let sum: number; // sum over k >= 2 of h^(k-1) w_k
  // Random-walk spread of a finite run near critical load (~ g sqrt(2k/pi) after
  // k requests, k ~ h/(1-h)); caps the steady-state M/D/1 wait, which a run
  // of a few requests never reaches.
  const spread = g * Math.sqrt(((2 / Math.PI) * hh) / (1 - hh));
  if (d <= 0) {
    sum = hh * (Math.max(w2, spread) / (1 - hh) + (-d * hh) / ((1 - hh) * (1 - hh)));
  } else {
    const rho = tCcd / g;
    const floor = Math.min((rho * tCcd) / (2 * (1 - rho)), spread); // wait once the opening backlog is gone
    if (w2 <= floor) sum = (hh * floor) / (1 - hh);
    else {
      const J = Math.ceil((w2 - floor) / d);
      const hJ = Math.pow(hh, J);
      const sumJ = (1 - hJ) / (1 - hh);
      const sumjJ = (hh * (1 - J * Math.pow(hh, J - 1) + (J - 1) * hJ)) / ((1 - hh) * (1 - hh));
      sum = hh * (w2 * sumJ - d * sumjJ + (floor * hJ) / (1 - hh));
    }
  }
  return (1 - hh) * sum;
}

/**
 * Which banks each stream reaches, grouped in classes: banks of one bank group
 * reached by exactly the same streams. Depends only on the streams' colours.
 */
interface Topology {
  K: number;
  /** Banks in each class. */
  clsCount: Float64Array;
  clsGroup: Int32Array;
  clsRank: Int32Array;
  clsChannel: Int32Array;
  clsMembers: Int32Array[];
  /** Per stream: its classes, and the share of its requests each class receives (all its banks together). */
  sCls: Int32Array[];
  sW: Float64Array[];
  /** Per stream: 1 / banks it reaches. */
  invSet: Float64Array;
  sRankShares: Float64Array[];
  sGroupIds: Int32Array[];
  sGroupShares: Float64Array[];
  groupMembers: Int32Array[];
  rankMembers: Int32Array[];
  channelMembers: Int32Array[];
}

function topologyKey(streams: DramStreamDemand[]): string {
  let key = '';
  for (const s of streams) key += s.colours === null ? '*;' : s.colours.join(',') + ';';
  return key;
}

function topology(p: Prepared, streams: DramStreamDemand[]): Topology {
  const key = topologyKey(streams);
  const hit = p.topologies.get(key);
  if (hit) return hit;
  const S = streams.length;
  const nB = p.totalBanks;
  const bpg = p.banksPerGroup;
  const bpr = p.banksPerRank;
  const bpc = p.banksPerChannel;
  const sets = streams.map((s) => bankSet(p, s.colours));
  const members: number[][] = Array.from({ length: nB }, () => []);
  for (let s = 0; s < S; s++) for (const b of sets[s]) members[b].push(s);
  const classOfKey = new Map<string, number>();
  const classOfBank = new Int32Array(nB).fill(-1);
  const count: number[] = [];
  const group: number[] = [];
  const clsMembers: Int32Array[] = [];
  for (let b = 0; b < nB; b++) {
    if (members[b].length === 0) continue;
    const g = (b / bpg) | 0;
    const k = `${g}|${members[b].join(',')}`;
    let c = classOfKey.get(k);
    if (c === undefined) {
      c = count.length;
      classOfKey.set(k, c);
      count.push(0);
      group.push(g);
      clsMembers.push(Int32Array.from(members[b]));
    }
    count[c]++;
    classOfBank[b] = c;
  }
  const shares = (set: Int32Array, keyOf: (b: number) => number): [Int32Array, Float64Array] => {
    const m = new Map<number, number>();
    for (const b of set) {
      const k = keyOf(b);
      m.set(k, (m.get(k) ?? 0) + 1);
    }
    return [Int32Array.from(m.keys()), Float64Array.from(m.values(), (v) => v / set.length)];
  };
  const sCls: Int32Array[] = [];
  const sW: Float64Array[] = [];
  const sRankShares: Float64Array[] = [];
  const sGroupIds: Int32Array[] = [];
  const sGroupShares: Float64Array[] = [];
  const groupMembers: number[][] = Array.from({ length: p.groupsTotal }, () => []);
  const rankMembers: number[][] = Array.from({ length: p.ranksTotal }, () => []);
  const channelMembers: number[][] = Array.from({ length: p.channels }, () => []);
  for (let s = 0; s < S; s++) {
    const [ks, ws] = shares(sets[s], (b) => classOfBank[b]);
    sCls.push(ks);
    sW.push(ws);
    const [rs, rw] = shares(sets[s], (b) => (b / bpr) | 0);
    sRankShares.push(rw);
    for (const r of rs) rankMembers[r].push(s);
    const [gs, gw] = shares(sets[s], (b) => (b / bpg) | 0);
    sGroupIds.push(gs);
    sGroupShares.push(gw);
    for (const g of gs) groupMembers[g].push(s);
    const [cs] = shares(sets[s], (b) => (b / bpc) | 0);
    for (const c of cs) channelMembers[c].push(s);
  }
  const topo: Topology = {
    K: count.length,
    clsCount: Float64Array.from(count),
    clsGroup: Int32Array.from(group),
    clsRank: Int32Array.from(group, (g) => Math.floor((g * bpg) / bpr)),
    clsChannel: Int32Array.from(group, (g) => Math.floor((g * bpg) / bpc)),
    clsMembers,
    sCls,
    sW,
    invSet: Float64Array.from(sets, (set) => 1 / set.length),
    sRankShares,
    sGroupIds,
    sGroupShares,
    groupMembers: groupMembers.map((m) => Int32Array.from(m)),
    rankMembers: rankMembers.map((m) => Int32Array.from(m)),
    channelMembers: channelMembers.map((m) => Int32Array.from(m)),
  };
  if (p.topologies.size > 256) p.topologies.clear();
  p.topologies.set(key, topo);
  return topo;
}

/** Per-call working state of the fixed point (plain typed arrays, one shape). */
class DramFixedPoint {
  readonly S: number;
  readonly lambda: Float64Array; // requested, per cycle
  readonly x: Float64Array; // achieved, per cycle
  readonly h0: Float64Array;
  readonly rf: Float64Array;
  readonly m: Float64Array;
  // populations that can wait at each station
  readonly popK: Float64Array;
  readonly popG: Float64Array;
  readonly popR: Float64Array;
  readonly popC: Float64Array;
  // per bank of a class
  readonly kRate: Float64Array;
  readonly kRunRate: Float64Array;
  readonly kScatterRate: Float64Array;
  readonly kRateSq: Float64Array;
  readonly kHitRate: Float64Array;
  readonly kWriteRate: Float64Array;
  readonly kWait: Float64Array;
  readonly kLoad: Float64Array;
  // shared stations
  readonly groupRate: Float64Array;
  readonly groupWait: Float64Array;
  readonly groupLoad: Float64Array;
  readonly actRate: Float64Array;
  readonly actWait: Float64Array;
  readonly actUtil: Float64Array;
  readonly actLoad: Float64Array;
  readonly rankRate: Float64Array;
  readonly refreshWait: Float64Array;
  readonly busRate: Float64Array;
  readonly busWriteRate: Float64Array;
  readonly busWait: Float64Array;
  readonly busService: Float64Array;
  readonly busLoad: Float64Array;
  readonly channelBatch: Float64Array;
  readonly channelWriteRate: Float64Array;
  readonly drainWait: Float64Array;
  // per stream
  readonly hEff: Float64Array[];
  readonly latency: Float64Array;
  readonly hitOut: Float64Array;
  readonly intrusions: Float64Array;
  readonly step: Float64Array;
  readonly lastDelta: Float64Array;
  readonly stallFactor: Float64Array;
  // constants
  readonly refreshStretch: number;
  readonly V: number;
  readonly colService: number;
  readonly actService: number;
  readonly intrusionCycles: number;
  readonly writeEpisode: number;

  constructor(
    readonly p: Prepared,
    readonly topo: Topology,
    streams: DramStreamDemand[],
  ) {
    const S = streams.length;
    const t = p.t;
    this.S = S;
    const cyclesPerSec = 1e9 / p.tCkNs;
    this.lambda = Float64Array.from(streams, (s) => s.requestsPerSec / cyclesPerSec);
    this.x = Float64Array.from(this.lambda);
    this.h0 = Float64Array.from(streams, (s) => s.rowHitRate);
    this.rf = Float64Array.from(streams, (s) => s.readFraction);
    this.m = Float64Array.from(streams, (s) => s.maxOutstanding);
    // Requests that can wait at a station: the outstanding reads of every
    // stream using it, plus a write buffer's worth if any of them writes.
    const population = (ss: Int32Array) => {
      let n = 0;
      let writes = false;
      for (const s of ss) {
        n += Math.min(this.m[s], OPEN_STREAM_OUTSTANDING);
        if (this.rf[s] < 1) writes = true;
      }
      return n + (writes ? p.drainBatchHigh : 0);
    };
    this.popK = Float64Array.from(topo.clsMembers, population);
    this.popG = Float64Array.from(topo.groupMembers, population);
    this.popR = Float64Array.from(topo.rankMembers, population);
    this.popC = Float64Array.from(topo.channelMembers, population);
    const K = topo.K;
    this.kRate = new Float64Array(K);
    this.kRunRate = new Float64Array(K);
    this.kScatterRate = new Float64Array(K);
    this.kRateSq = new Float64Array(K);
    this.kHitRate = new Float64Array(K);
    this.kWriteRate = new Float64Array(K);
    this.kWait = new Float64Array(K);
    this.kLoad = new Float64Array(K);
    const nG = p.groupsTotal;
    const nR = p.ranksTotal;
    const nC = p.channels;
    this.groupRate = new Float64Array(nG);
    this.groupWait = new Float64Array(nG);
    this.groupLoad = new Float64Array(nG);
    this.actRate = new Float64Array(nR);
    this.actWait = new Float64Array(nR);
    this.actUtil = new Float64Array(nR);
    this.actLoad = new Float64Array(nR);
    this.rankRate = new Float64Array(nR);
    this.refreshWait = new Float64Array(nR);
    this.busRate = new Float64Array(nC);
    this.busWriteRate = new Float64Array(nC);
    this.busWait = new Float64Array(nC);
    this.busService = new Float64Array(nC);
    this.busLoad = new Float64Array(nC);
    this.channelBatch = new Float64Array(nC).fill(p.drainBatchLow); // from the previous iteration
    this.channelWriteRate = new Float64Array(nC);
    this.drainWait = new Float64Array(nC);
    this.hEff = topo.sCls.map((c) => new Float64Array(c.length));
    this.latency = new Float64Array(S);
    this.hitOut = new Float64Array(S);
    this.intrusions = new Float64Array(S); // scattered requests of others that close the row, per request of the stream
    this.step = new Float64Array(S).fill(0.5);
    this.lastDelta = new Float64Array(S);
    this.stallFactor = new Float64Array(S).fill(1);
    this.refreshStretch = 1 / (1 - p.refreshFraction);
    this.V = p.refreshBlockCycles;
    this.colService = t.tCCD_L * this.refreshStretch;
    this.actService = Math.max(t.tFAW / 4, t.tRRD_S) * this.refreshStretch;
    this.intrusionCycles = 2 * t.tRP + t.tRAS + t.tRCD;
    this.writeEpisode = Math.max(t.tRC, t.tRCD + p.wrToPre + t.tRP) * this.refreshStretch;
  }

  /** Start from the requested rates scaled so no bank or bus starts far beyond capacity. */
  initialGuess(): void {
    const { topo, x, h0 } = this;
    const t = this.p.t;
    const busL = new Float64Array(this.p.channels);
    const kL = new Float64Array(topo.K);
    for (let s = 0; s < this.S; s++) {
      const share = x[s] * topo.invSet[s];
      const cls = topo.sCls[s];
      const w = topo.sW[s];
      for (let j = 0; j < cls.length; j++) {
        const k = cls[j];
        busL[topo.clsChannel[k]] += x[s] * w[j] * t.tBurst;
        kL[k] += share * ((1 - h0[s]) * t.tRC + h0[s] * t.tCCD_L);
      }
    }
    let worst = 0;
    for (let c = 0; c < busL.length; c++) if (busL[c] > worst) worst = busL[c];
    for (let k = 0; k < kL.length; k++) if (kL[k] > worst) worst = kL[k];
    if (worst > 0.9) for (let s = 0; s < this.S; s++) x[s] *= 0.9 / worst;
  }

  /** 1. Arrival rates per bank, and the traffic that can close a stream's row. */
  bankArrivals(): void {
    const { topo, x, h0, kRate, kRunRate, kScatterRate, kRateSq } = this;
    kRate.fill(0);
    kRunRate.fill(0);
    kScatterRate.fill(0);
    kRateSq.fill(0);
    for (let s = 0; s < this.S; s++) {
      const share = x[s] * topo.invSet[s];
      const cls = topo.sCls[s];
      const h = h0[s];
      for (let j = 0; j < cls.length; j++) {
        const k = cls[j];
        kRate[k] += share;
        kRunRate[k] += share * h;
        kScatterRate[k] += share * (1 - h);
        kRateSq[k] += share * x[s];
      }
    }
  }

  /** 2. Row hits that survive interleaving with other streams. */
  rowHits(): void {
    const { topo, x, h0, rf, kRate, kRunRate, kScatterRate, kRateSq, kHitRate, kWriteRate, kWait, groupWait } = this;
    const tREFI = this.p.t.tREFI;
    kHitRate.fill(0);
    kWriteRate.fill(0);
    for (let s = 0; s < this.S; s++) {
      const share = x[s] * topo.invSet[s];
      const xs = Math.max(x[s], 1e-15);
      const cls = topo.sCls[s];
      const w = topo.sW[s];
      const he = this.hEff[s];
      // each refresh of the rank holding the stream's current row closes it: 1/tREFI per stream
      const base = h0[s] * (1 - Math.min(1, 1 / (tREFI * xs)));
      // share of a run's requests that come before the row-hit cap
      const underCap = 1 - Math.pow(h0[s], this.p.rowHitCap);
      let hsum = 0;
      let intr = 0;
      for (let j = 0; j < cls.length; j++) {
        const k = cls[j];
        // row-closing events between two of the stream's requests: scattered
        // requests of others at their rate; another stream's run in the same
        // bank (probability = its share) ping-pongs with ours
        const scatter = Math.max(0, kScatterRate[k] - share * (1 - h0[s])) / xs;
        const others = Math.max(0, kRate[k] - share);
        const meanOther = others > 0 ? Math.max(0, kRateSq[k] - share * x[s]) / others : 0;
        const runs = Math.max(0, kRunRate[k] - share * h0[s]) / (xs + meanOther);
        // FR-FCFS keeps the row open for the stream if its next request already
        // waits. Against an older scattered request it does so only until the
        // row has served rowHitCap column commands; two streams running in one
        // bank are batched (each switch of rows serves a batch of hits).
        const y = xs * (kWait[k] + groupWait[topo.clsGroup[k]]);
        const queued = y > 0 ? 1 - Math.exp(-y) : 0;
        const h = base / (1 + scatter * (1 - queued * underCap) + runs * (1 - queued));
        he[j] = h;
        hsum += w[j] * h;
        intr += w[j] * scatter;
        kHitRate[k] += share * h;
        kWriteRate[k] += share * (1 - rf[s]);
      }
      this.hitOut[s] = hsum;
      this.intrusions[s] = intr;
    }
  }

  /** 3. Stations: loads and waits. */
  stations(): void {
    const { topo, p, kRate, kHitRate, kWriteRate, kWait, kLoad, groupRate, actRate, rankRate, busRate, busWriteRate } = this;
    const t = p.t;
    groupRate.fill(0);
    actRate.fill(0);
    rankRate.fill(0);
    busRate.fill(0);
    busWriteRate.fill(0);
    for (let k = 0; k < topo.K; k++) {
      const X = kRate[k];
      if (X <= 0) {
        kWait[k] = 0;
        kLoad[k] = 0;
        continue;
      }
      const H = Math.min(0.999, kHitRate[k] / X);
      const wfrac = kWriteRate[k] / X;
      const n = 1 / (1 - H);
      const closeAfterColumn = (1 - wfrac) * t.tRTP + wfrac * p.wrToPre;
      // a row episode: activate, n column commands tCCD_L apart, close, precharge
      const episode = Math.max(t.tRC, t.tRCD + (n - 1) * t.tCCD_L + closeAfterColumn + t.tRP) * this.refreshStretch;
      kLoad[k] = X * (1 - H) * episode;
      let wait = stationWait(kLoad[k], episode / 2, X * (1 - H), this.popK[k]);
      // Writes reach the bank in drain batches: a read can find a whole batch of
      // the bank's writes ahead of it (batch = the channel's drain batch times
      // the bank's share of the channel's writes).
      const c = topo.clsChannel[k];
      const wr = kWriteRate[k];
      if (wr > 0 && this.channelWriteRate[c] > 0) {
        const perBank = this.channelBatch[c] * (wr / this.channelWriteRate[c]);
        if (perBank > 1) {
          const wService = (1 - H) * this.writeEpisode + H * this.colService;
          wait += (wr * wService * (perBank - 1) * wService) / 2;
        }
      }
      kWait[k] = wait;
      const cnt = topo.clsCount[k];
      const r = topo.clsRank[k];
      groupRate[topo.clsGroup[k]] += X * cnt;
      actRate[r] += X * (1 - H) * cnt;
      rankRate[r] += X * cnt;
      busRate[c] += X * cnt;
      busWriteRate[c] += wr * cnt;
    }
    for (let g = 0; g < p.groupsTotal; g++) {
      this.groupLoad[g] = groupRate[g] * this.colService;
      this.groupWait[g] = stationWait(this.groupLoad[g], this.colService / 2, groupRate[g], this.popG[g]);
    }
    for (let r = 0; r < p.ranksTotal; r++) {
      this.actLoad[r] = actRate[r] * this.actService;
      this.actUtil[r] = Math.min(this.actLoad[r], 0.98);
      this.actWait[r] = stationWait(this.actLoad[r], this.actService / 2, actRate[r], this.popR[r]);
    }
    for (let c = 0; c < p.channels; c++) {
      const X = busRate[c];
      if (X <= 0) {
        this.busWait[c] = 0;
        this.busService[c] = t.tBurst;
        this.busLoad[c] = 0;
        this.drainWait[c] = 0;
        continue;
      }
      let sq = 0; // probability two consecutive bursts come from the same rank
      for (let r = c * p.ranks; r < (c + 1) * p.ranks; r++) sq += (rankRate[r] / X) ** 2;
      const wr = busWriteRate[c] / X;
      const ubus = X * t.tBurst;
      // writes drain in batches; each batch turns the bus around twice
      const batch = p.drainBatchLow + (p.drainBatchHigh - p.drainBatchLow) * Math.min(1, ubus);
      this.channelBatch[c] = batch;
      this.channelWriteRate[c] = busWriteRate[c];
      const turn = wr > 0 ? (wr / batch) * (p.rdToWrPenalty + p.wrToRdPenalty) : 0;
      const svc = t.tBurst + (1 - sq) * t.tRTRS + turn;
      this.busService[c] = svc;
      this.busLoad[c] = X * svc;
      this.busWait[c] = stationWait(this.busLoad[c], svc / 2, X, this.popC[c]);
      // write drains: while a batch is moved and written, reads wait (a vacation of the read path)
      const drainCycles = batch * (1 + t.tBurst) + p.rdToWrPenalty + p.wrToRdPenalty;
      const drainFraction = Math.min(0.9, (busWriteRate[c] / batch) * drainCycles);
      this.drainWait[c] = (drainFraction * drainCycles) / 2;
    }
    // Refresh: a request landing in a rank's refresh waits out the rest of it
    // (V/2); the backlog left behind (at most what the streams can keep
    // outstanding) drains at the spare capacity of the rank's bottleneck.
    const V = this.V;
    for (let r = 0; r < p.ranksTotal; r++) {
      const lr = rankRate[r];
      const base = (p.refreshFraction * V) / 2;
      if (lr <= 0) {
        this.refreshWait[r] = base;
        continue;
      }
      const c = (r / p.ranks) | 0;
      const spareAct = actRate[r] > 0 ? actRate[r] * (1 / Math.max(this.actUtil[r], 1e-9) - 1) * (lr / actRate[r]) : Infinity;
      const spareBus = 1 / this.busService[c] - busRate[c];
      // (under overload the backlog barely drains; assume a tenth of the
      // rank's rate still gets through, which keeps the term bounded)
      const drain = Math.max(0.1 * lr, Math.min(spareAct, spareBus));
      const backlog = Math.min(lr * V, this.popR[r]);
      this.refreshWait[r] = base + (backlog * backlog) / (2 * drain) / (lr * t.tREFI);
    }
  }

  /** 4. Latency per stream, and one damped closed-loop update of its rate. Returns [largest residual, largest move], relative to the requested rate. */
  latenciesAndRates(): [number, number] {
    const { topo, p, x, h0, rf, lambda, hEff, latency, kWait, kLoad, groupWait, groupLoad, groupRate, actWait, actLoad, busWait, busLoad, drainWait, refreshWait } = this;
    const t = p.t;
    let change = 0;
    let moved = 0;
    for (let s = 0; s < this.S; s++) {
      const cls = topo.sCls[s];
      const w = topo.sW[s];
      const he = hEff[s];
      const share = x[s] * topo.invSet[s];
      let lat = 0;
      let openWait = 0;
      let peakLoad = 0;
      for (let j = 0; j < cls.length; j++) {
        const k = cls[j];
        const miss = 1 - he[j];
        const r = topo.clsRank[k];
        const g = topo.clsGroup[k];
        const c = topo.clsChannel[k];
        const unloaded = 1 + t.tCL + t.tBurst + miss * (t.tRP + t.tRCD);
        const wait = miss * (kWait[k] + actWait[r]) + groupWait[g] + busWait[c] + rf[s] * drainWait[c];
        lat += w[j] * (unloaded + wait + refreshWait[r]);
        openWait += w[j] * (kWait[k] + actWait[r]);
        const load = Math.max(kLoad[k], groupLoad[g], actLoad[r], busLoad[c]);
        if (load > peakLoad) peakLoad = load;
      }
      // A run's followers queue behind its opening and each other on the bank
      // group, sharing the group's column slots with other streams' requests.
      let othersGroup = 0;
      const gs = topo.sGroupIds[s];
      const gw = topo.sGroupShares[s];
      for (let j = 0; j < gs.length; j++) othersGroup += gw[j] * Math.max(0, groupRate[gs[j]] - (share * gw[j]) / topo.invSet[s]) * this.colService;
      const tCcdEff = this.colService / (1 - Math.min(0.9, othersGroup));
      const xs = Math.max(x[s], 1e-15);
      lat += runWaitCycles(this.hitOut[s], 1 / xs, t.tRP + t.tRCD + openWait, tCcdEff);
      // Another stream's request closing the row in the middle of a run stops
      // the run for about 2 tRP + tRAS + tRCD; the run's requests queue up
      // meanwhile (at most the stream's outstanding limit) and drain at the
      // spare column rate of the bank group. Only streams with locality have runs.
      const intr = this.intrusions[s];
      if (h0[s] > 0 && intr > 0) {
        const ic = this.intrusionCycles;
        const frac = Math.min(0.95, intr * xs * ic);
        const backlog = Math.min(xs * ic, this.m[s]);
        const drain = Math.max(1 / tCcdEff - xs, 0.1 * xs);
        lat += h0[s] * ((frac * ic) / 2 + ((backlog * backlog) / (2 * drain)) * intr);
      }
      latency[s] = lat;
      // Closed loop: reads hold one of maxOutstanding slots for their latency
      // (writes only until accepted). Throughput is the stream's rate times the
      // probability a request finds a free slot (Erlang loss formula), which
      // tends to maxOutstanding / latency under overload.
      const m = this.m[s];
      const holdCycles = rf[s] * lat + (1 - rf[s]);
      // while a rank refreshes, the stream's requests to it pile up; once they
      // fill its slots the stream stalls for the rest of the refresh
      let stall = 0;
      const rs = topo.sRankShares[s];
      for (let j = 0; j < rs.length; j++) {
        const fill = m / Math.max(xs * rs[j] * rf[s], 1e-15);
        if (fill < this.V) stall += this.V - fill;
      }
      this.stallFactor[s] = Math.max(0, 1 - stall / t.tREFI);
      let target = lambda[s] * (1 - erlangB(m, lambda[s] * holdCycles)) * this.stallFactor[s];
      // a stream with (practically) unlimited outstanding requests is held at
      // what the busiest station it uses can carry
      if (peakLoad > 1 && m > OPEN_STREAM_OUTSTANDING / 4) target = Math.min(target, x[s] / peakLoad);
      // damped update; the step shrinks whenever the correction changes sign (oscillation)
      const delta = target - x[s];
      if (delta * this.lastDelta[s] < 0) this.step[s] = Math.max(1e-4, this.step[s] * 0.5);
      else this.step[s] = Math.min(0.7, this.step[s] * 1.2);
      this.lastDelta[s] = delta;
      const rel = Math.abs(delta) / Math.max(lambda[s], 1e-15);
      if (rel > change) change = rel;
      if (rel * this.step[s] > moved) moved = rel * this.step[s];
      x[s] += this.step[s] * delta;
    }
    return [change, moved];
  }

  /**
   * If the rounds ran out before the fixed point was reached under heavy
   * overload, rates may still exceed what a bank or a channel's data bus can
   * carry; scale the streams using an overloaded one back to its capacity.
   */
  projectToCapacity(): void {
    const { topo, p, x } = this;
    this.bankArrivals();
    this.rowHits();
    this.stations();
    const t = p.t;
    for (let s = 0; s < this.S; s++) {
      let f = 1;
      const cls = topo.sCls[s];
      for (let j = 0; j < cls.length; j++) {
        const k = cls[j];
        if (this.kLoad[k] > 1) f = Math.min(f, 1 / this.kLoad[k]);
        const bus = this.busRate[topo.clsChannel[k]] * t.tBurst;
        if (bus > 1) f = Math.min(f, 1 / bus);
      }
      x[s] *= f;
    }
  }

  /**
   * A throttled stream's latency is the one its achieved rate implies through
   * the closed loop (inverse of the Erlang relation): on the steep side of a
   * saturated station this is far better conditioned than the station waits.
   */
  throttledLatencies(): void {
    const t = this.p.t;
    for (let s = 0; s < this.S; s++) {
      const m = this.m[s];
      const lam = this.lambda[s];
      const ratio = lam > 0 ? this.x[s] / (lam * Math.max(this.stallFactor[s], 1e-9)) : 1;
      // (a stream asking for next to nothing has no meaningful implied latency)
      if (ratio >= 0.99 || m > OPEN_STREAM_OUTSTANDING || this.rf[s] <= 0 || lam < 1e-9) continue;
      const a = inverseErlangLoad(m, Math.max(0, 1 - ratio));
      const implied = (a / lam - (1 - this.rf[s])) / this.rf[s];
      if (!Number.isFinite(implied)) continue;
      const wt = Math.min(1, (0.99 - ratio) / 0.05);
      this.latency[s] = (1 - wt) * this.latency[s] + wt * Math.max(implied, 1 + t.tCL + t.tBurst);
    }
  }
}

export interface SolveDramOptions {
  /**
   * A previous solution for (mostly) the same streams: the fixed point starts
   * from its achieved rates (matched by stream id), which saves most rounds
   * when demand changes little between calls. The answer does not depend on
   * the start beyond the solver's tolerance.
   */
  warmStart?: DramSolution;
}

export function solveDram(config: DramConfig, streams: DramStreamDemand[], options: SolveDramOptions = {}): DramSolution {
  const p = prepare(config);
  streams.forEach(validate);
  const fp = new DramFixedPoint(p, topology(p, streams), streams);
  fp.initialGuess();
  if (options.warmStart) {
    const prev = new Map(options.warmStart.streams.map((a) => [a.id, a.achievedRequestsPerSec]));
    const cyclesPerSec = 1e9 / p.tCkNs;
    streams.forEach((s, i) => {
      const v = prev.get(s.id);
      if (v !== undefined && Number.isFinite(v)) fp.x[i] = Math.min(fp.lambda[i], v / cyclesPerSec);
    });
  }
  let iterations = 0;
  for (let iter = 0; iter < MAX_ITER; iter++) {
    fp.bankArrivals();
    fp.rowHits();
    fp.stations();
    const [change, moved] = fp.latenciesAndRates();
    iterations = iter + 1;
    // Done when every stream is at its fixed point, or when the steps have
    // become negligible (a stream on the steep side of a saturated station
    // keeps a large residual while its rate no longer moves).
    if (iter >= 1 && (change < TOLERANCE || (iter > 8 && moved < TOLERANCE / 5))) break;
  }
  lastIterations = iterations;
  fp.projectToCapacity();
  fp.throttledLatencies();
  const cyclesPerSec = 1e9 / p.tCkNs;
  return {
    streams: streams.map((s, i) => ({
      id: s.id,
      avgLatencyNs: fp.latency[i] * p.tCkNs,
      achievedRequestsPerSec: Math.min(s.requestsPerSec, Math.max(0, fp.x[i] * cyclesPerSec)),
      rowHitRate: fp.hitOut[i],
    })),
    channelUtilisation: Array.from(fp.busRate, (X) => Math.min(1, X * p.t.tBurst)),
    peakBytesPerSec: ddr4PeakBytesPerSec(config),
  };
}

let lastIterations = 0;
/** Fixed-point rounds the last solveDram call took (for benchmarks). */
export function lastSolveIterations(): number {
  return lastIterations;
}
