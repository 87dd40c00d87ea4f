// One LSTM step in plain JavaScript (Float64Array), from weights exported by
// tfjs. The per-tick path never calls tfjs: tfjs is for training only. Matches
// tfjs's LSTM (sigmoid recurrent activation, tanh activation, gate order
// i, f, c, o) to float rounding; test/forecast checks it against predict().
import type { LstmWeights } from './weights.js';

export class LstmCell {
  readonly units: number;
  readonly inputs: number;
  readonly h: Float64Array;
  readonly c: Float64Array;
  private readonly kernel: Float64Array;
  private readonly recurrent: Float64Array;
  private readonly bias: Float64Array;
  private readonly z: Float64Array;

  constructor(w: LstmWeights) {
    this.units = w.units;
    this.inputs = w.inputs;
    this.kernel = Float64Array.from(w.kernel);
    this.recurrent = Float64Array.from(w.recurrentKernel);
    this.bias = Float64Array.from(w.bias);
    this.h = new Float64Array(w.units);
    this.c = new Float64Array(w.units);
    this.z = new Float64Array(4 * w.units);
  }

  reset(): void {
    this.h.fill(0);
    this.c.fill(0);
  }

  /** Advance one step with input x (length `inputs`); updates h and c in place. */
  step(x: ArrayLike<number>): void {
    const u = this.units;
    const g = 4 * u;
    const z = this.z;
    z.set(this.bias);
    for (let i = 0; i < this.inputs; i++) {
      const xi = x[i];
      const row = i * g;
      for (let j = 0; j < g; j++) z[j] += xi * this.kernel[row + j];
    }
    for (let i = 0; i < u; i++) {
      const hi = this.h[i];
      const row = i * g;
      for (let j = 0; j < g; j++) z[j] += hi * this.recurrent[row + j];
    }
    for (let j = 0; j < u; j++) {
      const ig = sigmoid(z[j]);
      const fg = sigmoid(z[u + j]);
      const cc = Math.tanh(z[2 * u + j]);
      const og = sigmoid(z[3 * u + j]);
      const c = fg * this.c[j] + ig * cc;
      this.c[j] = c;
      this.h[j] = og * Math.tanh(c);
    }
  }
}

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/** Dense head: out[k] = b[k] + sum_i h[i] * W[i, k]. */
export function denseOut(w: LstmWeights, h: ArrayLike<number>, out: Float64Array): void {
  const K = w.horizons;
  for (let k = 0; k < K; k++) out[k] = w.denseBias[k];
  for (let i = 0; i < w.units; i++) {
    const hi = h[i];
    for (let k = 0; k < K; k++) out[k] += hi * w.denseKernel[i * K + k];
  }
}
