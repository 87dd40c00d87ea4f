// A shadow made of one online forecaster per demand dimension. For
// first-class work that is the blend (historical members: seasonal
// Holt–Winters, Prophet-style, the pre-trained LSTM; real-time members: naive,
// EWMA, median, AR), whose Hedge weights are per dimension, so a task whose
// request rate departs from its history shifts weight to real-time models for
// rps while, say, its occupancy forecast keeps trusting history. Second-class
// work gets a cheap model (EWMA by default): its forecasts only feed the
// interference predictor, and 60 blends per tick would not fit the budget.
//
// Echo results correct the forecast inside the echo's window (ground truth
// from a run-ahead burst): echo and forecast are fused by precision, the
// echo's error learned from how far past echoes were from what then
// happened, so a precise echo takes over and a noisy one only nudges.
import type { DemandKind, EchoResult, Forecaster, Prediction, TaskClass, TaskId } from '../../platform.js';
import { BLEND_MEMBERS, BlendForecaster, createForecaster, createStepModel } from '../../forecast/forecaster.js';
import { BlendModel } from '../../forecast/impl/blend.js';
import type { DemandObservation } from '../observation.js';
import { REALTIME_MEMBERS, type TaskShadow } from '../shadow.js';

export interface ForecastShadowOptions {
  /** A forecaster name (createForecaster), or 'blend-equal': all blend members with fixed equal weights. */
  forecaster: string;
  kinds: readonly DemandKind[];
  /** Dimensions forecast by `auxiliaryForecaster` instead (cheap ones for inputs that only shape the profile). */
  auxiliaryKinds?: readonly DemandKind[];
  auxiliaryForecaster?: string;
  upperQuantile: number;
  lstmWeightsPath?: string;
}

/** Relative error assumed for a dimension's echoes until some have been checked against what happened: echoes earn trust by being right. */
export const ECHO_PRIOR_REL_ERR = 0.5;

interface EchoWindow {
  value: number;
  fromNs: number;
  untilNs: number;
  sum: number;
  n: number;
}

export function buildForecaster(name: string, upperQuantile: number, lstmWeightsPath?: string): Forecaster {
  const opts = { upperQuantile, lstmWeightsPath };
  if (name === 'blend-equal') {
    // eta = 0: exp(0) = 1 for every member, so the weights stay exactly uniform
    const members = BLEND_MEMBERS.map((m) => ({ name: m, model: createStepModel(m, opts) }));
    return new BlendForecaster(new BlendModel(members, { eta: 0, share: 0 }), upperQuantile);
  }
  return createForecaster(name, opts);
}

export class ForecastShadow implements TaskShadow {
  private readonly forecasters = new Map<DemandKind, Forecaster>();
  private readonly lastValue = new Map<DemandKind, number>();
  private readonly echo = new Map<DemandKind, EchoWindow>();
  private lastTimeNs = 0;
  private echoApplied = 0;
  /** Per dimension: running mean |echo - realised| / realised (an echo may measure one dimension well and another badly). */
  private readonly echoRelErr = new Map<DemandKind, { err: number; n: number }>();

  constructor(
    readonly task: TaskId,
    readonly taskClass: TaskClass,
    private readonly o: ForecastShadowOptions,
  ) {}

  observe(obs: DemandObservation): void {
    this.lastTimeNs = obs.timeNs;
    for (const kind of this.o.kinds) {
      const v = obs.values[kind];
      if (v === undefined || !Number.isFinite(v)) continue;
      let f = this.forecasters.get(kind);
      if (!f) {
        // a dimension that has only ever been zero (no IO, no misses) needs no model yet
        if (v === 0) {
          this.lastValue.set(kind, 0);
          continue;
        }
        const aux = this.o.auxiliaryKinds?.includes(kind) && this.o.auxiliaryForecaster;
        f = buildForecaster(aux || this.o.forecaster, this.o.upperQuantile, this.o.lstmWeightsPath);
        this.forecasters.set(kind, f);
      }
      f.update(obs.timeNs, v);
      this.lastValue.set(kind, v);
      this.scoreEcho(kind, v, obs.timeNs);
    }
  }

  /** Compare a past echo with what then happened (its window's mean), once the window is over. */
  private scoreEcho(kind: DemandKind, v: number, t: number): void {
    const e = this.echo.get(kind);
    if (!e) return;
    if (t > e.fromNs && t <= e.untilNs) {
      e.sum += v;
      e.n++;
    }
    if (t >= e.untilNs) {
      if (e.n > 0) {
        const realised = e.sum / e.n;
        const err = Math.abs(e.value - realised) / Math.max(Math.abs(realised), 1e-9);
        const s = this.echoRelErr.get(kind) ?? { err: ECHO_PRIOR_REL_ERR, n: 0 };
        s.n++;
        s.err += (Math.min(err, 2) - s.err) / Math.min(s.n + 1, 20);
        this.echoRelErr.set(kind, s);
      }
      this.echo.delete(kind);
    }
  }

  applyEcho(echo: EchoResult): void {
    this.echoApplied++;
    for (const [k, v] of Object.entries(echo.measured) as [DemandKind, number][]) {
      if (v === undefined || !Number.isFinite(v)) continue;
      this.echo.set(k, { value: v, fromNs: echo.requestedAtNs, untilNs: echo.requestedAtNs + echo.durationNs, sum: 0, n: 0 });
    }
  }

  predict(kind: DemandKind, horizonNs: number): Prediction | undefined {
    const f = this.forecasters.get(kind);
    const at = this.lastTimeNs + horizonNs;
    const e = this.echo.get(kind);
    if (e && at > e.fromNs && at <= e.untilNs) {
      // Fuse the echo with the forecast by precision (inverse-variance weighting): the forecast's
      // variance from its own upper quantile, the echo's from how far past echoes were from what
      // then happened. A precise echo takes over the level; a noisy one only nudges it.
      const base = f?.predict(horizonNs);
      const z = 1.645; // the upper bound is a p95
      const varE = Math.max(e.value * (this.echoRelErr.get(kind)?.err ?? ECHO_PRIOR_REL_ERR), 1e-9) ** 2;
      if (!base) return { mean: e.value, upper: e.value + z * Math.sqrt(varE) };
      const varF = Math.max((base.upper - base.mean) / z, 1e-9) ** 2;
      const mean = (base.mean / varF + e.value / varE) / (1 / varF + 1 / varE);
      const sd = Math.sqrt(1 / (1 / varF + 1 / varE));
      return { mean: Math.max(0, mean), upper: Math.max(0, mean + z * sd) };
    }
    if (!f) return this.lastValue.has(kind) ? { mean: 0, upper: 0 } : undefined;
    const p = f.predict(horizonNs);
    // demand is never negative
    return { mean: Math.max(0, p.mean), upper: Math.max(0, p.upper, p.mean) };
  }

  last(kind: DemandKind): number | undefined {
    return this.lastValue.get(kind);
  }

  weights(kind: DemandKind, horizonNs?: number): Record<string, number> | undefined {
    const f = this.forecasters.get(kind);
    if (!(f instanceof BlendForecaster)) return undefined;
    return horizonNs === undefined ? f.weights() : f.blend.weightsAt(f.clock.steps(horizonNs));
  }

  realtimeWeight(kind: DemandKind, horizonNs?: number): number | undefined {
    const w = this.weights(kind, horizonNs);
    if (!w) return undefined;
    let s = 0;
    for (const m of REALTIME_MEMBERS) s += w[m] ?? 0;
    return s;
  }

  uncertainty(kind: DemandKind, horizonNs: number): number {
    const p = this.predict(kind, horizonNs);
    if (!p) return 0;
    const scale = Math.max(Math.abs(p.mean), Math.abs(this.lastValue.get(kind) ?? 0), 1e-9);
    return (p.upper - p.mean) / scale;
  }

  echoStats(): { applied: number; meanAbsRelError: number } {
    let sum = 0;
    let n = 0;
    for (const s of this.echoRelErr.values()) {
      sum += s.err;
      n++;
    }
    return { applied: this.echoApplied, meanAbsRelError: n ? sum / n : ECHO_PRIOR_REL_ERR };
  }
}
