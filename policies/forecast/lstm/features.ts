// The LSTM's view of a series: scale-free inputs and targets, so one network
// serves every series whatever its units (percent, bytes, core-weighted sums).
// The same code makes the training windows (train.ts) and feeds the network
// online (impl/lstm.ts), so training and inference can not drift apart.
//
// Per step, with s = running mean absolute one-step change (memory ~100 steps):
//   input 0: (y_t - y_{t-1}) / s            the latest change
//   input 1: (y_t - ewma_t) / s              where y sits against its recent level
//   target k: (y_{t+k} - y_t) / s, k = 1..K  the change to come, k steps ahead
// all clipped to +-CLIP so one burst cannot dominate a batch.
export const LSTM_INPUTS = 2;
export const FEATURE_CLIP = 10;
/** Averaging rates of the running scale and level. */
export const SCALE_RATE = 1 / 100;
export const LEVEL_RATE = 0.1;

export class LstmFeatures {
  private n = 0;
  private last = 0;
  private level = 0;
  private scaleSum = 0;
  /** Current scale s (after the latest observe). */
  scale = 1;
  /** Latest observation. */
  value = 0;

  /** Feed y_t; writes the inputs for this step into `out` (length LSTM_INPUTS). */
  observe(y: number, out: Float64Array | number[]): void {
    this.n++;
    if (this.n === 1) {
      this.level = y;
      this.last = y;
    } else {
      this.scaleSum += Math.max(1 / (this.n - 1), SCALE_RATE) * (Math.abs(y - this.last) - this.scaleSum);
      this.level += LEVEL_RATE * (y - this.level);
    }
    const s = Math.max(this.scaleSum, 1e-9 * Math.abs(y), 1e-12);
    this.scale = s;
    out[0] = clip((y - this.last) / s);
    out[1] = clip((y - this.level) / s);
    this.last = y;
    this.value = y;
  }
}

export function clip(v: number): number {
  return v > FEATURE_CLIP ? FEATURE_CLIP : v < -FEATURE_CLIP ? -FEATURE_CLIP : v;
}

/** Inputs (n x LSTM_INPUTS, row-major), scales and values of a whole series, as the online model sees them. */
export function seriesFeatures(values: ArrayLike<number>): { x: Float64Array; scale: Float64Array } {
  const f = new LstmFeatures();
  const n = values.length;
  const x = new Float64Array(n * LSTM_INPUTS);
  const scale = new Float64Array(n);
  const row = new Float64Array(LSTM_INPUTS);
  for (let t = 0; t < n; t++) {
    f.observe(values[t], row);
    for (let j = 0; j < LSTM_INPUTS; j++) x[t * LSTM_INPUTS + j] = row[j];
    scale[t] = f.scale;
  }
  return { x, scale };
}
