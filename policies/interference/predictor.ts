// Interference prediction (seed 001): will this second-class profile (or set
// of them) slow the first-class task down, and through which resource? Two
// implementations: the seed's weighted score (impl/formula.ts) and a learned
// model (impl/learned.ts) trained on observed (profile pair -> slowdown) data
// and updated online from what the policy sees. Both answer a probability and
// the resource to blame.
import type { InterferenceInput, InterferenceReason, ProfileVector } from './features.js';

export interface InterferenceVerdict {
  /** Probability that the pair interferes (above the predictor's threshold). */
  probability: number;
  /** The resource through which it would interfere. */
  reason: InterferenceReason;
  /** The formula's score, or the learned model's predicted slowdown factor. */
  score: number;
}

export interface InterferencePredictor {
  readonly name: 'formula' | 'learned';
  predict(inp: InterferenceInput): InterferenceVerdict;
  /** Probability only (no reason): the cheap path. */
  probability(inp: InterferenceInput): number;
  /** Probabilities of one first-class profile against many second-class ones under the same sharing, load and tolerable slowdown. */
  pairwise(first: ProfileVector, load: number, sharing: Float64Array, seconds: readonly ProfileVector[], tolerableSlowdown?: number): Float64Array;
  /** Online learning from an observed slowdown of the first-class task (slowdown factor, 1 = none). */
  learn(inp: InterferenceInput, observedSlowdown: number): void;
  /** Slowdown factor the predictor expects (1 = none): what the shadow workload compares observations with. */
  expectedSlowdown(inp: InterferenceInput): number;
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 erf, |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

export function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
