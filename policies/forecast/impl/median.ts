// Rolling median of the last w observations, a flat forecast. The conditional
// median is what minimises absolute error, and on spiky utilisation series
// (one-sample bursts) it is a far better level estimate than the last value
// or a mean: MASE rewards exactly that.
import type { StepModel } from '../forecaster.js';

export class MedianModel implements StepModel {
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  private head = 0;
  private filled = 0;
  private median = 0;

  constructor(private readonly window = 7) {
    if (!(Number.isInteger(window) && window >= 1)) throw new RangeError(`median window must be a positive integer, got ${window}`);
    this.ring = new Float64Array(window);
    this.sorted = new Float64Array(window);
  }

  observe(value: number): void {
    this.ring[this.head] = value;
    this.head = this.head + 1 === this.window ? 0 : this.head + 1;
    if (this.filled < this.window) this.filled++;
    // Insertion sort of at most `window` values: cheaper than a heap at this size.
    const n = this.filled;
    const s = this.sorted;
    for (let i = 0; i < n; i++) {
      const v = this.ring[i];
      let j = i - 1;
      while (j >= 0 && s[j] > v) {
        s[j + 1] = s[j];
        j--;
      }
      s[j + 1] = v;
    }
    this.median = n % 2 === 1 ? s[(n - 1) >> 1] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
  }

  forecast(): number {
    return this.median;
  }
}
