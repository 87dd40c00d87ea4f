// Rolling-origin evaluation, the protocol of shared/traces/R_BASELINE.md so
// figures compare with R's `forecast` package: the training part is the first
// floor((1 - holdout) n) points; every hold-out origin o (o = number of points
// seen, o = nTrain .. n - H) forecasts from all data up to it and only the H-th
// step, y[o + H - 1] (0-based), is scored. Origins whose H-th step would fall
// past the end are not scored, so n scored = n - H + 1 - nTrain.
// MASE = MAE / in-sample MAE of the one-step naive forecast on the training
// part; sMAPE = mean(200 |F - A| / (|F| + |A|)), 0/0 counted as 0.
import type { Forecaster } from '../platform.js';

export interface Series {
  t: Float64Array;
  values: Float64Array;
  stepSeconds: number;
}

export interface EvalResult {
  model: string;
  horizon: number;
  /** Number of scored forecasts. */
  n: number;
  smape: number;
  /** null when the training part has no change at all (MASE undefined). */
  mase: number | null;
  /** Wall time of update + predict per hold-out step, microseconds. */
  usPerPrediction: number;
}

export function trainLength(n: number, holdout: number): number {
  return Math.floor((1 - holdout) * n);
}

/** Smallest series the protocol can score at this horizon: 2 training points and one scored origin. */
export function checkSeriesLength(n: number, horizon: number, holdout: number): string | null {
  const nTrain = trainLength(n, holdout);
  if (nTrain < 2) return `series has ${n} points: the training part (first ${nTrain}) needs at least 2`;
  if (n - nTrain < horizon) return `series has ${n} points: the hold-out (last ${n - nTrain}) is shorter than the horizon ${horizon}`;
  return null;
}

export function naiveScale(values: Float64Array, nTrain: number): number {
  let s = 0;
  for (let i = 1; i < nTrain; i++) s += Math.abs(values[i] - values[i - 1]);
  return s / (nTrain - 1);
}

export function rollingOrigin(series: Series, forecaster: Forecaster, horizon: number, holdout = 0.2): EvalResult {
  const { t, values } = series;
  const n = values.length;
  const problem = checkSeriesLength(n, horizon, holdout);
  if (problem) throw new RangeError(problem);
  const nTrain = trainLength(n, holdout);
  const horizonNs = horizon * series.stepSeconds * 1e9;
  // Warm up on the training part. predict() is asked every step, as the
  // policy engine does each tick, so per-horizon learning starts at once.
  for (let i = 0; i < nTrain - 1; i++) {
    forecaster.update(t[i] * 1e9, values[i]);
    forecaster.predict(horizonNs);
  }
  const last = n - horizon; // last origin (count of points seen)
  const forecasts = new Float64Array(last - nTrain + 1);
  const start = process.hrtime.bigint();
  for (let o = nTrain; o <= n; o++) {
    forecaster.update(t[o - 1] * 1e9, values[o - 1]);
    const p = forecaster.predict(horizonNs);
    if (o <= last) forecasts[o - nTrain] = p.mean;
  }
  const ns = Number(process.hrtime.bigint() - start);
  let absErr = 0;
  let smape = 0;
  for (let o = nTrain; o <= last; o++) {
    const f = forecasts[o - nTrain];
    const a = values[o + horizon - 1];
    absErr += Math.abs(f - a);
    const den = Math.abs(f) + Math.abs(a);
    smape += den === 0 ? 0 : (200 * Math.abs(f - a)) / den;
  }
  const m = last - nTrain + 1;
  const scale = naiveScale(values, nTrain);
  return {
    model: forecaster.name,
    horizon,
    n: m,
    smape: smape / m,
    mase: scale > 0 ? absErr / m / scale : null,
    usPerPrediction: ns / 1000 / (n - nTrain + 1),
  };
}
