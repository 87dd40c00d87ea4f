// Newton steps for the analytical DRAM model's fixed point.
//
// Why: near saturation a station's wait is an extremely steep function of its
// load (the Pollaczek-Khinchine 1/(1-U) until the population bound), so a
// change of 1% in the streams' rates can double their latency and halve
// their targets. Iterating on the rates must then take tiny steps (hundreds
// of rounds); iterating on the waits has the same loop gain. The inverse
// curve, load as a function of wait, is smooth, and so is each stream's rate
// as a function of the waits it sees. So the steep waits become unknowns of
// their own, and each round solves the balance
//     load implied by the wait  =  load the streams put on the station
// for all of them at once: latency linear in the waits, each stream's rate
// its closed loop's exact (Erlang) response to that latency, loads linear in
// the rates, by a few inner Newton iterations on this reduced system (the
// Erlang response's slope changes by orders of magnitude between an
// unthrottled and a throttled stream, which one linearisation misses). The
// next round re-evaluates the whole model at the new waits and rates; the
// fixed point is the model's: every wait is the one its load implies and
// every rate is its target. Only stations loaded enough to be steep join
// (others keep the waits their loads imply), and a wait whose correction
// changes sign is damped and its trust region shrinks, which catches what the
// reduced system leaves out.
//
// State waits: per bank class (the queueing part; the write-batch part
// follows the rates), bank group, activate window and data bus class; per
// rank class the refresh backlog term c / drain, whose drain (spare capacity
// of the rank's bottleneck) vanishes near saturation (balance rho drain = c).
// A queueing wait w is solved for in u = 1 / (res + kappa w), in which the
// load it implies, (1 - res u) / kappa, is linear and a closed stream's rate
// (about outstanding / latency) nearly so.
import type { DramFixedPoint } from './analytic-fixed-point.js';
import { erlangBWithSlope } from './analytic-queueing.js';

/** A station whose load reaches this joins the Newton system. */
const STIFF_LOAD = 0.4;
/** At most this many waits in the system (the most loaded stations first); the rest follow their loads. */
const MAX_STATES = 40;
/** A first Newton step moving no wait by more than this share is taken as it is (no inner iterations). */
const LINEAR_ENOUGH = 0.05;
const BACKTRACKS = 4;
/** Inner iterations stop once a step moves no wait's u by more than this share (the next round re-linearises anyway). */
const INNER_TOLERANCE = 0.1;
/** Inner Newton iterations on the reduced system per round. */
const INNER_ITERATIONS = 4;
/** Factor by which a wait's u may move in a round: at first, at least, at most. */
const START_RADIUS = 2;
const MIN_RADIUS = 1.5;
const MAX_RADIUS = 8;

const COEFS = 8;

const enum Kind {
  Bank = 0,
  Group = 1,
  Act = 2,
  Bus = 3,
  Refresh = 4,
}

export class StationNewton {
  readonly n: number;
  private readonly oG: number;
  private readonly oA: number;
  private readonly oC: number;
  private readonly oF: number;
  /** Waits that are unknowns (refresh: the backlog term above its base). */
  readonly w: Float64Array;
  readonly active: Uint8Array;
  private activeCount = 0;
  private readonly kind: Uint8Array;
  private readonly unit: Int32Array;
  // the station's wait-versus-load curve at the current rates
  private readonly load: Float64Array;
  private readonly svc: Float64Array;
  private readonly pop: Float64Array;
  // per-state damping
  private readonly lastStep: Float64Array;
  private readonly damp: Float64Array;
  private readonly radius: Float64Array;
  /** Correction of each state from the last solve (0 for inactive ones). */
  private readonly delta: Float64Array;
  // rows of the reduced system (active states)
  private m = 0;
  /** Whether the last solve's step was small enough for the streams' linearised response. */
  private linearStep = false;

  private readonly row: Int32Array;
  private readonly order: Int32Array;
  private readonly rRes: Float64Array; // residual service (queueing rows)
  private readonly rKappa: Float64Array;
  private readonly rUpper: Float64Array; // largest wait (population bound / least drain)
  private readonly rU0: Float64Array; // u (queueing) or wait (refresh) now
  private readonly rLoad: Float64Array; // load now (refresh: c)
  private readonly rDiag: Float64Array; // d implied / du (refresh: drain)
  private readonly du: Float64Array; // trial correction in u
  private readonly dw: Float64Array; // ... and in the wait
  private readonly dwdu: Float64Array;
  private readonly G: Float64Array;
  private readonly rScale: Float64Array;
  private readonly dNewton: Float64Array;
  private readonly duPrev: Float64Array;
  private readonly J: Float64Array;
  private readonly pivots: Int32Array;
  /** The Jacobian's factors at the start of the last solve, for quickDistance(), and whether they may serve. */
  private readonly Jq: Float64Array;
  private readonly pivotsQ: Int32Array;
  private quickValid = false;

  private readonly Dw: Float64Array; // d (row balance) / d wait not through the rates (row hits)
  // per-stream sparse vectors over rows: a = d latency / d wait, b = d (row balance) / d rate
  private readonly pStart: Int32Array;
  private pRow: Int32Array;
  private pA: Float64Array;
  private pB: Float64Array;
  private readonly sDamp: Float64Array;
  private readonly sDx: Float64Array;
  private readonly sGain: Float64Array;
  /** Per open stream: a step factor halved whenever its residual changes sign. */
  private readonly sStep: Float64Array;
  private readonly sLastResidual: Float64Array;
  // scratch for building a stream's vectors
  private readonly av: Float64Array;
  private readonly bv: Float64Array;
  private readonly touched: Int32Array;
  /** Row -> its slot in touched (valid when touched[slot] is the row). */
  private readonly slot: Int32Array;
  /** Per bank class: its five rows (bank, group, activate, bus, refresh; -1 when not in the system) and COEFS coefficients. */
  private readonly cRows: Int32Array;
  private readonly cCoef: Float64Array;
  private readonly slope = new Float64Array(1);

  constructor(private readonly fp: DramFixedPoint) {
    const { K, G, R, C } = fp.topo;
    this.oG = K;
    this.oA = K + G;
    this.oC = K + G + R;
    this.oF = K + G + R + C;
    const n = (this.n = this.oF + R);
    this.w = new Float64Array(n);
    this.active = new Uint8Array(n);
    this.kind = new Uint8Array(n);
    this.unit = new Int32Array(n);
    const mark = (from: number, count: number, kind: Kind) => {
      for (let i = 0; i < count; i++) {
        this.kind[from + i] = kind;
        this.unit[from + i] = i;
      }
    };
    mark(0, K, Kind.Bank);
    mark(this.oG, G, Kind.Group);
    mark(this.oA, R, Kind.Act);
    mark(this.oC, C, Kind.Bus);
    mark(this.oF, R, Kind.Refresh);
    const perState = () => new Float64Array(n);
    this.load = perState();
    this.svc = perState();
    this.pop = perState();
    this.lastStep = perState();
    this.damp = perState();
    this.radius = perState();
    this.delta = perState();
    this.row = new Int32Array(n).fill(-1);
    this.order = new Int32Array(n);
    const cap = Math.min(n, MAX_STATES);
    const perRow = () => new Float64Array(cap);
    this.rRes = perRow();
    this.rKappa = perRow();
    this.rUpper = perRow();
    this.rU0 = perRow();
    this.rLoad = perRow();
    this.rDiag = perRow();
    this.du = perRow();
    this.dw = perRow();
    this.dwdu = perRow();
    this.G = perRow();
    this.rScale = perRow();
    this.dNewton = perRow();
    this.duPrev = perRow();
    this.J = new Float64Array(cap * cap);
    this.pivots = new Int32Array(cap);
    this.Jq = new Float64Array(cap * cap);
    this.pivotsQ = new Int32Array(cap);

    this.Dw = new Float64Array(cap * cap);
    const S = fp.S;
    this.pStart = new Int32Array(S + 1);
    this.pRow = new Int32Array(S * 4);
    this.pA = new Float64Array(S * 4);
    this.pB = new Float64Array(S * 4);
    this.sDamp = new Float64Array(S);
    this.sDx = new Float64Array(S);
    this.sGain = new Float64Array(S);
    this.sStep = new Float64Array(S);
    this.sLastResidual = new Float64Array(S);
    this.av = new Float64Array(cap);
    this.bv = new Float64Array(cap);
    this.touched = new Int32Array(cap);
    this.slot = new Int32Array(cap).fill(-1);
    this.cRows = new Int32Array(K * 5);
    this.cCoef = new Float64Array(K * COEFS);
  }

  reset(): void {
    this.quickValid = false;
    this.active.fill(0);
    this.activeCount = 0;
    this.w.fill(0);
    this.delta.fill(0);
    this.lastStep.fill(0);
    this.damp.fill(1);
    this.radius.fill(START_RADIUS);
    this.sStep.fill(1);
    this.sLastResidual.fill(0);
  }

  /** Start from a previous call's waits (same topology): waits at packed[wFrom...], active flags at packed[activeFrom...]. */
  restore(packed: ArrayLike<number>, wFrom: number, activeFrom: number): void {
    this.reset();
    for (let i = 0; i < this.n; i++) {
      this.w[i] = packed[wFrom + i];
      this.active[i] = packed[activeFrom + i] ? 1 : 0;
      this.activeCount += this.active[i];
    }
  }

  /**
   * After fp.stations(): read each station's curve at the current rates,
   * let newly steep stations join (starting from the wait their load
   * implies), and make the fixed point use the state waits of the joined ones.
   */
  adopt(): void {
    const fp = this.fp;
    const { K, G, R, C } = fp.topo;
    for (let k = 0; k < K; k++) this.curve(k, fp.kLoad[k], fp.kEpisode[k], fp.popK[k], fp.kActRate[k]);
    for (let g = 0; g < G; g++) this.curve(this.oG + g, fp.groupLoad[g], fp.colService, fp.popG[g], fp.groupRate[g]);
    for (let r = 0; r < R; r++) this.curve(this.oA + r, fp.actLoad[r], fp.actService, fp.popR[r], fp.actRate[r]);
    for (let c = 0; c < C; c++) this.curve(this.oC + c, fp.busLoad[c], fp.busService[c], fp.popC[c], fp.busRate[c]);
    for (let r = 0; r < R; r++) {
      const i = this.oF + r;
      const on = fp.refreshDrain[r] > 0;
      this.load[i] = on ? Math.max(fp.actLoad[r], fp.busLoad[fp.topo.rChannel[r]]) : 0;
      if (!on && this.active[i]) this.leave(i);
    }
    // join: the most loaded candidates first, up to MAX_STATES
    while (this.activeCount < MAX_STATES) {
      let best = -1;
      for (let i = 0; i < this.n; i++) if (!this.active[i] && this.load[i] >= STIFF_LOAD && (best < 0 || this.load[i] > this.load[best])) best = i;
      if (best < 0) break;
      this.active[best] = 1;
      this.activeCount++;
      this.damp[best] = 1;
      this.radius[best] = START_RADIUS;
      this.lastStep[best] = 0;
      this.w[best] = this.directWait(best);
    }
    for (let i = 0; i < this.n; i++) {
      if (!this.active[i]) continue;
      const u = this.unit[i];
      switch (this.kind[i]) {
        case Kind.Bank:
          fp.kWait[u] = this.w[i] + fp.kWriteWait[u];
          break;
        case Kind.Group:
          fp.groupWait[u] = this.w[i];
          break;
        case Kind.Act:
          fp.actWait[u] = this.w[i];
          break;
        case Kind.Bus:
          fp.busWait[u] = this.w[i];
          break;
        default:
          fp.refreshWait[u] = fp.refreshBase + this.w[i];
      }
    }
  }

  private curve(i: number, load: number, svc: number, pop: number, arrivals: number): void {
    const on = arrivals > 0 && load > 0 && pop > 0;
    this.load[i] = on ? load : 0;
    this.svc[i] = svc;
    this.pop[i] = pop;
    if (!on && this.active[i]) this.leave(i);
  }

  private leave(i: number): void {
    this.active[i] = 0;
    this.activeCount--;
    this.w[i] = 0;
  }

  /** The wait the station's current load implies (what stations() computed; banks without the write-batch part). */
  private directWait(i: number): number {
    const fp = this.fp;
    const u = this.unit[i];
    switch (this.kind[i]) {
      case Kind.Bank:
        return fp.kWait[u] - fp.kWriteWait[u];
      case Kind.Group:
        return fp.groupWait[u];
      case Kind.Act:
        return fp.actWait[u];
      case Kind.Bus:
        return fp.busWait[u];
      default:
        return fp.refreshWait[u] - fp.refreshBase;
    }
  }

  /**
   * After fp.latenciesAndTargets(), near convergence: the distance solve()
   * would report, estimated with the previous round's Jacobian and stream
   * vectors (valid when that round took a small step with the same waits in
   * the system). Infinity when no estimate is available. Changes no state.
   */
  quickDistance(): number {
    if (!this.quickValid) return Infinity;
    const fp = this.fp;
    const m = this.m;
    let count = 0;
    for (let i = 0; i < this.n; i++) {
      if (!this.active[i]) continue;
      if (this.order[count] !== i) return Infinity;
      count++;
    }
    if (count !== m) return Infinity;
    if (m === 0) return 0;
    this.rowsNow();
    const { G, pStart, pB, pRow } = this;
    for (let q = 0; q < m; q++) {
      const i = this.order[q];
      G[q] = this.kind[i] === Kind.Refresh ? this.rU0[q] * this.rDiag[q] - this.rLoad[q] : (1 - this.rRes[q] * this.rU0[q]) / this.rKappa[q] - this.rLoad[q];
    }
    for (let s = 0; s < fp.S; s++) {
      const dx = (this.sStep[s] / (1 - fp.targetSlope[s] * fp.ownSlope[s])) * (fp.target[s] - fp.x[s]);
      for (let p = pStart[s]; p < pStart[s + 1]; p++) G[pRow[p]] += pB[p] * dx;
    }
    for (let q = 0; q < m; q++) {
      if (this.kind[this.order[q]] !== Kind.Refresh && G[q] < 0 && this.rU0[q] <= this.uLow(q) * (1 + 1e-12)) G[q] = 0;
      this.dNewton[q] = -G[q];
    }
    luSolve(this.Jq, this.pivotsQ, this.dNewton, m);
    const distance = this.latencyMove(this.dNewton);
    return Number.isFinite(distance) ? distance : Infinity;
  }

  /**
   * After fp.latenciesAndTargets(): solve the reduced balance of the active
   * waits and the streams' rates; the corrections are kept for apply().
   * Returns the largest relative correction of a wait.
   */
  solve(): number {
    const fp = this.fp;
    const { n, active, w } = this;
    let m = 0;
    for (let i = 0; i < n; i++) {
      if (active[i]) {
        this.row[i] = m;
        this.order[m++] = i;
      } else this.row[i] = -1;
    }
    this.m = m;
    this.streamFactors();
    this.delta.fill(0);
    this.quickValid = m === 0;
    if (m === 0) return 0;
    this.rowsNow();
    this.streamVectors();
    this.linearStep = false;
    // inner Newton iterations on the reduced system from du = 0, each step
    // halved until the balance improves (the streams' response is far from
    // linear over a large move of a wait)
    const { du, G, J, dNewton, duPrev, pivots } = this;
    du.fill(0, 0, m);
    let norm = this.reduced(true);
    luFactor(J, pivots, m);
    this.Jq.set(J.subarray(0, m * m));
    this.pivotsQ.set(pivots.subarray(0, m));
    // how far the first full Newton step would move the waits: the distance
    // to the fixed point that decides convergence
    let distance = 0;
    for (let it = 0; it < INNER_ITERATIONS && norm > 1e-12; it++) {
      for (let q = 0; q < m; q++) dNewton[q] = -G[q];
      luSolve(J, pivots, dNewton, m);
      if (it === 0) {
        distance = this.latencyMove(dNewton);
        if (this.relativeWaitStep(dNewton) < LINEAR_ENOUGH) {
          // close to the balance the linearisation holds: one full step
          for (let q = 0; q < m; q++) du[q] = Number.isFinite(dNewton[q]) ? dNewton[q] : 0;
          this.linearStep = true;
          this.quickValid = true;
          break;
        }
      }
      duPrev.set(du.subarray(0, m));
      let t = 1;
      let accepted = false;
      for (let back = 0; back < BACKTRACKS; back++) {
        for (let q = 0; q < m; q++) du[q] = duPrev[q] + t * (Number.isFinite(dNewton[q]) ? dNewton[q] : 0);
        // (the Jacobian at the trial point serves the next iteration if the trial is kept)
        const trial = this.reduced(true);
        if (trial < norm) {
          accepted = true;
          norm = trial;
          break;
        }
        t *= 0.5;
      }
      if (!accepted) break; // keep the smallest step tried
      if (t * this.relativeWaitStep(dNewton) < INNER_TOLERANCE || it === INNER_ITERATIONS - 1) break;
      luFactor(J, pivots, m);
    }
    // damped corrections inside each wait's trust region
    for (let q = 0; q < m; q++) {
      const i = this.order[q];
      let step = Number.isFinite(du[q]) ? du[q] : 0;
      if (step * this.lastStep[i] < 0) {
        this.damp[i] = Math.max(0.05, this.damp[i] * 0.5);
        this.radius[i] = Math.max(MIN_RADIUS, this.radius[i] * 0.5);
      } else {
        this.damp[i] = Math.min(1, this.damp[i] * 1.5);
        this.radius[i] = Math.min(MAX_RADIUS, this.radius[i] * 2);
      }
      this.lastStep[i] = step;
      step *= this.damp[i];
      const u0 = this.rU0[q];
      let next: number;
      if (this.kind[i] === Kind.Refresh) next = Math.min(this.rUpper[q], Math.max(0, u0 + step));
      else {
        const res = this.rRes[q];
        const rad = this.radius[i];
        const u = Math.min(1 / res, Math.max(1 / (res + this.rKappa[q] * this.rUpper[q]), Math.min(u0 * rad, Math.max(u0 / rad, u0 + step))));
        next = Math.min(this.rUpper[q], Math.max(0, (1 / u - res) / this.rKappa[q]));
      }
      this.delta[i] = Number.isFinite(next) ? next - w[i] : 0;
    }
    return Number.isFinite(distance) ? distance : Infinity;
  }

  /** Largest relative change of u (about 1 / latency through the wait) in du. */
  private relativeWaitStep(du: Float64Array): number {
    let largest = 0;
    for (let q = 0; q < this.m; q++) {
      const scale = this.kind[this.order[q]] === Kind.Refresh ? Math.max(this.rU0[q], 0.05 * this.rUpper[q]) : this.rU0[q];
      const rel = Math.abs(du[q]) / Math.max(scale, 1e-300);
      if (!(rel <= largest)) largest = rel;
    }
    return largest;
  }

  /** Smallest u of a queueing row (its wait at the population bound). */
  private uLow(q: number): number {
    return 1 / (this.rRes[q] + this.rKappa[q] * this.rUpper[q]);
  }

  /**
   * How much a correction du of the waits would change the streams'
   * latencies, relative (the largest): the distance to the fixed point in
   * terms of what the model answers.
   */
  private latencyMove(du: Float64Array): number {
    const fp = this.fp;
    const dw = this.dw;
    for (let q = 0; q < this.m; q++) {
      const i = this.order[q];
      const step = Number.isFinite(du[q]) ? du[q] : 0;
      let next: number;
      if (this.kind[i] === Kind.Refresh) next = Math.min(this.rUpper[q], Math.max(0, this.rU0[q] + step));
      else {
        const res = this.rRes[q];
        const u = Math.min(1 / res, Math.max(this.uLow(q), this.rU0[q] + step));
        next = (1 / u - res) / this.rKappa[q];
      }
      dw[q] = next - this.w[i];
    }
    const { pStart, pRow, pA } = this;
    let largest = 0;
    for (let s = 0; s < fp.S; s++) {
      let dl = 0;
      for (let p = pStart[s]; p < pStart[s + 1]; p++) dl += pA[p] * dw[pRow[p]];
      const rel = Math.abs(dl) / Math.max(fp.latency[s], 1);
      if (rel > largest) largest = rel;
    }
    return largest;
  }

  /** Per stream: the own-rate damping 1 / (1 - dT/dL dL/dx), and the step of open streams. */
  private streamFactors(): void {
    const fp = this.fp;
    for (let s = 0; s < fp.S; s++) {
      const d = fp.targetSlope[s];
      if (d === 0) {
        // an open stream's target is its rate scaled to the capacity of its
        // busiest station: damp its oscillations
        const residual = fp.target[s] - fp.x[s];
        if (residual * this.sLastResidual[s] < 0) this.sStep[s] = Math.max(0.05, this.sStep[s] * 0.5);
        else this.sStep[s] = Math.min(1, this.sStep[s] * 1.5);
        this.sLastResidual[s] = residual;
      }
      this.sDamp[s] = this.sStep[s] / (1 - d * fp.ownSlope[s]);
    }
  }

  /** Each row's curve at the current state. */
  private rowsNow(): void {
    const fp = this.fp;
    for (let q = 0; q < this.m; q++) {
      const i = this.order[q];
      const wi = this.w[i];
      if (this.kind[i] === Kind.Refresh) {
        const r = this.unit[i];
        this.rDiag[q] = fp.refreshDrain[r];
        this.rLoad[q] = fp.refreshC[r];
        this.rUpper[q] = fp.refreshC[r] / (0.1 * fp.rankRate[r]); // the drain never falls below a tenth of the rank's rate
        this.rU0[q] = wi;
        this.rScale[q] = 1 / Math.max(fp.refreshC[r], 1e-300);
      } else {
        const NS = this.pop[i] * this.svc[i];
        const res = this.svc[i] / 2;
        const kappa = 1 - res / NS;
        this.rRes[q] = res;
        this.rKappa[q] = kappa;
        this.rUpper[q] = NS;
        this.rDiag[q] = -res / kappa;
        this.rLoad[q] = this.load[i];
        this.rU0[q] = 1 / (res + kappa * Math.min(Math.max(wi, 0), NS));
        this.rScale[q] = 1;
      }
    }
  }

  /**
   * Per stream, over the rows it reaches: a = d latency / d wait (miss rate
   * and the run's wait for its row to open; the hit rate FR-FCFS gains when
   * the stream's next request waits), b = d (row balance) / d rate. Also the
   * rows' balance through the row hits alone (Dw).
   */
  private streamVectors(): void {
    const fp = this.fp;
    const topo = fp.topo;
    const { sStart, sCls, sW, invSet, kGroup, kRank, kChannel, kPerGroup, kPerRank, kPerChannel, K } = topo;
    const { m, row, av, bv, touched, Dw, w, slot } = this;
    const actService = fp.actService;
    const colService = fp.colService;
    const missPenalty = fp.p.t.tRP + fp.p.t.tRCD;
    Dw.fill(0, 0, m * m);
    if (this.pRow.length < fp.S * m) {
      this.pRow = new Int32Array(fp.S * m);
      this.pA = new Float64Array(fp.S * m);
      this.pB = new Float64Array(fp.S * m);
    }
    // per bank class: its rows and the coefficients that do not depend on the stream
    const { cRows, cCoef } = this;
    for (let k = 0; k < K; k++) {
      const r = kRank[k];
      const c = kChannel[k];
      const o = k * 5;
      cRows[o] = row[k];
      cRows[o + 1] = row[this.oG + kGroup[k]];
      cRows[o + 2] = row[this.oA + r];
      cRows[o + 3] = row[this.oC + c];
      const qF = (cRows[o + 4] = row[this.oF + r]);
      const f = k * COEFS;
      cCoef[f] = fp.kEpisode[k];
      cCoef[f + 1] = kPerGroup[k] * colService;
      cCoef[f + 2] = kPerRank[k] * actService; // activations per unit miss share
      cCoef[f + 3] = kPerChannel[k] * fp.busService[c];
      cCoef[f + 4] = missPenalty + fp.kWait[k] + fp.actWait[r]; // what a hit saves
      cCoef[f + 5] = -fp.kLoadPerHit[k];
      if (qF >= 0) {
        // refresh balance rho drain = c, per unit share: d/dx = rho d drain - d c
        const lr = fp.rankRate[r];
        const by = fp.refreshDrainBy[r];
        const rho = w[this.order[qF]];
        const cr = fp.refreshC[r];
        let drainConst: number;
        let drainMiss = 0;
        if (by === 0) drainConst = 0.1 * kPerRank[k];
        else if (by === 1) drainConst = -kPerChannel[k];
        else {
          const util = fp.actUtil[r];
          drainConst = kPerRank[k] * (1 / util - 1);
          if (fp.actLoad[r] < 0.98) drainMiss = -(lr / (util * util)) * kPerRank[k] * actService;
        }
        const dc = (fp.refreshBacklogFull[r] ? -cr / lr : cr / lr) * kPerRank[k];
        cCoef[f + 6] = rho * drainConst - dc;
        cCoef[f + 7] = rho * drainMiss;
      }
    }
    const { pRow, pA, pB } = this;
    let p = 0;
    for (let s = 0; s < fp.S; s++) {
      this.pStart[s] = p;
      const inv = invSet[s];
      // (identical streams it stands for move together: their loads count this many times)
      const copies = fp.count[s];
      const share = fp.x[s] * inv * copies;
      const open = fp.openSlope[s];
      let nt = 0;
      for (let j = sStart[s]; j < sStart[s + 1]; j++) {
        const k = sCls[j];
        const o = k * 5;
        const f = k * COEFS;
        const wj = sW[j];
        const miss = 1 - fp.hEff[j];
        const hs = fp.hSlope[j];
        const hitLat = -wj * hs * cCoef[f + 4];
        for (let t = 0; t < 5; t++) {
          const q = cRows[o + t];
          if (q < 0) continue;
          let z = slot[q];
          if (z < 0 || z >= nt || touched[z] !== q) {
            z = nt++;
            slot[q] = z;
            touched[z] = q;
            av[z] = 0;
            bv[z] = 0;
          }
          // av: d latency / d wait; bv: d (row balance) / d rate
          switch (t) {
            case 0: // bank
              av[z] += wj * (miss + open) + hitLat;
              bv[z] -= inv * miss * cCoef[f];
              break;
            case 1: // bank group
              av[z] += wj + hitLat;
              bv[z] -= inv * cCoef[f + 1];
              break;
            case 2: // activate window
              av[z] += wj * (miss + open);
              bv[z] -= inv * miss * cCoef[f + 2];
              break;
            case 3: // data bus
              av[z] += wj;
              bv[z] -= inv * cCoef[f + 3];
              break;
            default: // refresh
              av[z] += wj;
              bv[z] += inv * (cCoef[f + 6] + miss * cCoef[f + 7]);
          }
        }
        const qK = cRows[o];
        const qG = cRows[o + 1];
        if (hs > 0 && (qK >= 0 || qG >= 0)) {
          // more wait, more hits: fewer activations on the bank and in the rank
          const dHits = share * hs;
          const dBank = dHits * cCoef[f + 5];
          const dActs = dHits * cCoef[f + 2];
          const qA = cRows[o + 2];
          if (qK >= 0) {
            Dw[qK * m + qK] += dBank;
            if (qG >= 0) Dw[qK * m + qG] += dBank;
          }
          if (qA >= 0) {
            if (qK >= 0) Dw[qA * m + qK] += dActs;
            if (qG >= 0) Dw[qA * m + qG] += dActs;
          }
        }
      }
      for (let z = 0; z < nt; z++) {
        pRow[p] = touched[z];
        pA[p] = av[z];
        pB[p] = bv[z] * copies;
        p++;
      }
    }
    this.pStart[fp.S] = p;
  }

  /**
   * The reduced system at the trial correction du: G = balance of each row,
   * and (with jacobian) J = dG / du. Streams respond with their exact
   * closed-loop rate at the latency the trial waits imply.
   */
  private reduced(jacobian: boolean): number {
    const fp = this.fp;
    const { m, du, dw, dwdu, G, J, Dw, pStart, pRow, pA, pB, slope } = this;
    const aw = this.av; // scratch
    for (let q = 0; q < m; q++) {
      const i = this.order[q];
      const u0 = this.rU0[q];
      if (this.kind[i] === Kind.Refresh) {
        const wt = Math.min(this.rUpper[q], Math.max(0, u0 + du[q]));
        du[q] = wt - u0;
        dw[q] = wt - this.w[i];
        dwdu[q] = 1;
        G[q] = wt * this.rDiag[q] - this.rLoad[q];
      } else {
        const res = this.rRes[q];
        const kappa = this.rKappa[q];
        const u = Math.min(1 / res, Math.max(1 / (res + kappa * this.rUpper[q]), u0 + du[q]));
        du[q] = u - u0;
        dw[q] = (1 / u - res) / kappa - this.w[i];
        dwdu[q] = -1 / (kappa * u * u);
        G[q] = (1 - res * u) / kappa - this.rLoad[q];
      }
    }
    for (let q = 0; q < m; q++) for (let z = 0; z < m; z++) G[q] += Dw[q * m + z] * dw[z];
    if (jacobian) {
      for (let q = 0; q < m; q++) {
        for (let z = 0; z < m; z++) J[q * m + z] = Dw[q * m + z] * dwdu[z];
        J[q * m + q] += this.rDiag[q];
      }
    }
    const { x, lambda, latency, rf, m: outstanding, stallFactor, target, targetSlope } = fp;
    for (let s = 0; s < fp.S; s++) {
      const p0 = pStart[s];
      const p1 = pStart[s + 1];
      let tgt = target[s];
      let gain = targetSlope[s] * this.sDamp[s];
      if (gain !== 0 && p1 > p0) {
        let dl = 0;
        for (let p = p0; p < p1; p++) dl += pA[p] * dw[pRow[p]];
        if (dl !== 0) {
          const lam = lambda[s];
          const r = rf[s];
          tgt = lam * (1 - erlangBWithSlope(outstanding[s], lam * (r * (latency[s] + dl) + (1 - r)), slope)) * stallFactor[s];
          gain = -lam * stallFactor[s] * slope[0] * lam * r * this.sDamp[s];
        }
      }
      const dx = this.sDamp[s] * (tgt - x[s]);
      this.sDx[s] = dx;
      this.sGain[s] = gain;
      for (let p = p0; p < p1; p++) G[pRow[p]] += pB[p] * dx;
      if (jacobian && gain !== 0) {
        // J += gain b (a o dw/du)^T over the rows the stream reaches
        for (let p = p0; p < p1; p++) aw[p - p0] = pA[p] * dwdu[pRow[p]];
        for (let p = p0; p < p1; p++) {
          const f = pB[p] * gain;
          const base = pRow[p] * m;
          for (let p2 = p0; p2 < p1; p2++) J[base + pRow[p2]] += f * aw[p2 - p0];
        }
      }
    }
    // A wait at the population bound with its station loaded beyond
    // capacity is where the model puts it: that row is balanced and stays.
    for (let q = 0; q < m; q++) {
      if (this.kind[this.order[q]] === Kind.Refresh || G[q] >= 0 || this.rU0[q] + du[q] > this.uLow(q) * (1 + 1e-12)) continue;
      G[q] = 0;
      if (jacobian) {
        for (let z = 0; z < m; z++) J[q * m + z] = 0;
        J[q * m + q] = 1;
      }
    }
    // largest imbalance, each row in its own scale (load; refresh: relative to c)
    let norm = 0;
    for (let q = 0; q < m; q++) {
      const v = Math.abs(G[q]) * this.rScale[q];
      if (v > norm) norm = v;
    }
    return norm;
  }

  /** Move the active waits by the last solve's corrections, and every stream's rate to its closed loop's response at the new waits. */
  apply(): void {
    const fp = this.fp;
    const { delta, w, m } = this;
    if (m === 0) {
      for (let s = 0; s < fp.S; s++) fp.x[s] = clampRate(fp.x[s] + this.sDamp[s] * (fp.target[s] - fp.x[s]), fp.x[s], fp.lambda[s]);
      return;
    }
    const dw = this.dw;
    for (let q = 0; q < m; q++) dw[q] = delta[this.order[q]];
    if (this.linearStep) {
      // a small step: the streams' response is the linearised one
      const { pStart, pRow, pA } = this;
      const { target, x } = fp;
      for (let s = 0; s < fp.S; s++) {
        let dl = 0;
        for (let p = pStart[s]; p < pStart[s + 1]; p++) dl += pA[p] * dw[pRow[p]];
        const next = x[s] + this.sDamp[s] * (target[s] - x[s] + fp.targetSlope[s] * dl);
        x[s] = clampRate(next, x[s], fp.lambda[s]);
      }
    } else {
      // the streams' exact response at the applied corrections (du so that the waits land where solve() put them)
      for (let q = 0; q < m; q++) {
        const i = this.order[q];
        const wt = w[i] + delta[i];
        this.du[q] = this.kind[i] === Kind.Refresh ? wt - this.rU0[q] : 1 / (this.rRes[q] + this.rKappa[q] * wt) - this.rU0[q];
      }
      this.reduced(false);
      for (let s = 0; s < fp.S; s++) fp.x[s] = clampRate(fp.x[s] + this.sDx[s], fp.x[s], fp.lambda[s]);
    }
    for (let i = 0; i < this.n; i++) w[i] += delta[i];
  }
}

/** A rate within [0, lambda]; a non-finite one keeps the previous rate. */
function clampRate(next: number, previous: number, lambda: number): number {
  return Number.isFinite(next) ? Math.min(lambda, Math.max(0, next)) : previous;
}

/** LU factorisation with partial pivoting of A (m x m, row-major), in place; row swaps in piv. */
function luFactor(A: Float64Array, piv: Int32Array, m: number): void {
  for (let c = 0; c < m; c++) {
    let p = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(A[r * m + c]) > Math.abs(A[p * m + c])) p = r;
    piv[c] = p;
    if (p !== c) {
      for (let k = 0; k < m; k++) {
        const t = A[c * m + k];
        A[c * m + k] = A[p * m + k];
        A[p * m + k] = t;
      }
    }
    const d = A[c * m + c];
    if (d === 0) continue;
    for (let r = c + 1; r < m; r++) {
      const f = (A[r * m + c] /= d);
      if (f === 0) continue;
      for (let k = c + 1; k < m; k++) A[r * m + k] -= f * A[c * m + k];
    }
  }
}

/** Solve with the factors of luFactor; the solution overwrites b (a zero pivot leaves its unknown at 0). */
function luSolve(LU: Float64Array, piv: Int32Array, b: Float64Array, m: number): void {
  for (let c = 0; c < m; c++) {
    const p = piv[c];
    if (p !== c) {
      const t = b[c];
      b[c] = b[p];
      b[p] = t;
    }
  }
  for (let r = 1; r < m; r++) {
    let v = b[r];
    for (let k = 0; k < r; k++) v -= LU[r * m + k] * b[k];
    b[r] = v;
  }
  for (let r = m - 1; r >= 0; r--) {
    let v = b[r];
    for (let k = r + 1; k < m; k++) v -= LU[r * m + k] * b[k];
    const d = LU[r * m + r];
    b[r] = d !== 0 ? v / d : 0;
  }
}
