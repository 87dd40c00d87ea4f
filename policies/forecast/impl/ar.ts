// AR(p) fitted online: recursive least squares with forgetting on the
// normalised series z = (y - centre) / scale, with an intercept. Multi-step
// forecasts iterate the fitted recursion. Starts as a random walk (weight 1 on
// the last value) so it is sensible from the first step.
import type { StepModel } from '../forecaster.js';
import { Rls } from '../rls.js';
import { RunningScale } from '../running-scale.js';

export interface ArOptions {
  order: number;
  /** RLS forgetting factor. */
  lambda: number;
}

export const AR_DEFAULTS: ArOptions = { order: 6, lambda: 0.998 };

export class ArModel implements StepModel {
  private readonly p: number;
  private readonly rls: Rls;
  private readonly norm = new RunningScale(1 / 2000);
  /** Last p raw values, newest at index 0. */
  private readonly hist: Float64Array;
  private seen = 0;
  private readonly x: Float64Array;
  private readonly work: Float64Array;

  constructor(opts: Partial<ArOptions> = {}) {
    const o = { ...AR_DEFAULTS, ...opts };
    if (!(Number.isInteger(o.order) && o.order >= 1)) throw new RangeError(`ar order must be a positive integer, got ${o.order}`);
    this.p = o.order;
    const w0 = new Float64Array(this.p + 1);
    w0[0] = 1;
    this.rls = new Rls(w0, { lambda: o.lambda, delta: 1, clip: 4, maxTrace: 1e4 });
    this.hist = new Float64Array(this.p);
    this.x = new Float64Array(this.p + 1);
    this.work = new Float64Array(this.p);
  }

  observe(value: number): void {
    this.norm.observe(value);
    if (this.seen >= this.p) {
      const c = this.norm.center;
      const s = this.norm.safeScale();
      for (let i = 0; i < this.p; i++) this.x[i] = (this.hist[i] - c) / s;
      this.x[this.p] = 1;
      this.rls.update(this.x, (value - c) / s);
    }
    for (let i = this.p - 1; i > 0; i--) this.hist[i] = this.hist[i - 1];
    this.hist[0] = value;
    this.seen++;
  }

  forecast(k: number): number {
    if (this.seen < this.p) return this.seen > 0 ? this.hist[0] : 0;
    const c = this.norm.center;
    const s = this.norm.safeScale();
    const w = this.rls.w;
    const z = this.work;
    for (let i = 0; i < this.p; i++) z[i] = (this.hist[i] - c) / s;
    let next = 0;
    for (let step = 0; step < k; step++) {
      next = w[this.p];
      for (let i = 0; i < this.p; i++) next += w[i] * z[i];
      for (let i = this.p - 1; i > 0; i--) z[i] = z[i - 1];
      z[0] = next;
    }
    return c + s * next;
  }

  /** Fitted AR coefficients on the normalised series (lag 1 first), then the intercept. */
  coefficients(): number[] {
    return Array.from(this.rls.w);
  }
}
