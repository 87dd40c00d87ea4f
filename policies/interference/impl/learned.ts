// The learned interference predictor: the MLP (../mlp.ts) predicts the
// first-class task's log slowdown for a profile pair under the given sharing
// and load; the probability of interference is the chance the slowdown
// exceeds `tolerableSlowdown`, with the residual spread (shipped with the
// weights, then tracked online) as a Gaussian error in log space. The reason
// is found by occlusion: the resource whose second-class features, zeroed
// with its sharing, lower the prediction most.
//
// Online learning: every tick the policy feeds (profiles it saw, slowdown it
// measured) and the network takes one clipped SGD step, so it adapts to the
// platform it runs on. Each policy instance owns its copy of the weights.
import { MODEL_INPUTS, PROFILE_LEN, REASON_FEATURES, REASONS, modelInput, type InterferenceInput, type InterferenceReason, type ProfileVector } from '../features.js';
import { Mlp, mlpWeightsCached, type MlpWeights } from '../mlp.js';
import { normalCdf, type InterferencePredictor, type InterferenceVerdict } from '../predictor.js';

export interface LearnedOptions {
  tolerableSlowdown: number;
  /** Online SGD step (0 disables online learning). */
  learningRate: number;
  weightsPath?: string;
  weights?: MlpWeights;
}

export const LEARNED_DEFAULTS: LearnedOptions = { tolerableSlowdown: 1.1, learningRate: 0.005 };

export class LearnedPredictor implements InterferencePredictor {
  readonly name = 'learned' as const;
  readonly mlp: Mlp;
  private sigma2: number;
  private readonly x = new Float64Array(MODEL_INPUTS);
  private readonly xo = new Float64Array(MODEL_INPUTS);
  private readonly base: Float64Array;
  private readonly logTolerable: number;
  private readonly o: LearnedOptions;
  samplesLearned = 0;

  constructor(opts: Partial<LearnedOptions> = {}) {
    this.o = { ...LEARNED_DEFAULTS, ...opts };
    const w = this.o.weights ?? mlpWeightsCached(this.o.weightsPath);
    this.mlp = new Mlp(w);
    this.base = new Float64Array(w.hidden);
    this.logTolerable = Math.log(this.o.tolerableSlowdown);
    this.sigma2 = w.residualSigma * w.residualSigma;
  }

  sigma(): number {
    return Math.sqrt(this.sigma2);
  }

  predictLog(inp: InterferenceInput): number {
    return this.mlp.forward(modelInput(inp, this.x));
  }

  predict(inp: InterferenceInput): InterferenceVerdict {
    const y = this.mlp.forward(modelInput(inp, this.x));
    const p = this.toProbability(y, inp.tolerableSlowdown);
    let reason: InterferenceReason = 'memBw';
    let best = -Infinity;
    REASONS.forEach((r, ri) => {
      this.xo.set(this.x);
      for (const f of REASON_FEATURES[r]) this.xo[PROFILE_LEN + f] = 0;
      this.xo[2 * PROFILE_LEN + 1 + ri] = 0;
      const drop = y - this.mlp.forward(this.xo);
      if (drop > best) {
        best = drop;
        reason = r;
      }
    });
    return { probability: p, reason, score: Math.exp(y) };
  }

  probability(inp: InterferenceInput): number {
    return this.toProbability(this.mlp.forward(modelInput(inp, this.x)), inp.tolerableSlowdown);
  }

  private toProbability(y: number, tolerable?: number): number {
    const lt = tolerable === undefined ? this.logTolerable : Math.log(Math.max(1, tolerable));
    return normalCdf((y - lt) / this.sigma());
  }

  pairwise(first: ProfileVector, load: number, sharing: Float64Array, seconds: readonly ProfileVector[], tolerableSlowdown?: number): Float64Array {
    const out = new Float64Array(seconds.length);
    // the first-class part, load and sharing are the same for every pair: compute their share of the hidden layer once
    modelInput({ first, second: first, load, sharing }, this.x);
    this.mlp.partial(this.x, PROFILE_LEN, PROFILE_LEN, this.base);
    for (let i = 0; i < seconds.length; i++) out[i] = this.toProbability(this.mlp.forwardFrom(this.base, PROFILE_LEN, seconds[i]), tolerableSlowdown);
    return out;
  }

  expectedSlowdown(inp: InterferenceInput): number {
    return Math.exp(this.predictLog(inp));
  }

  learn(inp: InterferenceInput, observedSlowdown: number): void {
    if (this.o.learningRate <= 0 || !Number.isFinite(observedSlowdown) || observedSlowdown <= 0) return;
    const target = Math.log(Math.min(20, Math.max(0.5, observedSlowdown)));
    const r = this.mlp.sgd(modelInput(inp, this.x), target, this.o.learningRate);
    this.sigma2 += 0.01 * (r * r - this.sigma2);
    if (this.sigma2 < 0.02 * 0.02) this.sigma2 = 0.02 * 0.02;
    this.samplesLearned++;
  }
}
