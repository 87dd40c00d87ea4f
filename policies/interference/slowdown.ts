// Observed slowdown of a first-class task, for online learning: its cost per
// request (core-seconds per completed request; CPI when it serves no
// requests) over a low quantile of the same — what it costs when nobody is in
// its way. The quantile (p10) is tracked by a relative pinball-loss step, so it
// follows slow drifts (a new request mix) but not a burst of interference.
export class SlowdownTracker {
  private base: number | undefined;
  private n = 0;

  /** Feed this window's cost; returns the slowdown once 10 windows have been seen. */
  update(cost: number | undefined): number | undefined {
    if (cost === undefined || !Number.isFinite(cost) || cost <= 0) return undefined;
    this.n++;
    if (this.base === undefined) {
      this.base = cost;
      return undefined;
    }
    const step = 0.02 * this.base;
    this.base += cost < this.base ? -0.9 * step : 0.1 * step;
    if (this.base <= 0) this.base = cost;
    return this.n >= 10 ? cost / this.base : undefined;
  }

  baseline(): number | undefined {
    return this.base;
  }
}
