// Dynamic model weighting: a combination of historical models (the LSTM
// trained on a population of similar tasks, seasonal Holt–Winters, the
// Prophet-style fit) and real-time ones (naive, EWMA, rolling median, AR with
// forgetting) whose weights follow each model's recent error, per horizon.
//
// Method: exponentially weighted (Hedge / exponentiated-gradient) weights on
// discounted losses. For every member i and horizon k the blend keeps
//   L_ik <- L_ik + (|e_ik| / S - L_ik) / memory
// where e_ik is the member's error on the value it forecast k steps earlier and
// S is the series' running mean absolute one-step change (the MASE yardstick,
// so losses are unit-free and one learning rate serves every series). Weights
// are w_ik ∝ exp(-eta * L_ik / min_j L_jk), mixed with a small uniform share
// (fixed-share style) so a member that was wrong for a while can win back
// weight as soon as it becomes right. When the series departs from its history,
// the historical members' errors grow and the weight moves to the real-time
// members within about `memory` steps, and back once history holds again.
import type { StepModel } from '../forecaster.js';
import { RunningScale } from '../running-scale.js';

export interface BlendMember {
  name: string;
  model: StepModel;
}

export interface BlendOptions {
  /** Memory of the discounted loss, in steps. */
  memorySteps: number;
  /** Sharpness: weights ∝ exp(-eta * loss / best loss). */
  eta: number;
  /** Uniform share mixed into the weights. */
  share: number;
}

export const BLEND_DEFAULTS: BlendOptions = { memorySteps: 40, eta: 20, share: 0.02 };

class HorizonWeights {
  /** Member forecasts of the last k steps: ring of k rows of M values. */
  readonly pending: Float64Array;
  head = 0;
  filled = 0;
  readonly loss: Float64Array;
  readonly w: Float64Array;
  combined = 0;
  scored = 0;

  constructor(
    readonly k: number,
    m: number,
  ) {
    this.pending = new Float64Array(k * m);
    this.loss = new Float64Array(m);
    this.w = new Float64Array(m).fill(1 / m);
  }
}

export class BlendModel implements StepModel {
  private readonly o: BlendOptions;
  private readonly m: number;
  private readonly horizons = new Map<number, HorizonWeights>();
  private readonly scale = new RunningScale(1 / 1000);
  private lastAsked = 1;

  constructor(
    readonly members: BlendMember[],
    opts: Partial<BlendOptions> = {},
  ) {
    if (members.length === 0) throw new RangeError('blend needs at least one member');
    this.o = { ...BLEND_DEFAULTS, ...opts };
    this.m = members.length;
  }

  track(k: number): void {
    if (this.horizons.has(k)) return;
    // Members that learn per horizon (the LSTM's output layer) learn this one too.
    for (const mem of this.members) mem.model.track?.(k);
    const h = new HorizonWeights(k, this.m);
    this.horizons.set(k, h);
    this.store(h);
  }

  observe(value: number, tSec: number): void {
    this.scale.observe(value);
    const S = this.scale.safeScale();
    for (const h of this.horizons.values()) this.score(h, value, S);
    for (const mem of this.members) mem.model.observe(value, tSec);
    for (const h of this.horizons.values()) this.store(h);
  }

  forecast(k: number): number {
    this.lastAsked = k;
    const h = this.horizons.get(k);
    if (h) return h.combined;
    let s = 0;
    for (const mem of this.members) s += mem.model.forecast(k);
    return s / this.m;
  }

  /** Weights at horizon k steps (default: the horizon last asked for). */
  weightsAt(k = this.lastAsked): Record<string, number> {
    const h = this.horizons.get(k);
    const out: Record<string, number> = {};
    this.members.forEach((mem, i) => (out[mem.name] = h ? h.w[i] : 1 / this.m));
    return out;
  }

  private score(h: HorizonWeights, actual: number, S: number): void {
    if (h.filled < h.k) return;
    const m = this.m;
    const row = h.head * m; // oldest row = forecasts made k steps ago
    h.scored++;
    const rate = Math.max(1 / h.scored, 1 / this.o.memorySteps);
    let best = Infinity;
    for (let i = 0; i < m; i++) {
      const e = Math.abs(actual - h.pending[row + i]) / S;
      h.loss[i] += rate * ((Number.isFinite(e) ? e : 1e6) - h.loss[i]);
      if (h.loss[i] < best) best = h.loss[i];
    }
    // Hedge weights on losses relative to the best member (scale-free sharpness).
    const ref = Math.max(best, 1e-9);
    let z = 0;
    for (let i = 0; i < m; i++) {
      h.w[i] = Math.exp((-this.o.eta * (h.loss[i] - best)) / ref);
      z += h.w[i];
    }
    const share = this.o.share / m;
    for (let i = 0; i < m; i++) h.w[i] = (1 - this.o.share) * (h.w[i] / z) + share;
  }

  private store(h: HorizonWeights): void {
    const m = this.m;
    const row = h.head * m;
    let c = 0;
    for (let i = 0; i < m; i++) {
      const f = this.members[i].model.forecast(h.k);
      h.pending[row + i] = f;
      c += h.w[i] * f;
    }
    h.combined = c;
    h.head = h.head + 1 === h.k ? 0 : h.head + 1;
    if (h.filled < h.k) h.filled++;
  }
}
