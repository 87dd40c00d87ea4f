// Analytical DRAM model for the machine simulator's fast mode: given the
// aggregate demand of request streams over a quantum, the latency each sees,
// the rate each achieves and its row-hit rate after interference.
//
// Mechanism (all times in DRAM clocks, converted at the end):
//  * Each stream spreads its requests uniformly over the banks its colours
//    reach. Its own row locality h (the hit rate it would have alone) survives
//    at a bank only if no other stream's request to that bank is served between
//    two of its consecutive requests: P = x_s / (x_s + lambda_other), raised by
//    FR-FCFS, which serves a queued hit first when the stream's next request is
//    already waiting (probability 1 - exp(-x_s * wait)). Refresh closes every
//    row of a rank once per tREFI.
//  * Service stations: a bank (activate/precharge episode: max(tRC,
//    tRCD + (n-1) tCCD_L + tRTP|tWRp + tRP) per row of n accesses), a bank
//    group (column commands tCCD_L apart), a rank's activate window (4 ACTs per
//    tFAW), and the channel data bus (tBurst per request plus read/write and
//    rank turnarounds). Refresh takes (tRFC + tRP) / tREFI of each rank.
//  * Waiting at each station is mean-value analysis (arrival sees the queue
//    length; residual service for the one in service), which reduces to
//    Pollaczek-Khinchine for open streams; refresh adds a vacation term.
//  * Streams are closed loops: a stream achieves min(requested rate,
//    maxOutstanding / latency) (smoothed), so latency rises with load and the
//    achieved bandwidth saturates at what the stations allow.
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
  bankSets: Map<string, Int32Array>;
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
    bankSets: new Map(),
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

/** Relative change of every stream's rate at which the fixed point is accepted. */
const TOLERANCE = 3e-3;
const MAX_ITER = 120;

/** Utilisation cap of a station in the wait formula (the closed loop keeps real loads below 1). */
const U_MAX = 0.995;

/** Pollaczek-Khinchine mean wait for utilisation U and mean residual service. */
function pkWait(U: number, residual: number): number {
  return (U * residual) / (1 - U);
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

export function solveDram(config: DramConfig, streams: DramStreamDemand[]): DramSolution {
  const p = prepare(config);
  const t = p.t;
  const S = streams.length;
  streams.forEach(validate);
  const cyclesPerSec = 1e9 / p.tCkNs;
  const nB = p.totalBanks;
  const nG = p.groupsTotal;
  const nR = p.ranksTotal;
  const nC = p.channels;
  const bpg = p.banksPerGroup;
  const bpr = p.banksPerRank;
  const bpc = p.banksPerChannel;

  // Each stream spreads uniformly over the banks its colours reach. Banks of
  // one bank group reached by exactly the same streams behave identically, so
  // the model works on such bank classes (few when colours are coarse).
  const sets: Int32Array[] = streams.map((s) => bankSet(p, s.colours));
  const members: number[][] = Array.from({ length: nB }, () => []);
  for (let s = 0; s < S; s++) for (const b of sets[s]) members[b].push(s);
  const classOfKey = new Map<string, number>();
  const classOfBank = new Int32Array(nB).fill(-1);
  const clsBanks: number[] = [];
  const clsGroupArr: number[] = [];
  for (let b = 0; b < nB; b++) {
    if (members[b].length === 0) continue;
    const key = `${(b / bpg) | 0}|${members[b].join(',')}`;
    let c = classOfKey.get(key);
    if (c === undefined) {
      c = clsBanks.length;
      classOfKey.set(key, c);
      clsBanks.push(0);
      clsGroupArr.push((b / bpg) | 0);
    }
    clsBanks[c]++;
    classOfBank[b] = c;
  }
  const K = clsBanks.length;
  const clsCount = Float64Array.from(clsBanks);
  const clsGroup = Int32Array.from(clsGroupArr);
  const clsRank = Int32Array.from(clsGroupArr, (g) => Math.floor((g * bpg) / bpr));
  const clsChannel = Int32Array.from(clsGroupArr, (g) => Math.floor((g * bpg) / bpc));
  // per stream: its classes and the fraction of its requests each receives
  const sCls: Int32Array[] = [];
  const sW: Float64Array[] = [];
  const lambda = new Float64Array(S); // requested, per cycle
  const x = new Float64Array(S); // achieved, per cycle
  const h0 = new Float64Array(S);
  const rf = new Float64Array(S);
  const invSet = new Float64Array(S);
  const rankBudget = new Float64Array(nR); // outstanding requests that can pile up on a rank
  const rankIds: Int32Array[] = [];
  const rankShares: Float64Array[] = [];
  const groupIds: Int32Array[] = [];
  const groupShares: Float64Array[] = [];
  const tally = (keys: Iterable<number>) => {
    const m = new Map<number, number>();
    for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
    return m;
  };
  for (let s = 0; s < S; s++) {
    lambda[s] = streams[s].requestsPerSec / cyclesPerSec;
    x[s] = lambda[s];
    h0[s] = streams[s].rowHitRate;
    rf[s] = streams[s].readFraction;
    const n = sets[s].length;
    invSet[s] = 1 / n;
    const cc = tally(Array.from(sets[s], (b) => classOfBank[b]));
    sCls.push(Int32Array.from(cc.keys()));
    sW.push(Float64Array.from(cc.values(), (v) => v / n));
    const rc = tally(Array.from(sets[s], (b) => (b / bpr) | 0));
    rankIds.push(Int32Array.from(rc.keys()));
    rankShares.push(Float64Array.from(rc.values(), (v) => v / n));
    const gc = tally(Array.from(sets[s], (b) => (b / bpg) | 0));
    groupIds.push(Int32Array.from(gc.keys()));
    groupShares.push(Float64Array.from(gc.values(), (v) => v / n));
    for (const r of rc.keys()) rankBudget[r] += streams[s].maxOutstanding;
  }

  // per bank of a class
  const kRate = new Float64Array(K);
  const kRunRate = new Float64Array(K);
  const kScatterRate = new Float64Array(K);
  const kRateSq = new Float64Array(K);
  const kHitRate = new Float64Array(K);
  const kWriteRate = new Float64Array(K);
  const kWait = new Float64Array(K);
  const kLoad = new Float64Array(K);
  // stations shared by classes
  const groupRate = new Float64Array(nG);
  const groupWait = new Float64Array(nG);
  const groupLoad = new Float64Array(nG);
  const actRate = new Float64Array(nR);
  const actWait = new Float64Array(nR);
  const actUtil = new Float64Array(nR);
  const actLoad = new Float64Array(nR);
  const rankRate = new Float64Array(nR);
  const refreshWait = new Float64Array(nR);
  const busRate = new Float64Array(nC);
  const busWriteRate = new Float64Array(nC);
  const busWait = new Float64Array(nC);
  const busService = new Float64Array(nC);
  const busLoad = new Float64Array(nC);
  const channelBatch = new Float64Array(nC).fill(p.drainBatchLow); // from the previous iteration
  const channelWriteRate = new Float64Array(nC);
  const drainWait = new Float64Array(nC);
  // per (stream, class)
  const hEff: Float64Array[] = sCls.map((c) => new Float64Array(c.length));
  const latency = new Float64Array(S);
  const hitOut = new Float64Array(S);
  const intrusions = new Float64Array(S); // scattered requests of others that close the row, per request of the stream
  const step = new Float64Array(S).fill(0.5);
  const lastDelta = new Float64Array(S);

  const refreshStretch = 1 / (1 - p.refreshFraction);
  const V = p.refreshBlockCycles;
  const colService = t.tCCD_L * refreshStretch;
  const actService = Math.max(t.tFAW / 4, t.tRRD_S) * refreshStretch;
  const intrusionCycles = 2 * t.tRP + t.tRAS + t.tRCD;
  const writeEpisode = Math.max(t.tRC, t.tRCD + p.wrToPre + t.tRP) * refreshStretch;

  // Start from the requested rates scaled so that no bank or bus starts far
  // beyond its capacity (a good first guess under overload).
  {
    const busL = new Float64Array(nC);
    const kL = new Float64Array(K);
    for (let s = 0; s < S; s++) {
      const share = x[s] * invSet[s];
      const cls = sCls[s];
      for (let j = 0; j < cls.length; j++) {
        const k = cls[j];
        busL[clsChannel[k]] += x[s] * sW[s][j] * t.tBurst;
        kL[k] += share * ((1 - h0[s]) * t.tRC + h0[s] * t.tCCD_L);
      }
    }
    let worst = 0;
    for (const v of busL) worst = Math.max(worst, v);
    for (const v of kL) worst = Math.max(worst, v);
    if (worst > 0.9) for (let s = 0; s < S; s++) x[s] *= 0.9 / worst;
  }

  for (let iter = 0; iter < MAX_ITER; iter++) {
    // 1. arrival rates per bank, and the traffic that can close a stream's row:
    //    requests of streams with little locality (each one a conflict), and
    //    streams with locality weighted by how long their runs stay in the bank.
    kRate.fill(0);
    kRunRate.fill(0);
    kScatterRate.fill(0);
    kRateSq.fill(0);
    for (let s = 0; s < S; s++) {
      const share = x[s] * invSet[s];
      const cls = sCls[s];
      for (let j = 0; j < cls.length; j++) {
        const k = cls[j];
        kRate[k] += share;
        kRunRate[k] += share * h0[s];
        kScatterRate[k] += share * (1 - h0[s]);
        kRateSq[k] += share * x[s];
      }
    }
    // 2. row hits that survive interleaving with other streams
    kHitRate.fill(0);
    kWriteRate.fill(0);
    for (let s = 0; s < S; s++) {
      const share = x[s] * invSet[s];
      const xs = Math.max(x[s], 1e-15);
      const cls = sCls[s];
      const w = sW[s];
      const he = hEff[s];
      // each refresh of the rank holding the stream's current row closes it: 1/tREFI per stream
      const refreshKeep = 1 - Math.min(1, 1 / (t.tREFI * xs));
      let hsum = 0;
      let intr = 0;
      for (let j = 0; j < cls.length; j++) {
        const k = cls[j];
        // expected row-closing events between two of the stream's requests:
        // scattered requests of others arrive at their rate; another stream's
        // run in the same bank (probability = its share) ping-pongs with ours
        const scatter = Math.max(0, kScatterRate[k] - share * (1 - h0[s])) / xs;
        const others = Math.max(0, kRate[k] - share);
        const meanOther = others > 0 ? Math.max(0, kRateSq[k] - share * x[s]) / others : 0;
        const runs = Math.max(0, kRunRate[k] - share * h0[s]) / (xs + meanOther);
        // FR-FCFS keeps the row open for the stream if its next request already waits
        const y = xs * (kWait[k] + groupWait[clsGroup[k]]);
        const queued = y > 0 ? 1 - Math.exp(-y) : 0;
        const h = (h0[s] * refreshKeep) / (1 + (scatter + runs) * (1 - queued));
        he[j] = h;
        hsum += w[j] * h;
        intr += w[j] * scatter;
        kHitRate[k] += share * h;
        kWriteRate[k] += share * (1 - rf[s]);
      }
      hitOut[s] = hsum;
      intrusions[s] = intr;
    }
    // 3. stations: utilisation and mean waits (Pollaczek-Khinchine, deterministic service)
    groupRate.fill(0);
    actRate.fill(0);
    rankRate.fill(0);
    busRate.fill(0);
    busWriteRate.fill(0);
    for (let k = 0; k < K; k++) {
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
      const episode = Math.max(t.tRC, t.tRCD + (n - 1) * t.tCCD_L + closeAfterColumn + t.tRP) * refreshStretch;
      kLoad[k] = X * (1 - H) * episode;
      const U = Math.min(kLoad[k], U_MAX);
      let wait = pkWait(U, episode / 2);
      // Writes reach the bank in drain batches: a read can find a whole batch of
      // the bank's writes ahead of it (batch size = the channel's drain batch
      // times the bank's share of the channel's writes).
      const c = clsChannel[k];
      const wr = kWriteRate[k];
      if (wr > 0 && channelWriteRate[c] > 0) {
        const perBank = channelBatch[c] * (wr / channelWriteRate[c]);
        if (perBank > 1) {
          const wService = (1 - H) * writeEpisode + H * colService;
          wait += (wr * wService * (perBank - 1) * wService) / 2;
        }
      }
      kWait[k] = wait;
      const m = clsCount[k];
      const r = clsRank[k];
      groupRate[clsGroup[k]] += X * m;
      actRate[r] += X * (1 - H) * m;
      rankRate[r] += X * m;
      busRate[c] += X * m;
      busWriteRate[c] += wr * m;
    }
    for (let g = 0; g < nG; g++) {
      groupLoad[g] = groupRate[g] * colService;
      groupWait[g] = pkWait(Math.min(groupLoad[g], U_MAX), colService / 2);
    }
    for (let r = 0; r < nR; r++) {
      actLoad[r] = actRate[r] * actService;
      actUtil[r] = Math.min(actLoad[r], U_MAX);
      actWait[r] = pkWait(actUtil[r], actService / 2);
    }
    for (let c = 0; c < nC; c++) {
      const X = busRate[c];
      if (X <= 0) {
        busWait[c] = 0;
        busService[c] = t.tBurst;
        busLoad[c] = 0;
        drainWait[c] = 0;
        continue;
      }
      let sq = 0; // probability two consecutive bursts come from the same rank
      for (let r = c * p.ranks; r < (c + 1) * p.ranks; r++) sq += (rankRate[r] / X) ** 2;
      const wr = busWriteRate[c] / X;
      const ubus = X * t.tBurst;
      // writes drain in batches; each batch turns the bus around twice
      const batch = p.drainBatchLow + (p.drainBatchHigh - p.drainBatchLow) * Math.min(1, ubus);
      channelBatch[c] = batch;
      channelWriteRate[c] = busWriteRate[c];
      const turn = wr > 0 ? (wr / batch) * (p.rdToWrPenalty + p.wrToRdPenalty) : 0;
      const svc = t.tBurst + (1 - sq) * t.tRTRS + turn;
      busService[c] = svc;
      busLoad[c] = X * svc;
      busWait[c] = pkWait(Math.min(busLoad[c], U_MAX), svc / 2);
      // write drains: while a batch is moved and written, reads wait (a vacation of the read path)
      const drainCycles = batch * (1 + t.tBurst) + p.rdToWrPenalty + p.wrToRdPenalty;
      const drainFraction = Math.min(0.9, (busWriteRate[c] / batch) * drainCycles);
      drainWait[c] = (drainFraction * drainCycles) / 2;
    }
    // refresh: a request landing in a rank's refresh waits out the rest of it (V/2);
    // the backlog left behind (at most what the streams can keep outstanding)
    // drains at the spare capacity of the rank's bottleneck.
    for (let r = 0; r < nR; r++) {
      const lr = rankRate[r];
      const base = (p.refreshFraction * V) / 2;
      if (lr <= 0) {
        refreshWait[r] = base;
        continue;
      }
      const c = (r / p.ranks) | 0;
      const spareAct = actRate[r] > 0 ? actRate[r] * (1 / Math.max(actUtil[r], 1e-9) - 1) * (lr / actRate[r]) : Infinity;
      const spareBus = 1 / busService[c] - busRate[c];
      const drain = Math.max(1e-6, Math.min(spareAct, spareBus));
      const backlog = Math.min(lr * V, rankBudget[r]);
      refreshWait[r] = base + (backlog * backlog) / (2 * drain) / (lr * t.tREFI);
    }

    // 4. latency per stream and closed-loop throughput
    let change = 0;
    for (let s = 0; s < S; s++) {
      const cls = sCls[s];
      const w = sW[s];
      const he = hEff[s];
      const share = x[s] * invSet[s];
      let lat = 0;
      let openWait = 0;
      let peakLoad = 0;
      for (let j = 0; j < cls.length; j++) {
        const k = cls[j];
        const miss = 1 - he[j];
        const r = clsRank[k];
        const g = clsGroup[k];
        const c = clsChannel[k];
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
      const gs = groupIds[s];
      const gw = groupShares[s];
      for (let j = 0; j < gs.length; j++) othersGroup += gw[j] * Math.max(0, groupRate[gs[j]] - share * gw[j] / invSet[s]) * colService;
      const tCcdEff = colService / (1 - Math.min(0.9, othersGroup));
      const xs = Math.max(x[s], 1e-15);
      lat += runWaitCycles(hitOut[s], 1 / xs, t.tRP + t.tRCD + openWait, tCcdEff);
      // Another stream's request that closes the row in the middle of a run stops
      // the run for about 2 tRP + tRAS + tRCD; the run's requests queue up
      // meanwhile (at most the stream's outstanding limit) and drain at the spare
      // column rate of the bank group. Only streams with locality have runs to stop.
      if (h0[s] > 0 && intrusions[s] > 0) {
        const frac = Math.min(0.95, intrusions[s] * xs * intrusionCycles);
        const backlog = Math.min(xs * intrusionCycles, streams[s].maxOutstanding);
        const drain = Math.max(1 / tCcdEff - xs, 0.05 / tCcdEff);
        lat += h0[s] * ((frac * intrusionCycles) / 2 + ((backlog * backlog) / (2 * drain)) * intrusions[s]);
      }
      latency[s] = lat;
      // Closed loop: reads hold one of maxOutstanding slots for their latency
      // (writes only until accepted). Throughput is the stream's rate times the
      // probability a request finds a free slot (Erlang loss formula), which
      // tends to maxOutstanding / latency under overload.
      const m = streams[s].maxOutstanding;
      const holdCycles = rf[s] * lat + (1 - rf[s]);
      // while a rank refreshes, the stream's requests to it pile up; once they
      // fill its slots the stream stalls for the rest of the refresh
      let stall = 0;
      const rs = rankShares[s];
      for (let j = 0; j < rs.length; j++) {
        const fill = m / Math.max(xs * rs[j] * rf[s], 1e-15);
        if (fill < V) stall += V - fill;
      }
      let target = lambda[s] * (1 - erlangB(m, lambda[s] * holdCycles)) * Math.max(0, 1 - stall / t.tREFI);
      // never beyond what the busiest station it uses can carry
      if (peakLoad > U_MAX) target = Math.min(target, (x[s] * U_MAX) / peakLoad);
      // damped update; the step shrinks whenever the stream's correction changes sign (oscillation)
      const delta = target - x[s];
      if (delta * lastDelta[s] < 0) step[s] = Math.max(0.02, step[s] * 0.5);
      else step[s] = Math.min(0.7, step[s] * 1.2);
      lastDelta[s] = delta;
      change = Math.max(change, Math.abs(delta) / Math.max(lambda[s], 1e-15));
      x[s] += step[s] * delta;
    }
    (globalThis as any).__trace?.push(change);
    if (iter > 2 && change < TOLERANCE) break;
  }

  const channelUtilisation = Array.from(busRate, (X) => Math.min(1, X * t.tBurst));
  return {
    streams: streams.map((s, i) => ({
      id: s.id,
      avgLatencyNs: latency[i] * p.tCkNs,
      achievedRequestsPerSec: x[i] * cyclesPerSec,
      rowHitRate: hitOut[i],
    })),
    channelUtilisation,
    peakBytesPerSec: ddr4PeakBytesPerSec(config),
  };
}
