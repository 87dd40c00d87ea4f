// Recursive least squares with exponential forgetting: the online regression
// under AR(p), the Prophet-style trend + Fourier fit and the LSTM's output
// layer. O(d^2) per update on Float64Arrays, no allocation per step.
//
// Two guards keep it sane on real series: the residual used for the update is
// clipped at `clip` times a running mean absolute residual (a Huber-style
// robust fit, so one spike cannot throw the coefficients; a lasting shift
// raises the running scale and is then followed), and forgetting is
// suspended while the covariance trace is above `maxTrace` (otherwise a flat
// stretch, which excites no direction, lets P grow without bound: "windup").
export interface RlsOptions {
  /** Forgetting factor in (0, 1]; effective memory about 1 / (1 - lambda) updates. */
  lambda: number;
  /** Initial P = delta * I: large = weak prior on the initial weights. */
  delta: number;
  /** Clip residuals at this many running mean absolute residuals (Infinity = plain least squares). */
  clip: number;
  /** Upper bound on trace(P) above which forgetting pauses. */
  maxTrace: number;
}

export class Rls {
  readonly d: number;
  readonly w: Float64Array;
  private readonly P: Float64Array;
  private readonly Px: Float64Array;
  private meanAbsResidual = NaN;
  private updates = 0;

  constructor(
    initialWeights: ArrayLike<number>,
    private readonly opts: RlsOptions,
  ) {
    this.d = initialWeights.length;
    this.w = Float64Array.from(initialWeights);
    this.P = new Float64Array(this.d * this.d);
    for (let i = 0; i < this.d; i++) this.P[i * this.d + i] = opts.delta;
    this.Px = new Float64Array(this.d);
  }

  predict(x: ArrayLike<number>): number {
    let s = 0;
    for (let i = 0; i < this.d; i++) s += this.w[i] * x[i];
    return s;
  }

  /** One update toward target y for regressor x. Returns the (unclipped) prior residual. */
  update(x: ArrayLike<number>, y: number): number {
    const d = this.d;
    const P = this.P;
    const Px = this.Px;
    const e = y - this.predict(x);
    if (!Number.isFinite(e)) return e;
    this.updates++;
    const a = Math.abs(e);
    let ec = e;
    if (Number.isFinite(this.meanAbsResidual)) {
      const lim = this.opts.clip * this.meanAbsResidual;
      if (lim > 0 && a > lim) ec = e > 0 ? lim : -lim;
      // The scale follows the unclipped residuals: after a level shift every
      // residual is large, and a scale of clipped residuals would never catch up.
      this.meanAbsResidual += Math.max(1 / this.updates, 0.01) * (a - this.meanAbsResidual);
    } else {
      this.meanAbsResidual = a;
    }
    let denom = 0;
    let trace = 0;
    for (let i = 0; i < d; i++) {
      let s = 0;
      const row = i * d;
      for (let j = 0; j < d; j++) s += P[row + j] * x[j];
      Px[i] = s;
      denom += x[i] * s;
      trace += P[row + i];
    }
    const lambda = trace > this.opts.maxTrace ? 1 : this.opts.lambda;
    denom += lambda;
    const inv = 1 / denom;
    for (let i = 0; i < d; i++) this.w[i] += Px[i] * inv * ec;
    const il = 1 / lambda;
    // P <- (P - Px Px^T / denom) / lambda, kept exactly symmetric.
    for (let i = 0; i < d; i++) {
      const row = i * d;
      const pi = Px[i] * inv;
      for (let j = i; j < d; j++) {
        const v = (P[row + j] - pi * Px[j]) * il;
        P[row + j] = v;
        P[j * d + i] = v;
      }
    }
    return e;
  }

  /** Forget what was learnt about coordinates [from, to): weights to `value`, their covariance back to the prior. */
  resetCoordinates(from: number, to: number, value = 0): void {
    const d = this.d;
    for (let i = from; i < to; i++) {
      this.w[i] = value;
      for (let j = 0; j < d; j++) {
        this.P[i * d + j] = 0;
        this.P[j * d + i] = 0;
      }
      this.P[i * d + i] = this.opts.delta;
    }
  }

  /**
   * Re-express the fit after moving the origin of a linear-time regressor:
   * x_slope' = x_slope - shift (with x_int = 1). The prediction is unchanged;
   * w_int' = w_int + shift * w_slope and P' = A P A^T with A = I + shift e_int e_slope^T.
   */
  shiftOrigin(intercept: number, slope: number, shift: number): void {
    const d = this.d;
    const P = this.P;
    this.w[intercept] += shift * this.w[slope];
    for (let j = 0; j < d; j++) P[intercept * d + j] += shift * P[slope * d + j];
    for (let i = 0; i < d; i++) P[i * d + intercept] += shift * P[i * d + slope];
  }
}
