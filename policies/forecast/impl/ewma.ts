// Exponentially weighted moving average (simple exponential smoothing): a flat
// forecast at the smoothed level. alpha near 1 follows the last value; small
// alpha averages out noise but lags behind level shifts.
import type { StepModel } from '../forecaster.js';

export class EwmaModel implements StepModel {
  private level = NaN;

  constructor(private readonly alpha = 0.5) {
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`ewma alpha must be in (0, 1], got ${alpha}`);
  }

  observe(value: number): void {
    this.level = Number.isNaN(this.level) ? value : this.level + this.alpha * (value - this.level);
  }

  forecast(): number {
    return Number.isNaN(this.level) ? 0 : this.level;
  }
}
