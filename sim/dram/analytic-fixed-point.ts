// The map whose fixed point the analytical DRAM model solves (see
// dram-analytic-model.ts for the mechanism): from the streams' achieved rates
// to per-bank-class arrivals and row hits, station loads and waits, each
// stream's latency, and the rate its closed loop would achieve at that
// latency (its target). Alongside, the derivatives the Newton steps of
// analytic-newton.ts need: how each target moves with the stream's latency,
// how the latency moves with the stream's own rate, and the parameters of
// each station's wait-versus-load curve. All state lives in typed arrays
// allocated once per topology and reset per call.
import type { Prepared, Topology } from './analytic-topology.js';
import { erlangBWithSlope, inverseErlangLoad, runWaitCyclesWithSlopes, stationWait } from './analytic-queueing.js';

/** A stream allowed more outstanding requests than this is treated as open (no closed-loop limit). */
export const OPEN_STREAM_OUTSTANDING = 4096;

/** What the fixed point needs of a stream (DramStreamDemand satisfies it). */
export interface StreamInput {
  requestsPerSec: number;
  rowHitRate: number;
  readFraction: number;
  maxOutstanding: number;
}

export class DramFixedPoint {
  readonly S: number;
  readonly lambda: Float64Array; // requested, per cycle
  readonly x: Float64Array; // achieved, per cycle
  readonly h0: Float64Array;
  readonly rf: Float64Array;
  readonly m: Float64Array;
  /**
   * Identical streams this one stands for (dram-analytic-model.ts solves
   * each set of streams with the same demand once): they see the same
   * latency and achieve the same rate, and each puts its own load on the
   * stations, so every sum of the streams' traffic counts it this many times.
   */
  readonly count: Float64Array;
  /** Share of a run's requests that come before the row-hit cap: 1 - h0^rowHitCap. */
  readonly underCap: Float64Array;
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
  /** Activations per cycle, row episode (its service time), and the write-batch part of kWait. */
  readonly kActRate: Float64Array;
  /** d kLoad / d (a stream's hit rate x its request share): a hit instead of a miss saves an episode but costs a column slot. */
  readonly kLoadPerHit: Float64Array;
  readonly kEpisode: Float64Array;
  readonly kWriteWait: Float64Array;
  /** Scratch per bank class for latenciesAndTargets: the latency every request pays, a miss's wait for its row, reads' drain wait. */
  private readonly kFixedLat: Float64Array;
  private readonly kOpenWait: Float64Array;
  private readonly kDrainWait: Float64Array;
  // shared stations, per unit of a class
  readonly groupRate: Float64Array;
  readonly groupWait: Float64Array;
  readonly groupLoad: Float64Array;
  readonly actRate: Float64Array;
  readonly actWait: Float64Array;
  readonly actUtil: Float64Array;
  readonly actLoad: Float64Array;
  readonly rankRate: Float64Array;
  readonly refreshWait: Float64Array;
  /** Refresh backlog term = refreshC / refreshDrain; refreshDrainBy: 0 floor (a tenth of the rank's rate), 1 bus, 2 activate window. */
  readonly refreshC: Float64Array;
  readonly refreshDrain: Float64Array;
  readonly refreshDrainBy: Int8Array;
  readonly refreshBacklogFull: Uint8Array;
  readonly busRate: Float64Array;
  readonly busWriteRate: Float64Array;
  readonly busWait: Float64Array;
  readonly busService: Float64Array;
  readonly busLoad: Float64Array;
  readonly busSameRank: Float64Array;
  readonly channelBatch: Float64Array;
  readonly drainWait: Float64Array;
  // per (stream, bank class) entry of topo.sCls
  readonly hEff: Float64Array;
  /** d hEff / d (bank wait + group wait): FR-FCFS keeps more rows open for a stream whose next request waits. */
  readonly hSlope: Float64Array;
  // per stream
  readonly latency: Float64Array;
  readonly hitOut: Float64Array;
  readonly intrusions: Float64Array;
  readonly stallFactor: Float64Array;
  readonly target: Float64Array;
  /** d target / d latency. */
  readonly targetSlope: Float64Array;
  /** d latency / d own rate through the run and intrusion terms. */
  readonly ownSlope: Float64Array;
  /** d latency / d (bank + activate wait), per unit of the class's request share: miss rate plus the run's wait for its row to open. */
  readonly openSlope: Float64Array;
  // the damped update (reference solver)
  readonly step: Float64Array;
  readonly lastDelta: Float64Array;
  /** Largest step of the last dampedStep, relative to the requested rate. */
  moved = 0;
  // constants
  readonly refreshStretch: number;
  readonly V: number;
  readonly colService: number;
  readonly actService: number;
  readonly intrusionCycles: number;
  readonly writeEpisode: number;
  readonly refreshBase: number;
  private readonly scratch = new Float64Array(2);

  constructor(
    readonly p: Prepared,
    readonly topo: Topology,
  ) {
    const S = topo.S;
    const t = p.t;
    this.S = S;
    const perStream = () => new Float64Array(S);
    this.lambda = perStream();
    this.x = perStream();
    this.h0 = perStream();
    this.rf = perStream();
    this.m = perStream();
    this.count = perStream();
    this.underCap = perStream();
    this.popK = new Float64Array(topo.K);
    this.popG = new Float64Array(topo.G);
    this.popR = new Float64Array(topo.R);
    this.popC = new Float64Array(topo.C);
    const perK = () => new Float64Array(topo.K);
    this.kRate = perK();
    this.kRunRate = perK();
    this.kScatterRate = perK();
    this.kRateSq = perK();
    this.kHitRate = perK();
    this.kWriteRate = perK();
    this.kWait = perK();
    this.kLoad = perK();
    this.kActRate = perK();
    this.kLoadPerHit = perK();
    this.kEpisode = perK();
    this.kWriteWait = perK();
    this.kFixedLat = perK();
    this.kOpenWait = perK();
    this.kDrainWait = perK();
    this.groupRate = new Float64Array(topo.G);
    this.groupWait = new Float64Array(topo.G);
    this.groupLoad = new Float64Array(topo.G);
    const perR = () => new Float64Array(topo.R);
    this.actRate = perR();
    this.actWait = perR();
    this.actUtil = perR();
    this.actLoad = perR();
    this.rankRate = perR();
    this.refreshWait = perR();
    this.refreshC = perR();
    this.refreshDrain = perR();
    this.refreshDrainBy = new Int8Array(topo.R);
    this.refreshBacklogFull = new Uint8Array(topo.R);
    const perC = () => new Float64Array(topo.C);
    this.busRate = perC();
    this.busWriteRate = perC();
    this.busWait = perC();
    this.busService = perC();
    this.busLoad = perC();
    this.busSameRank = perC();
    this.channelBatch = perC();
    this.drainWait = perC();
    this.hEff = new Float64Array(topo.sCls.length);
    this.hSlope = new Float64Array(topo.sCls.length);
    this.latency = perStream();
    this.hitOut = perStream();
    this.intrusions = perStream(); // scattered requests of others that close the row, per request of the stream
    this.stallFactor = perStream();
    this.target = perStream();
    this.targetSlope = perStream();
    this.ownSlope = perStream();
    this.openSlope = perStream();
    this.step = perStream();
    this.lastDelta = perStream();
    this.refreshStretch = 1 / (1 - p.refreshFraction);
    this.V = p.refreshBlockCycles;
    this.colService = t.tCCD_L * this.refreshStretch;
    this.actService = Math.max(t.tFAW / 4, t.tRRD_S) * this.refreshStretch;
    this.intrusionCycles = 2 * t.tRP + t.tRAS + t.tRCD;
    this.writeEpisode = Math.max(t.tRC, t.tRCD + p.wrToPre + t.tRP) * this.refreshStretch;
    this.refreshBase = (p.refreshFraction * this.V) / 2;
  }

  /** Load the streams' demand (and how many identical streams each stands for; default one) and reset every per-call variable. */
  reset(streams: readonly StreamInput[], counts?: ArrayLike<number>): void {
    const cyclesPerSec = 1e9 / this.p.tCkNs;
    const cap = this.p.rowHitCap;
    for (let s = 0; s < this.S; s++) {
      const d = streams[s];
      this.lambda[s] = d.requestsPerSec / cyclesPerSec;
      this.x[s] = this.lambda[s];
      this.h0[s] = d.rowHitRate;
      let hCap = 1;
      for (let k = 0; k < cap; k++) hCap *= d.rowHitRate;
      this.underCap[s] = 1 - hCap;
      this.rf[s] = d.readFraction;
      this.m[s] = d.maxOutstanding;
      this.count[s] = counts === undefined ? 1 : counts[s];
    }
    const topo = this.topo;
    this.population(topo.kMemberStart, topo.kMembers, this.popK);
    this.population(topo.gMemberStart, topo.gMembers, this.popG);
    this.population(topo.rMemberStart, topo.rMembers, this.popR);
    this.population(topo.cMemberStart, topo.cMembers, this.popC);
    this.kWait.fill(0);
    this.groupWait.fill(0);
    this.step.fill(0.5);
    this.lastDelta.fill(0);
    this.stallFactor.fill(1);
    this.hitOut.fill(0);
    this.intrusions.fill(0);
  }

  /**
   * Requests that can wait at a station: the outstanding reads of every
   * stream using it, plus a write buffer's worth if any of them writes.
   */
  private population(start: Int32Array, members: Int32Array, out: Float64Array): void {
    for (let i = 0; i < out.length; i++) {
      let n = 0;
      let writes = false;
      for (let j = start[i]; j < start[i + 1]; j++) {
        const s = members[j];
        n += this.count[s] * Math.min(this.m[s], OPEN_STREAM_OUTSTANDING);
        if (this.rf[s] < 1) writes = true;
      }
      out[i] = n + (writes ? this.p.drainBatchHigh : 0);
    }
  }

  /** Start from the requested rates scaled so no bank or bus starts far beyond capacity. */
  initialGuess(): void {
    const { topo, x, h0, rf, p, count } = this;
    const t = p.t;
    const busL = this.busLoad; // scratch (recomputed by stations())
    const kL = this.kLoad;
    busL.fill(0);
    kL.fill(0);
    // a burst, a rank switch between most bursts, and the bus turnarounds of full write batches
    const burst = t.tBurst + (1 - 1 / p.ranks) * t.tRTRS;
    const perWrite = (p.rdToWrPenalty + p.wrToRdPenalty) / p.drainBatchHigh;
    const { sStart, sCls, kChannel, kPerChannel, invSet } = topo;
    for (let s = 0; s < this.S; s++) {
      const share = x[s] * invSet[s] * count[s];
      const perBank = share * ((1 - h0[s]) * t.tRC + h0[s] * t.tCCD_L);
      const busPerBank = share * (burst + (1 - rf[s]) * perWrite);
      for (let j = sStart[s]; j < sStart[s + 1]; j++) {
        const k = sCls[j];
        busL[kChannel[k]] += busPerBank * kPerChannel[k];
        kL[k] += perBank;
      }
    }
    let worst = 0;
    for (let c = 0; c < busL.length; c++) if (busL[c] > worst) worst = busL[c];
    for (let k = 0; k < kL.length; k++) if (kL[k] > worst) worst = kL[k];
    if (worst > 0.9) for (let s = 0; s < this.S; s++) x[s] *= 0.9 / worst;
  }

  /** One evaluation of the map with every wait taken from the current rates. */
  evaluate(): void {
    this.bankArrivals();
    this.rowHits();
    this.stations();
    this.latenciesAndTargets();
  }

  /** 1. Arrival rates per bank, and the traffic that can close a stream's row. */
  bankArrivals(): void {
    const { topo, x, h0, count, kRate, kRunRate, kScatterRate, kRateSq } = this;
    const { sStart, sCls, invSet } = topo;
    kRate.fill(0);
    kRunRate.fill(0);
    kScatterRate.fill(0);
    kRateSq.fill(0);
    for (let s = 0; s < this.S; s++) {
      const share = x[s] * invSet[s] * count[s];
      const run = share * h0[s];
      const scatter = share - run;
      const sq = share * x[s];
      for (let j = sStart[s]; j < sStart[s + 1]; j++) {
        const k = sCls[j];
        kRate[k] += share;
        kRunRate[k] += run;
        kScatterRate[k] += scatter;
        kRateSq[k] += sq;
      }
    }
  }

  /** 2. Row hits that survive interleaving with other streams. */
  rowHits(): void {
    const { topo, x, h0, rf, kRate, kRunRate, kScatterRate, kRateSq, kHitRate, kWriteRate, kWait, groupWait, hEff, hSlope, hitOut, intrusions, underCap } = this;
    const { sStart, sCls, sW, invSet, kGroup } = topo;
    const tREFI = this.p.t.tREFI;
    kHitRate.fill(0);
    kWriteRate.fill(0);
    const kQueueWait = this.kOpenWait; // scratch: the wait a request's successor sees queued behind it
    for (let k = 0; k < topo.K; k++) kQueueWait[k] = kWait[k] + groupWait[kGroup[k]];
    for (let s = 0; s < this.S; s++) {
      const share = x[s] * invSet[s];
      const xs = Math.max(x[s], 1e-15);
      const h = h0[s];
      // each refresh of the rank holding the stream's current row closes it: 1/tREFI per stream
      const base = h * (1 - Math.min(1, 1 / (tREFI * xs)));
      const cap = underCap[s];
      const ownScatter = share * (1 - h);
      const ownRun = share * h;
      const ownSq = share * x[s];
      const c = this.count[s];
      const writes = c * share * (1 - rf[s]);
      const shareAll = c * share;
      let hsum = 0;
      let intr = 0;
      for (let j = sStart[s]; j < sStart[s + 1]; j++) {
        const k = sCls[j];
        const w = sW[j];
        // row-closing events between two of the stream's requests: scattered
        // requests of others at their rate; another stream's run in the same
        // bank (probability = its share) ping-pongs with ours
        const scatter = Math.max(0, kScatterRate[k] - ownScatter) / xs;
        const others = Math.max(0, kRate[k] - share);
        const meanOther = others > 0 ? Math.max(0, kRateSq[k] - ownSq) / others : 0;
        const runs = Math.max(0, kRunRate[k] - ownRun) / (xs + meanOther);
        // FR-FCFS keeps the row open for the stream if its next request already
        // waits. Against an older scattered request it does so only until the
        // row has served rowHitCap column commands; two streams running in one
        // bank are batched (each switch of rows serves a batch of hits).
        const y = xs * kQueueWait[k];
        const e = y > 0 ? Math.exp(-y) : 1;
        const queued = 1 - e;
        const hk = base / (1 + scatter * (1 - queued * cap) + runs * (1 - queued));
        hEff[j] = hk;
        hSlope[j] = base > 0 ? ((hk * hk) / base) * (scatter * cap + runs) * xs * e : 0;
        hsum += w * hk;
        intr += w * scatter;
        kHitRate[k] += shareAll * hk;
        kWriteRate[k] += writes;
      }
      hitOut[s] = hsum;
      intrusions[s] = intr;
    }
  }

  /** 3. Stations: loads, and waits as the loads imply them. */
  stations(): void {
    const { topo, p, kRate, kHitRate, kWriteRate, kWait, kLoad, kActRate, kEpisode, kWriteWait, groupRate, actRate, rankRate, busRate, busWriteRate } = this;
    const { kGroup, kRank, kChannel, kPerGroup, kPerRank, kPerChannel } = topo;
    const t = p.t;
    groupRate.fill(0);
    actRate.fill(0);
    rankRate.fill(0);
    busRate.fill(0);
    busWriteRate.fill(0);
    for (let k = 0; k < topo.K; k++) {
      const X = kRate[k];
      if (X <= 0) {
        kLoad[k] = 0;
        kActRate[k] = 0;
        kEpisode[k] = 0;
        continue;
      }
      const H = Math.min(0.999, kHitRate[k] / X);
      const wfrac = kWriteRate[k] / X;
      const n = 1 / (1 - H);
      const closeAfterColumn = (1 - wfrac) * t.tRTP + wfrac * p.wrToPre;
      // a row episode: activate, n column commands tCCD_L apart, close, precharge
      const opened = t.tRCD + (n - 1) * t.tCCD_L + closeAfterColumn + t.tRP;
      const episode = Math.max(t.tRC, opened) * this.refreshStretch;
      this.kLoadPerHit[k] = -(opened > t.tRC ? t.tRCD + closeAfterColumn + t.tRP - t.tCCD_L : t.tRC) * this.refreshStretch;
      const acts = X * (1 - H);
      kActRate[k] = acts;
      kEpisode[k] = episode;
      kLoad[k] = acts * episode;
      groupRate[kGroup[k]] += X * kPerGroup[k];
      const r = kRank[k];
      actRate[r] += acts * kPerRank[k];
      rankRate[r] += X * kPerRank[k];
      busRate[kChannel[k]] += X * kPerChannel[k];
      busWriteRate[kChannel[k]] += kWriteRate[k] * kPerChannel[k];
    }
    for (let g = 0; g < topo.G; g++) {
      this.groupLoad[g] = groupRate[g] * this.colService;
      this.groupWait[g] = stationWait(this.groupLoad[g], this.colService / 2, groupRate[g], this.popG[g]);
    }
    const sameRank = this.busSameRank; // probability two consecutive bursts come from the same rank
    sameRank.fill(0);
    for (let r = 0; r < topo.R; r++) {
      this.actLoad[r] = actRate[r] * this.actService;
      this.actUtil[r] = Math.min(this.actLoad[r], 0.98);
      this.actWait[r] = stationWait(this.actLoad[r], this.actService / 2, actRate[r], this.popR[r]);
      const c = topo.rChannel[r];
      if (busRate[c] > 0) sameRank[c] += topo.rPerChannel[r] * (rankRate[r] / busRate[c]) ** 2;
    }
    for (let c = 0; c < topo.C; c++) {
      const X = busRate[c];
      if (X <= 0) {
        this.busWait[c] = 0;
        this.busService[c] = t.tBurst;
        this.busLoad[c] = 0;
        this.drainWait[c] = 0;
        this.channelBatch[c] = p.drainBatchLow;
        continue;
      }
      const wr = busWriteRate[c] / X;
      const ubus = X * t.tBurst;
      // writes drain in batches; each batch turns the bus around twice
      const batch = p.drainBatchLow + (p.drainBatchHigh - p.drainBatchLow) * Math.min(1, ubus);
      this.channelBatch[c] = batch;
      const turn = wr > 0 ? (wr / batch) * (p.rdToWrPenalty + p.wrToRdPenalty) : 0;
      const svc = t.tBurst + (1 - sameRank[c]) * t.tRTRS + turn;
      this.busService[c] = svc;
      this.busLoad[c] = X * svc;
      this.busWait[c] = stationWait(this.busLoad[c], svc / 2, X, this.popC[c]);
      // write drains: while a batch is moved and written, reads wait (a vacation of the read path)
      const drainCycles = batch * (1 + t.tBurst) + p.rdToWrPenalty + p.wrToRdPenalty;
      const drainFraction = Math.min(0.9, (busWriteRate[c] / batch) * drainCycles);
      this.drainWait[c] = (drainFraction * drainCycles) / 2;
    }
    for (let k = 0; k < topo.K; k++) {
      const X = kRate[k];
      if (X <= 0) {
        kWait[k] = 0;
        kWriteWait[k] = 0;
        continue;
      }
      const acts = kActRate[k];
      let writeWait = 0;
      // Writes reach the bank in drain batches: a read can find a whole batch of
      // the bank's writes ahead of it (batch = the channel's drain batch times
      // the bank's share of the channel's writes).
      const c = kChannel[k];
      const wr = kWriteRate[k];
      if (wr > 0 && busWriteRate[c] > 0) {
        const perBank = this.channelBatch[c] * (wr / busWriteRate[c]);
        if (perBank > 1) {
          const H = 1 - acts / X;
          const wService = (1 - H) * this.writeEpisode + H * this.colService;
          writeWait = (wr * wService * (perBank - 1) * wService) / 2;
        }
      }
      kWriteWait[k] = writeWait;
      kWait[k] = stationWait(kLoad[k], kEpisode[k] / 2, acts, this.popK[k]) + writeWait;
    }
    // Refresh: a request landing in a rank's refresh waits out the rest of it
    // (V/2); the backlog left behind (at most what the streams can keep
    // outstanding) drains at the spare capacity of the rank's bottleneck.
    const V = this.V;
    for (let r = 0; r < topo.R; r++) {
      const lr = rankRate[r];
      if (lr <= 0) {
        this.refreshWait[r] = this.refreshBase;
        this.refreshC[r] = 0;
        this.refreshDrain[r] = 0;
        continue;
      }
      const c = topo.rChannel[r];
      const spareAct = actRate[r] > 0 ? lr * (1 / Math.max(this.actUtil[r], 1e-9) - 1) : Infinity;
      const spareBus = 1 / this.busService[c] - busRate[c];
      // (under overload the backlog barely drains; assume a tenth of the
      // rank's rate still gets through, which keeps the term bounded)
      let drain = 0.1 * lr;
      let by = 0;
      if (Math.min(spareAct, spareBus) > drain) {
        by = spareBus <= spareAct ? 1 : 2;
        drain = by === 1 ? spareBus : spareAct;
      }
      const full = lr * V > this.popR[r];
      const backlog = full ? this.popR[r] : lr * V;
      this.refreshC[r] = (backlog * backlog) / (2 * lr * t.tREFI);
      this.refreshDrain[r] = drain;
      this.refreshDrainBy[r] = by;
      this.refreshBacklogFull[r] = full ? 1 : 0;
      this.refreshWait[r] = this.refreshBase + this.refreshC[r] / drain;
    }
  }

  /**
   * 4. Latency per stream, and the rate its closed loop would achieve at that
   * latency (`target`), with the slopes the Newton steps use.
   */
  latenciesAndTargets(): void {
    const { topo, p, x, h0, rf, lambda, hEff, latency, kWait, kLoad, groupWait, groupLoad, groupRate, actWait, actLoad, busWait, busLoad, drainWait, refreshWait, scratch, kFixedLat, kOpenWait, kDrainWait } = this;
    const { sStart, sCls, sW, kRank, kGroup, kChannel, sgStart, sgCls, sgShare, sgCount, srStart, srShare, srCount } = topo;
    const t = p.t;
    const unloadedHit = 1 + t.tCL + t.tBurst;
    const missPenalty = t.tRP + t.tRCD;
    const V = this.V;
    // per bank class: the latency every request pays, what a miss waits for, the drain wait of reads
    for (let k = 0; k < topo.K; k++) {
      const r = kRank[k];
      const c = kChannel[k];
      kFixedLat[k] = unloadedHit + groupWait[kGroup[k]] + busWait[c] + refreshWait[r];
      kOpenWait[k] = kWait[k] + actWait[r];
      kDrainWait[k] = drainWait[c];
    }
    for (let s = 0; s < this.S; s++) {
      let lat = 0;
      let openWait = 0;
      let peakLoad = 0;
      const rfs = rf[s];
      const isOpen = this.m[s] > OPEN_STREAM_OUTSTANDING / 4;
      for (let j = sStart[s]; j < sStart[s + 1]; j++) {
        const k = sCls[j];
        const w = sW[j];
        const open = kOpenWait[k];
        lat += w * (kFixedLat[k] + (1 - hEff[j]) * (missPenalty + open) + rfs * kDrainWait[k]);
        openWait += w * open;
        if (isOpen) {
          const load = Math.max(kLoad[k], groupLoad[kGroup[k]], actLoad[kRank[k]], busLoad[kChannel[k]]);
          if (load > peakLoad) peakLoad = load;
        }
      }
      // A run's followers queue behind its opening and each other on the bank
      // group, sharing the group's column slots with other streams' requests.
      let othersGroup = 0;
      for (let j = sgStart[s]; j < sgStart[s + 1]; j++) {
        const gw = sgShare[j];
        othersGroup += sgCount[j] * gw * Math.max(0, groupRate[sgCls[j]] - x[s] * gw) * this.colService;
      }
      const tCcdEff = this.colService / (1 - Math.min(0.9, othersGroup));
      const xs = Math.max(x[s], 1e-15);
      lat += runWaitCyclesWithSlopes(this.hitOut[s], 1 / xs, missPenalty + openWait, tCcdEff, scratch);
      let own = (-scratch[0] / xs) / xs; // d/dx of the run wait through its gap 1/x
      this.openSlope[s] = scratch[1];
      // Another stream's request closing the row in the middle of a run stops
      // the run for about 2 tRP + tRAS + tRCD; the run's requests queue up
      // meanwhile (at most the stream's outstanding limit) and drain at the
      // spare column rate of the bank group. Only streams with locality have runs.
      const intr = this.intrusions[s];
      if (h0[s] > 0 && intr > 0) {
        const ic = this.intrusionCycles;
        const frac = Math.min(0.95, intr * xs * ic);
        const full = xs * ic >= this.m[s];
        const backlog = full ? this.m[s] : xs * ic;
        const spare = 1 / tCcdEff - xs;
        const floorDrain = spare < 0.1 * xs;
        const drain = floorDrain ? 0.1 * xs : spare;
        const queue = ((backlog * backlog) / (2 * drain)) * intr;
        lat += h0[s] * ((frac * ic) / 2 + queue);
        // intr ~ 1/x (others' row closings per request of ours), so the queue term goes as backlog^2 / (drain x)
        own += h0[s] * queue * ((full ? 0 : (2 * ic) / backlog) - (floorDrain ? 0.1 : -1) / drain - 1 / xs);
      }
      latency[s] = lat;
      this.ownSlope[s] = own > 0 ? own : 0;
      // Closed loop: reads hold one of maxOutstanding slots for their latency
      // (writes only until accepted). Throughput is the stream's rate times the
      // probability a request finds a free slot (Erlang loss formula), which
      // tends to maxOutstanding / latency under overload.
      const m = this.m[s];
      const holdCycles = rfs * lat + (1 - rfs);
      // while a rank refreshes, the stream's requests to it pile up; once they
      // fill its slots the stream stalls for the rest of the refresh
      let stall = 0;
      if (m < V * xs * rfs) {
        // (with a share of 1 the slots would last a whole refresh: no stall anywhere)
        for (let j = srStart[s]; j < srStart[s + 1]; j++) {
          const fill = m / Math.max(xs * srShare[j] * rfs, 1e-15);
          if (fill < V) stall += srCount[j] * (V - fill);
        }
      }
      const stallFactor = Math.max(0, 1 - stall / t.tREFI);
      this.stallFactor[s] = stallFactor;
      const lam = lambda[s];
      let target = lam * (1 - erlangBWithSlope(m, lam * holdCycles, scratch)) * stallFactor;
      this.targetSlope[s] = isOpen ? 0 : -lam * stallFactor * scratch[0] * lam * rfs;
      // a stream with (practically) unlimited outstanding requests is held at
      // what the busiest station it uses can carry
      if (isOpen && peakLoad > 1) target = Math.min(target, x[s] / peakLoad);
      this.target[s] = target;
    }
  }

  /**
   * One damped update of every rate toward its target; the step shrinks
   * whenever the correction changes sign (oscillation). This plain iteration
   * reaches the same fixed point as the Newton steps, in many more rounds
   * (tests use it as the reference). Returns the largest residual; `moved`
   * gets the largest step, both relative to the requested rate.
   */
  dampedStep(): number {
    const { x, lambda } = this;
    let change = 0;
    let moved = 0;
    for (let s = 0; s < this.S; s++) {
      const delta = this.target[s] - x[s];
      if (delta * this.lastDelta[s] < 0) this.step[s] = Math.max(1e-4, this.step[s] * 0.5);
      else this.step[s] = Math.min(0.7, this.step[s] * 1.2);
      this.lastDelta[s] = delta;
      const rel = Math.abs(delta) / Math.max(lambda[s], 1e-15);
      if (rel > change) change = rel;
      if (rel * this.step[s] > moved) moved = rel * this.step[s];
      x[s] += this.step[s] * delta;
    }
    this.moved = moved;
    return change;
  }

  /**
   * Rates may exceed what a bank or a channel's data bus can carry (a
   * stream confined to an overloaded bank that the rounds did not bring
   * down); scale the streams using an overloaded one back to its capacity.
   * Uses the loads of the last stations() call.
   */
  projectToCapacity(): void {
    const { topo, p, x } = this;
    const t = p.t;
    for (let s = 0; s < this.S; s++) {
      let f = 1;
      for (let j = topo.sStart[s]; j < topo.sStart[s + 1]; j++) {
        const k = topo.sCls[j];
        if (this.kLoad[k] > 1) f = Math.min(f, 1 / this.kLoad[k]);
        const bus = this.busRate[topo.kChannel[k]] * t.tBurst;
        if (bus > 1) f = Math.min(f, 1 / bus);
      }
      x[s] *= f;
    }
  }

  /** Whether every rate, latency and row-hit rate is a finite number. */
  finite(): boolean {
    for (let s = 0; s < this.S; s++) if (!Number.isFinite(this.x[s]) || !Number.isFinite(this.latency[s]) || !Number.isFinite(this.hitOut[s])) return false;
    return true;
  }

  /** Whether some bank or data bus is loaded beyond its capacity (per the last stations() call). */
  overCapacity(): boolean {
    const tBurst = this.p.t.tBurst;
    for (let k = 0; k < this.topo.K; k++) if (this.kLoad[k] > 1) return true;
    for (let c = 0; c < this.topo.C; c++) if (this.busRate[c] * tBurst > 1) return true;
    return false;
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
      const a = inverseErlangLoad(m, Math.max(0, 1 - ratio), lam * (this.rf[s] * this.latency[s] + (1 - this.rf[s])));
      const implied = (a / lam - (1 - this.rf[s])) / this.rf[s];
      if (!Number.isFinite(implied)) continue;
      const wt = Math.min(1, (0.99 - ratio) / 0.05);
      this.latency[s] = (1 - wt) * this.latency[s] + wt * Math.max(implied, 1 + t.tCL + t.tBurst);
    }
  }
}
