// Slowly moving centre and scale of a series, so models can work in unit-free
// terms (z = (y - centre) / scale) whatever the series' units: percent, bytes,
// core-weighted sums. The scale is the mean absolute one-step change, the same
// yardstick MASE uses.
export class RunningScale {
  center = 0;
  scale = 0;
  private last = NaN;
  private n = 0;

  /** @param rate the long-run averaging rate (1/rate ~ memory in steps). */
  constructor(private readonly rate = 1 / 1000) {}

  observe(value: number): void {
    this.n++;
    const r = Math.max(1 / this.n, this.rate);
    this.center += r * (value - this.center);
    if (this.n > 1) {
      const r2 = Math.max(1 / (this.n - 1), this.rate);
      this.scale += r2 * (Math.abs(value - this.last) - this.scale);
    }
    this.last = value;
  }

  /** Scale with a floor, so a constant series does not divide by zero. */
  safeScale(): number {
    return Math.max(this.scale, 1e-9 * Math.abs(this.center), 1e-12);
  }
}
