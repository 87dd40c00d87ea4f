// Demand -> units, per resource, for one first-class task. Inputs are the
// shadow's predictions (upper quantile: the safety margin) and what the task
// showed lately (cost per request, latency). One instance per task keeps the
// online estimates (cost per request, latency-model calibration).
//
//  cores        request-serving tasks: M/M/c model (latency-model.ts) at the
//               predicted request rate, calibrated online, aiming at
//               p99 <= SLO x (1 - targetSlack); otherwise predicted CPU /
//               utilisationTarget. Never below the mean predicted CPU in use.
//               Feedback on measured slack corrects the model: one core more
//               than in use while the SLO is missed, never fewer than in use
//               while slack is under targetSlack.
//  cacheWays    feedback on latency within [minimum, predicted occupancy + 1]
//               (an LRU cache fills whatever it gets, so occupancy is no
//               demand signal; see ways()).
//  bankColours  colours in proportion to the predicted share of peak DRAM
//               bandwidth, times colourHeadroom (bank-level parallelism).
//  memBandwidthPct predicted share of peak bandwidth x bandwidthHeadroom, on the MBA step.
//  ioWeight     between the default and the maximum weight by the task's
//               predicted share of all IO.
import type { Capabilities, Prediction } from '../platform.js';
import type { DemandObservation } from '../shadow/observation.js';
import { coresForLatency, mmcP99Ns } from './latency-model.js';

export interface SizingOptions {
  /** Aim for p99 <= SLO x (1 - targetSlack). */
  targetSlack: number;
  /** For tasks without a latency signal: plan for this CPU utilisation of the cores held. */
  utilisationTarget: number;
  /** p99 of the service time alone, in mean service times, before calibration. */
  serviceTailFactor: number;
  bandwidthHeadroom: number;
  colourHeadroom: number;
  /** Windows with fewer requests than this do not update the latency calibration. */
  minRequests: number;
}

export const SIZING_DEFAULTS: SizingOptions = {
  targetSlack: 0.1,
  utilisationTarget: 0.8,
  serviceTailFactor: 3,
  bandwidthHeadroom: 1.25,
  colourHeadroom: 2,
  minRequests: 20,
};

export interface CoreDemandInput {
  rps?: Prediction;
  cpu?: Prediction;
  maxCores: number;
  activeCores: number;
}

export class FirstClassSizer {
  /** Core-seconds per request (EWMA). */
  costPerRequestSec: number | undefined;
  /** log of (observed p99 / modelled p99), EWMA. */
  logCalibration = 0;
  sloP99Ns: number | undefined;
  lastP99Ns: number | undefined;
  private lastSlack: number | undefined;
  private calibrations = 0;

  constructor(
    private readonly caps: Capabilities,
    private readonly o: SizingOptions,
  ) {}

  observe(obs: DemandObservation): void {
    if (obs.costPerRequestCoreSec !== undefined && Number.isFinite(obs.costPerRequestCoreSec)) {
      const c = obs.costPerRequestCoreSec;
      this.costPerRequestSec = this.costPerRequestSec === undefined ? c : this.costPerRequestSec + 0.2 * (c - this.costPerRequestSec);
    }
    const lat = obs.latency;
    if (!lat) return;
    this.sloP99Ns = lat.sloP99Ns;
    if (lat.requests >= this.o.minRequests && Number.isFinite(lat.p99Ns)) {
      this.lastP99Ns = lat.p99Ns;
      this.lastSlack = (lat.sloP99Ns - lat.p99Ns) / lat.sloP99Ns;
      const S = this.costPerRequestSec;
      const lambda = lat.offeredRps;
      const c = obs.allocatedCores;
      if (S !== undefined && S > 0 && c > 0 && lambda > 0 && (lambda * S) / c < 0.95) {
        const model = mmcP99Ns(c, lambda, S, this.o.serviceTailFactor);
        if (Number.isFinite(model) && model > 0 && lat.p99Ns > 0) {
          const r = Math.max(-1.5, Math.min(1.5, Math.log(lat.p99Ns / model)));
          this.calibrations++;
          this.logCalibration += (r - this.logCalibration) / Math.min(this.calibrations, 4);
        }
      }
    } else if (lat.requests > 0 && !Number.isFinite(lat.p99Ns)) {
      this.lastSlack = -1; // rejected requests count as infinitely late
    }
  }

  /** Latest observed SLO slack, (SLO - p99) / SLO; undefined before enough requests. */
  slack(): number | undefined {
    return this.lastSlack;
  }

  calibration(): number {
    return Math.exp(this.logCalibration);
  }

  cores(inp: CoreDemandInput): number {
    const max = Math.max(1, inp.maxCores);
    // the cores it keeps busy on average: a floor (the queueing model carries the margin, through the rate's upper bound)
    const cpuNeed = inp.cpu ? Math.ceil(Math.max(0, inp.cpu.mean) - 1e-9) : 0;
    let c: number;
    const S = this.costPerRequestSec;
    if (inp.rps && S !== undefined && S > 0 && this.sloP99Ns !== undefined) {
      const target = this.sloP99Ns * (1 - this.o.targetSlack);
      c = coresForLatency(Math.max(0, inp.rps.upper), S, target, this.calibration(), this.o.serviceTailFactor, max);
      c = Math.max(c, cpuNeed);
    } else {
      c = inp.cpu ? Math.ceil(Math.max(0, inp.cpu.upper) / this.o.utilisationTarget - 1e-9) : 1;
    }
    // feedback on top of the feed-forward model (PARTIES-style thresholds on measured slack):
    // missing the SLO now means the model is behind: one more core than in use;
    // inside the target margin: never fewer than in use (no release while latency is tight)
    const slack = this.lastSlack;
    if (slack !== undefined && slack < 0) c = Math.max(c, inp.activeCores + 1);
    else if (slack !== undefined && slack < this.o.targetSlack) c = Math.max(c, inp.activeCores);
    return Math.min(max, Math.max(1, c));
  }

  /**
   * The largest further slowdown (cost-per-request inflation beyond what the
   * measured cost already includes) the task can absorb on `cores` at the
   * predicted request rate and still meet its SLO, by the calibrated
   * queueing model; `fallback` without a latency model. The SLO itself, not
   * the sizing target: the target's margin is there for forecast error. 1
   * when even no slowdown meets it (every bit of interference hurts), capped
   * at 4.
   */
  tolerableSlowdown(cores: number, rps: Prediction | undefined, fallback: number): number {
    const S = this.costPerRequestSec;
    if (!rps || S === undefined || S <= 0 || this.sloP99Ns === undefined || cores <= 0) return fallback;
    const target = this.sloP99Ns;
    const ok = (s: number) => this.calibration() * mmcP99Ns(cores, Math.max(0, rps.upper), S * s, this.o.serviceTailFactor) <= target;
    if (!ok(1)) return 1;
    if (ok(4)) return 4;
    let lo = 1;
    let hi = 4;
    for (let i = 0; i < 20; i++) {
      const mid = (lo + hi) / 2;
      if (ok(mid)) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  /** Ways the feedback controller currently aims at (undefined until first sized). */
  waysTarget: number | undefined;
  private waysChangedNs = -Infinity;

  /**
   * LLC ways. An LRU cache fills whatever it is given, so occupancy is an
   * upper bound on what a task can use, not a demand: the ways are sized by
   * feedback on latency (PARTIES-style), within [minimum, occupancy + 1]:
   * start at the smaller of the occupancy and a fair share of the LLC
   * (total / (first-class tasks + 1)); one way more while the task misses and
   * its latency is inside the target margin; one way less, at most once per
   * `probeNs`, while its slack is comfortable (above 2 x targetSlack), so
   * ways that do not show up in latency go back to second-class work.
   */
  ways(nowNs: number, occupancy: Prediction | undefined, firstClassTasks: number, missRatio: number | undefined, probeNs: number): number {
    const w = this.caps.cacheWays;
    if (!w) return 0;
    const min = w.minWaysPerMask;
    const fair = Math.max(min, Math.floor(w.totalWays / (firstClassTasks + 1)));
    const occWays = occupancy ? Math.ceil(Math.max(0, occupancy.upper) / w.wayBytes - 1e-9) : fair;
    if (this.waysTarget === undefined) this.waysTarget = Math.max(min, Math.min(occWays, fair));
    const slack = this.lastSlack;
    if (slack !== undefined && slack < this.o.targetSlack && (missRatio ?? 0) > 0.01) {
      if (nowNs - this.waysChangedNs >= probeNs / 4) {
        this.waysTarget++;
        this.waysChangedNs = nowNs;
      }
    } else if (slack !== undefined && slack > 2 * this.o.targetSlack && nowNs - this.waysChangedNs >= probeNs) {
      this.waysTarget = Math.max(min, this.waysTarget - 1);
      this.waysChangedNs = nowNs;
    }
    this.waysTarget = Math.max(min, Math.min(this.waysTarget, occWays + 1, w.totalWays));
    return this.waysTarget;
  }

  colours(memBw: Prediction | undefined, fallbackShare: number, floor: number): number {
    const bc = this.caps.bankColours;
    if (!bc) return 0;
    const peak = this.caps.memBandwidth?.peakBytesPerSec;
    const share = memBw && peak ? Math.max(0, memBw.upper) / peak : fallbackShare;
    return Math.max(floor, Math.ceil(bc.count * share * this.o.colourHeadroom - 1e-9));
  }

  memBandwidthPct(memBw: Prediction | undefined): number {
    const mb = this.caps.memBandwidth;
    if (!mb || !memBw) return 0;
    const pct = (100 * Math.max(0, memBw.upper) * this.o.bandwidthHeadroom) / mb.peakBytesPerSec;
    if (pct <= 0) return 0;
    return Math.min(100, Math.ceil(pct / mb.stepPct - 1e-9) * mb.stepPct);
  }

  ioWeight(io: Prediction | undefined, othersIoPerSec: number): number {
    const iw = this.caps.ioWeight;
    if (!iw || !io || io.upper <= 0) return 0;
    const share = io.upper / (io.upper + Math.max(0, othersIoPerSec));
    return Math.round(Math.min(iw.max, Math.max(iw.default, iw.default + (iw.max - iw.default) * share)));
  }
}
