// Prophet-style decomposition, fitted online: y = trend + seasonalities, with a
// linear trend and Fourier series for each seasonality (Taylor & Letham 2018),
// but estimated by two robust recursive least-squares fits with forgetting
// instead of a batch Stan fit, updated alternately (one backfitting pass per
// step): the seasonal Fourier terms on y - trend with a long memory
// (`lambda`), the trend on y - seasonality with a short one (`trendLambda`).
// The short memory makes the trend piecewise-linear in effect (it bends where
// the data bend, as Prophet's changepoints do), and clipped residuals make
// both fits robust to bursts. Seasonalities: daily and weekly on
// the wall clock (only when the sampling step makes them meaningful: between
// 8 and 20000 steps per period) and the period found online by the season
// detector (fractional periods allowed), unless it duplicates a calendar one.
import type { StepModel } from '../forecaster.js';
import { Rls } from '../rls.js';
import { RunningScale } from '../running-scale.js';
import { SeasonDetector } from '../season-detector.js';

export interface ProphetOptions {
  /** Forgetting factor of the seasonal fit; memory ~ 1/(1 - lambda) steps. */
  lambda: number;
  /** Forgetting factor of the trend fit. */
  trendLambda: number;
  dailyOrder: number;
  weeklyOrder: number;
  detectedOrder: number;
  /** Season length in steps: > 1 fixed, 0 = none, undefined = detect online. */
  seasonSteps?: number;
}

export const PROPHET_DEFAULTS: ProphetOptions = { lambda: 0.9995, trendLambda: 0.95, dailyOrder: 3, weeklyOrder: 2, detectedOrder: 3 };

const DAY_S = 86_400;
const WEEK_S = 7 * DAY_S;

export class ProphetModel implements StepModel {
  private readonly o: ProphetOptions;
  /** Fourier coefficients of all seasonalities. */
  private readonly seasonal: Rls;
  /** Local linear trend: [intercept, slope] on tau. */
  private readonly trend: Rls;
  private readonly norm = new RunningScale(1 / 5000);
  private readonly detector: SeasonDetector | null;
  private readonly trendMemory: number;
  /** Feature layout of the seasonal fit: [daily..., weekly..., detected...]. */
  private readonly weeklyAt: number;
  private readonly detectedAt: number;
  private readonly xs: Float64Array;
  private readonly xt = new Float64Array(2);
  private periodSteps = 0;
  /** Phase (radians) of the detected seasonality at the last observation; advanced step by step so a small change of period does not make the phase jump. */
  private phase = 0;
  private idx = 0;
  /** Step index at which tau = 0. */
  private origin = 0;
  private lastTSec = NaN;
  private stepSec = NaN;

  constructor(opts: Partial<ProphetOptions> = {}) {
    this.o = { ...PROPHET_DEFAULTS, ...opts };
    const given = this.o.seasonSteps;
    if (given !== undefined && !(given === 0 || given > 1)) throw new RangeError(`prophet season length must be 0 or > 1, got ${given}`);
    this.detector = given === undefined ? new SeasonDetector() : null;
    if (given !== undefined) this.periodSteps = given;
    this.weeklyAt = 2 * this.o.dailyOrder;
    this.detectedAt = this.weeklyAt + 2 * this.o.weeklyOrder;
    const d = this.detectedAt + 2 * this.o.detectedOrder;
    this.trendMemory = 1 / (1 - this.o.trendLambda);
    this.seasonal = new Rls(new Float64Array(d), { lambda: this.o.lambda, delta: 1, clip: 3, maxTrace: 1e4 });
    this.trend = new Rls(new Float64Array(2), { lambda: this.o.trendLambda, delta: 100, clip: 3, maxTrace: 1e6 });
    this.xs = new Float64Array(d);
  }

  /** Period in steps of the detected (or given) seasonality, 0 = none. */
  detectedPeriod(): number {
    return this.periodSteps;
  }

  observe(value: number, tSec: number): void {
    if (Number.isFinite(this.lastTSec) && tSec > this.lastTSec) {
      const d = tSec - this.lastTSec;
      this.stepSec = Number.isFinite(this.stepSec) ? this.stepSec + 0.05 * (Math.min(Math.max(d, 0.5 * this.stepSec), 2 * this.stepSec) - this.stepSec) : d;
    }
    this.lastTSec = tSec;
    if (this.detector) {
      this.detector.observe(value);
      const p = this.usefulPeriod(this.detector.period);
      const change = Math.abs(p - this.periodSteps) / Math.max(p, this.periodSteps, 1);
      // A drift of the period (a few %) keeps what was learnt; a new season starts afresh.
      if (change > 0.1 || (change > 0 && (p === 0 || this.periodSteps === 0))) this.seasonal.resetCoordinates(this.detectedAt, this.xs.length);
      if (change > 0) this.periodSteps = p;
    }
    this.norm.observe(value);
    this.idx++;
    // Keep tau within about one trend memory of 0 (conditioning).
    if (this.idx - this.origin >= this.trendMemory) {
      this.trend.shiftOrigin(0, 1, 1);
      this.origin += this.trendMemory;
    }
    const z = (value - this.norm.center) / this.norm.safeScale();
    if (this.periodSteps > 1) this.phase = (this.phase + (2 * Math.PI) / this.periodSteps) % (2 * Math.PI);
    this.features(0, tSec);
    // One backfitting pass: seasonality on the detrended value, then the trend on the deseasonalised one.
    this.seasonal.update(this.xs, z - this.trend.predict(this.xt));
    this.trend.update(this.xt, z - this.seasonal.predict(this.xs));
  }

  forecast(k: number): number {
    if (this.idx === 0) return 0;
    const stepSec = Number.isFinite(this.stepSec) ? this.stepSec : 0;
    this.features(k, this.lastTSec + k * stepSec);
    const z = this.trend.predict(this.xt) + this.seasonal.predict(this.xs);
    return this.norm.center + this.norm.safeScale() * z;
  }

  private usefulPeriod(p: number): number {
    if (p <= 1) return 0;
    const s = this.stepSec;
    if (Number.isFinite(s) && s > 0) {
      // A detected period that is the daily or weekly cycle is covered by the calendar terms.
      for (const cal of [DAY_S, WEEK_S]) if (this.calendarActive(cal) && Math.abs(p * s - cal) < 0.03 * cal) return 0;
    }
    return p;
  }

  private calendarActive(periodSec: number): boolean {
    const s = this.stepSec;
    if (!(s > 0)) return false;
    const steps = periodSec / s;
    return steps >= 8 && steps <= 20_000;
  }

  /** Features `ahead` steps after the last observation (0 = at it). */
  private features(ahead: number, tSec: number): void {
    this.xt[0] = 1;
    this.xt[1] = (this.idx - 1 + ahead - this.origin) / this.trendMemory;
    const x = this.xs;
    fourier(x, 0, this.o.dailyOrder, this.calendarActive(DAY_S) ? (2 * Math.PI * tSec) / DAY_S : NaN);
    fourier(x, this.weeklyAt, this.o.weeklyOrder, this.calendarActive(WEEK_S) ? (2 * Math.PI * tSec) / WEEK_S : NaN);
    fourier(x, this.detectedAt, this.o.detectedOrder, this.periodSteps > 1 ? this.phase + (2 * Math.PI * ahead) / this.periodSteps : NaN);
  }
}

/** sin/cos of the first `order` harmonics of `angle` into x[at...]; zeros when angle is NaN (term inactive). */
function fourier(x: Float64Array, at: number, order: number, angle: number): void {
  if (Number.isNaN(angle)) {
    for (let i = 0; i < 2 * order; i++) x[at + i] = 0;
    return;
  }
  const s1 = Math.sin(angle);
  const c1 = Math.cos(angle);
  let s = s1;
  let c = c1;
  for (let j = 0; j < order; j++) {
    x[at + 2 * j] = s;
    x[at + 2 * j + 1] = c;
    // angle addition: harmonic j+2 from j+1
    const sn = s * c1 + c * s1;
    c = c * c1 - s * s1;
    s = sn;
  }
}
