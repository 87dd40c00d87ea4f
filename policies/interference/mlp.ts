// The learned interference model's network: inputs -> Dense(hidden, tanh) ->
// Dense(1), predicting log(slowdown). Trained with tfjs (train.ts); per-tick
// inference and online learning run here in plain JavaScript on Float64Arrays
// copied from the exported weights (kernels row-major as tfjs getWeights()
// returns them: kernel1[i * hidden + j]). Matches tfjs predict() to float
// rounding (test/policies/interference-learned.test.ts).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../util/errors.js';
import { MODEL_FEATURE_NAMES, MODEL_INPUTS } from './features.js';

export const MLP_FORMAT = 'umbra-interference-mlp-v1';

export interface MlpWeights {
  format: typeof MLP_FORMAT;
  inputs: number;
  hidden: number;
  kernel1: number[];
  bias1: number[];
  kernel2: number[];
  bias2: number[];
  /** Standard deviation of the log-slowdown residuals on the training data. */
  residualSigma: number;
  featureOrder: string[];
  training: Record<string, unknown>;
}

export function parseMlpWeights(text: string, where: string): MlpWeights {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError(`not JSON: ${(err as Error).message}`, where);
  }
  const w = raw as Partial<MlpWeights>;
  if (!w || w.format !== MLP_FORMAT) throw new InputError(`expected "format": "${MLP_FORMAT}"`, where);
  if (w.inputs !== MODEL_INPUTS) throw new InputError(`field "inputs" must be ${MODEL_INPUTS} (the feature layout of policies/interference/features.ts)`, where);
  if (!(Number.isInteger(w.hidden) && (w.hidden as number) > 0)) throw new InputError('field "hidden" must be a positive integer', where);
  const h = w.hidden!;
  const sizes: [keyof MlpWeights, number][] = [
    ['kernel1', MODEL_INPUTS * h],
    ['bias1', h],
    ['kernel2', h],
    ['bias2', 1],
  ];
  for (const [k, len] of sizes) {
    const a = w[k];
    if (!Array.isArray(a) || a.length !== len || !a.every((v) => typeof v === 'number' && Number.isFinite(v))) throw new InputError(`field "${k}" must be ${len} finite numbers`, where);
  }
  if (!(typeof w.residualSigma === 'number' && w.residualSigma > 0)) throw new InputError('field "residualSigma" must be a positive number', where);
  if (!Array.isArray(w.featureOrder) || w.featureOrder.join(',') !== MODEL_FEATURE_NAMES.join(',')) throw new InputError('field "featureOrder" does not match the feature layout this build expects', where);
  return w as MlpWeights;
}

export function loadMlpWeights(path: string): MlpWeights {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InputError('cannot read interference model weights', path);
  }
  return parseMlpWeights(text, path);
}

/** The shipped weights (from the sources or from dist/). */
export function defaultMlpWeightsPath(): string {
  const candidates = ['./weights/interference-mlp.json', '../../../policies/interference/weights/interference-mlp.json'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

const cache = new Map<string, MlpWeights>();
export function mlpWeightsCached(path = defaultMlpWeightsPath()): MlpWeights {
  let w = cache.get(path);
  if (!w) {
    w = loadMlpWeights(path);
    cache.set(path, w);
  }
  return w;
}

export class Mlp {
  readonly inputs: number;
  readonly hidden: number;
  readonly k1: Float64Array;
  readonly b1: Float64Array;
  readonly k2: Float64Array;
  b2: number;
  private readonly h: Float64Array;

  constructor(w: Pick<MlpWeights, 'inputs' | 'hidden' | 'kernel1' | 'bias1' | 'kernel2' | 'bias2'>) {
    this.inputs = w.inputs;
    this.hidden = w.hidden;
    this.k1 = Float64Array.from(w.kernel1);
    this.b1 = Float64Array.from(w.bias1);
    this.k2 = Float64Array.from(w.kernel2);
    this.b2 = w.bias2[0];
    this.h = new Float64Array(w.hidden);
  }

  forward(x: ArrayLike<number>): number {
    const H = this.hidden;
    const h = this.h;
    h.set(this.b1);
    for (let i = 0; i < this.inputs; i++) {
      const xi = x[i];
      if (xi === 0) continue;
      const row = i * H;
      for (let j = 0; j < H; j++) h[j] += xi * this.k1[row + j];
    }
    let y = this.b2;
    for (let j = 0; j < H; j++) {
      h[j] = Math.tanh(h[j]);
      y += h[j] * this.k2[j];
    }
    return y;
  }

  /**
   * Pre-activations of the hidden layer for the inputs outside [from, from + len)
   * (zeros there): the part shared by a batch whose inputs differ only in that range.
   */
  partial(x: ArrayLike<number>, from: number, len: number, out: Float64Array): void {
    const H = this.hidden;
    out.set(this.b1);
    for (let i = 0; i < this.inputs; i++) {
      if (i >= from && i < from + len) continue;
      const xi = x[i];
      if (xi === 0) continue;
      const row = i * H;
      for (let j = 0; j < H; j++) out[j] += xi * this.k1[row + j];
    }
  }

  /** Output for a base from partial() plus inputs v placed at [from, from + v.length). */
  forwardFrom(base: Float64Array, from: number, v: ArrayLike<number>): number {
    const H = this.hidden;
    const h = this.h;
    h.set(base);
    for (let i = 0; i < v.length; i++) {
      const xi = v[i];
      if (xi === 0) continue;
      const row = (from + i) * H;
      for (let j = 0; j < H; j++) h[j] += xi * this.k1[row + j];
    }
    let y = this.b2;
    for (let j = 0; j < H; j++) y += Math.tanh(h[j]) * this.k2[j];
    return y;
  }

  /** One SGD step on 0.5 * (y - target)^2; returns the residual before the step. */
  sgd(x: ArrayLike<number>, target: number, rate: number): number {
    const y = this.forward(x);
    const g = Math.max(-1, Math.min(1, y - target)); // clipped: one odd sample cannot wreck the model
    const H = this.hidden;
    const h = this.h;
    for (let j = 0; j < H; j++) {
      const gh = g * this.k2[j] * (1 - h[j] * h[j]);
      this.k2[j] -= rate * g * h[j];
      this.b1[j] -= rate * gh;
      for (let i = 0; i < this.inputs; i++) {
        const xi = x[i];
        if (xi !== 0) this.k1[i * H + j] -= rate * gh * xi;
      }
    }
    this.b2 -= rate * g;
    return y - target;
  }
}
