// Cost of every forecaster per tick: one update + one predict, the work the
// policy engine does per task every control period. Measured on a synthetic
// series (level, daily-like cycle, noise, bursts, a level shift; drawn from
// util/rng.ts so every run sees the same data) after a warm-up, amortised over
// all ticks, so periodic work such as season detection is included.
import { createForecaster, FORECASTER_NAMES } from './forecaster.js';
import { rngFor } from '../../util/rng.js';

export interface BenchOptions {
  /** Ticks measured (after `warmup` unmeasured ones). */
  ticks: number;
  warmup: number;
  /** Horizon asked every tick, in steps. */
  horizonSteps: number;
  /** Control period, ns (the step of the synthetic series). */
  periodNs: number;
  models: readonly string[];
}

export const BENCH_DEFAULTS: BenchOptions = { ticks: 20_000, warmup: 2_000, horizonSteps: 5, periodNs: 10_000_000, models: FORECASTER_NAMES };

export function benchSeries(n: number, seed = 1): Float64Array {
  const rng = rngFor(seed, 'forecast/bench');
  const y = new Float64Array(n);
  let level = 40;
  for (let i = 0; i < n; i++) {
    if (i === Math.floor(n / 2)) level += 25; // a level shift half way
    const season = 10 * Math.sin((2 * Math.PI * i) / 144);
    const burst = rng.next() < 0.02 ? 30 * rng.next() : 0;
    y[i] = level + season + 3 * rng.normal() + burst;
  }
  return y;
}

export function benchForecasters(opts: Partial<BenchOptions> = {}): Record<string, { usPerPrediction: number }> {
  const o = { ...BENCH_DEFAULTS, ...opts };
  const y = benchSeries(o.warmup + o.ticks);
  const horizonNs = o.horizonSteps * o.periodNs;
  const out: Record<string, { usPerPrediction: number }> = {};
  let sink = 0;
  for (const name of o.models) {
    const f = createForecaster(name);
    for (let i = 0; i < o.warmup; i++) {
      f.update(i * o.periodNs, y[i]);
      sink += f.predict(horizonNs).mean;
    }
    const start = process.hrtime.bigint();
    for (let i = o.warmup; i < o.warmup + o.ticks; i++) {
      f.update(i * o.periodNs, y[i]);
      sink += f.predict(horizonNs).mean;
    }
    const ns = Number(process.hrtime.bigint() - start);
    out[name] = { usPerPrediction: Math.round((ns / o.ticks / 1000) * 1000) / 1000 };
  }
  // Keep the forecasts observable so no engine can skip the work.
  if (!Number.isFinite(sink)) out['(non-finite forecast)'] = { usPerPrediction: NaN };
  return out;
}
