// Adapts a per-step model to the time-based Forecaster contract and gives every
// model the same upper bound: the p95 (or the configured quantile) of the
// model's OWN recent errors at that horizon. Errors are collected online: when
// a horizon is first asked for, the wrapper starts remembering the forecast it
// made for each step at that horizon, and scores it when the actual arrives.
// The quantile is tracked by stochastic gradient on the pinball loss (O(1) per
// step, forgets old errors at a rate set by the step size), with the step
// scaled by the running mean absolute error so it is unit-free.
import type { Forecaster, Prediction } from '../platform.js';
import type { StepModel } from './forecaster.js';

/** Sampling-interval estimate: follows the observed gaps, robust to the odd missing sample. */
export class StepClock {
  private lastTNs = NaN;
  stepNs = NaN;

  /** Record an observation time. */
  tick(tNs: number): void {
    if (Number.isFinite(this.lastTNs)) {
      const d = tNs - this.lastTNs;
      if (d > 0) {
        if (!Number.isFinite(this.stepNs)) this.stepNs = d;
        // Clamp each gap to [0.5, 2] x the estimate so a missing sample or a
        // burst moves the estimate only a little.
        else this.stepNs += 0.05 * (Math.min(Math.max(d, 0.5 * this.stepNs), 2 * this.stepNs) - this.stepNs);
      }
    }
    this.lastTNs = tNs;
  }

  /** A horizon in whole steps, at least 1. */
  steps(horizonNs: number): number {
    if (!Number.isFinite(this.stepNs) || this.stepNs <= 0) return 1;
    return Math.max(1, Math.round(horizonNs / this.stepNs));
  }
}

/** Online tracker of one horizon's forecast errors (actual - forecast). */
class HorizonErrors {
  /** Forecasts made in the last k steps, oldest first, as a ring. */
  private readonly pending: Float64Array;
  private head = 0;
  private filled = 0;
  /** Running mean absolute error and the tracked error quantile. */
  mae = NaN;
  quantile = NaN;
  count = 0;

  constructor(
    readonly k: number,
    private readonly q: number,
  ) {
    this.pending = new Float64Array(k);
  }

  /** Score the forecast made k steps ago against `actual`. */
  score(actual: number): void {
    if (this.filled < this.k) return;
    const e = actual - this.pending[this.head];
    if (!Number.isFinite(e)) return;
    const a = Math.abs(e);
    this.count++;
    // Faster averaging at the start, then a 1/100-step memory.
    const rate = Math.max(1 / this.count, 0.01);
    if (!Number.isFinite(this.mae)) {
      this.mae = a;
      this.quantile = a;
      return;
    }
    this.mae += rate * (a - this.mae);
    // Pinball-loss gradient step: moves up by q*s when the error is above, down by (1-q)*s when below.
    const s = Math.max(this.mae, 1e-12) * Math.max(rate * 5, 0.05);
    this.quantile += e > this.quantile ? this.q * s : -(1 - this.q) * s;
  }

  /** Remember the forecast just made for k steps ahead. */
  push(forecast: number): void {
    this.pending[this.head] = forecast;
    this.head = this.head + 1 === this.k ? 0 : this.head + 1;
    if (this.filled < this.k) this.filled++;
  }

  /** The forecast made for the step k ahead of now (the newest pushed). */
  latest(): number {
    return this.pending[(this.head + this.k - 1) % this.k];
  }
}

export class StepForecaster implements Forecaster {
  readonly clock = new StepClock();
  private readonly horizons = new Map<number, HorizonErrors>();
  private lastValue = NaN;
  private n = 0;
  /** Running mean absolute one-step change, the fallback spread before errors are known. */
  private meanAbsChange = 0;

  constructor(
    readonly name: string,
    readonly model: StepModel,
    private readonly upperQuantile = 0.95,
  ) {}

  update(tNs: number, value: number): void {
    if (!Number.isFinite(value)) return; // a lost sample: keep the state, wait for the next
    this.clock.tick(tNs);
    if (this.n > 0) this.meanAbsChange += (Math.abs(value - this.lastValue) - this.meanAbsChange) / Math.min(this.n, 100);
    this.n++;
    this.lastValue = value;
    for (const h of this.horizons.values()) h.score(value);
    this.model.observe(value, tNs / 1e9);
    for (const h of this.horizons.values()) h.push(this.model.forecast(h.k));
  }

  predict(horizonNs: number): Prediction {
    if (this.n === 0) return { mean: 0, upper: 0 };
    const k = this.clock.steps(horizonNs);
    let h = this.horizons.get(k);
    if (h === undefined) {
      h = new HorizonErrors(k, this.upperQuantile);
      this.horizons.set(k, h);
      this.model.track?.(k);
      h.push(this.model.forecast(k));
    }
    const mean = h.latest();
    // Until enough errors are seen, assume a random walk: spread grows like sqrt(k).
    const spread = h.count >= 20 ? h.quantile : 2 * this.meanAbsChange * Math.sqrt(k);
    return { mean, upper: mean + Math.max(spread, 0) };
  }

  /** Steps ahead that predictions have been asked for. */
  trackedHorizons(): number[] {
    return [...this.horizons.keys()];
  }
}
