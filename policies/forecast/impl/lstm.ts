// LSTM forecaster: a small LSTM pre-trained on a population of similar tasks
// (lstm/train.ts, weights shipped in policies/forecast/weights/), run one
// incremental step per update in plain JavaScript (lstm/cell.ts: no tfjs on the
// per-tick path), and fine-tuned online on the task it watches.
//
// Fine-tuning: only the output layer, per asked horizon k, by a normalised
// sign-error LMS step (the stochastic gradient of the absolute error, the loss
// the network was trained on and MASE scores): when y_{t+k} arrives, the head
// for k moves toward the scaled change it should have predicted from the
// hidden state h_t it had then. O(units) per horizon per step. On the shipped
// series this beat a squared-error (NLMS) update and no fine-tuning at H=1,
// and tied at H=5. The recurrent
// weights stay as pre-trained: they hold what the population taught.
import type { StepModel } from '../forecaster.js';
import { LstmCell, denseOut } from '../lstm/cell.js';
import { clip, LSTM_INPUTS, LstmFeatures } from '../lstm/features.js';
import { lstmWeightsCached, type LstmWeights } from '../lstm/weights.js';

export interface LstmOptions {
  /** NLMS step size of the online fine-tuning (0 = off). */
  fineTuneRate: number;
  /** Longest horizon (steps) fine-tuned; longer ones use the pre-trained head. */
  maxTunedHorizon: number;
}

export const LSTM_DEFAULTS: LstmOptions = { fineTuneRate: 0.005, maxTunedHorizon: 32 };

export class LstmModel implements StepModel {
  private readonly o: LstmOptions;
  private readonly cell: LstmCell;
  private readonly feats = new LstmFeatures();
  private readonly x = new Float64Array(LSTM_INPUTS);
  private readonly out: Float64Array;
  private readonly u: number;
  /** Ring of past (h, value, scale) for scoring horizons: row = units + 2. */
  private readonly past: Float64Array;
  private readonly R: number;
  private head = 0;
  private seen = 0;
  /** Per tracked horizon: head weights [units] + bias. */
  private readonly heads = new Map<number, Float64Array>();

  constructor(
    readonly weights: LstmWeights = lstmWeightsCached(),
    opts: Partial<LstmOptions> = {},
  ) {
    this.o = { ...LSTM_DEFAULTS, ...opts };
    this.cell = new LstmCell(weights);
    this.u = weights.units;
    this.out = new Float64Array(weights.horizons);
    this.R = this.o.maxTunedHorizon + 1;
    this.past = new Float64Array(this.R * (this.u + 2));
  }

  track(k: number): void {
    if (this.heads.has(k)) return;
    // Start from the pre-trained output for that horizon (the longest one beyond K).
    const K = this.weights.horizons;
    const col = Math.min(k, K) - 1;
    const w = new Float64Array(this.u + 1);
    for (let i = 0; i < this.u; i++) w[i] = this.weights.denseKernel[i * K + col];
    w[this.u] = this.weights.denseBias[col];
    this.heads.set(k, w);
  }

  observe(value: number): void {
    const u = this.u;
    const row = u + 2;
    this.seen++;
    if (this.o.fineTuneRate > 0) {
      for (const [k, w] of this.heads) {
        if (k > this.o.maxTunedHorizon || this.seen <= k) continue;
        const at = ((this.head - k + this.R) % this.R) * row;
        const s = this.past[at + u + 1];
        const target = clip((value - this.past[at + u]) / s);
        let pred = w[u];
        let norm = 1;
        for (let i = 0; i < u; i++) {
          const h = this.past[at + i];
          pred += w[i] * h;
          norm += h * h;
        }
        const e = target - pred;
        const step = (this.o.fineTuneRate * Math.sign(e)) / norm;
        for (let i = 0; i < u; i++) w[i] += step * this.past[at + i];
        w[u] += step;
      }
    }
    this.feats.observe(value, this.x);
    this.cell.step(this.x);
    const at = this.head * row;
    this.past.set(this.cell.h, at);
    this.past[at + u] = value;
    this.past[at + u + 1] = this.feats.scale;
    this.head = this.head + 1 === this.R ? 0 : this.head + 1;
  }

  forecast(k: number): number {
    if (this.seen === 0) return 0;
    const w = this.heads.get(k);
    let z: number;
    if (w) {
      z = w[this.u];
      for (let i = 0; i < this.u; i++) z += w[i] * this.cell.h[i];
    } else {
      denseOut(this.weights, this.cell.h, this.out);
      z = this.out[Math.min(k, this.weights.horizons) - 1];
    }
    return this.feats.value + this.feats.scale * z;
  }

  /** Hidden state after the latest step (for tests). */
  hidden(): Float64Array {
    return this.cell.h;
  }
}
