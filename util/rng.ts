// All randomness in umbra flows from a seed through seedrandom. Independent
// streams are derived by name (`rngFor(seed, 'arrivals/lc0')`), so adding a new
// consumer of randomness never shifts the draws of an existing one.
import seedrandom from 'seedrandom';
import { zigguratExponential, zigguratNormal } from './ziggurat.js';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform signed 32-bit integer. */
  int32(): number;
  /** Exponential with the given mean (Ziggurat). */
  exp(mean: number): number;
  /** Standard normal (Ziggurat). */
  normal(): number;
}

export function rngFor(seed: number | string, stream: string): Rng {
  const prng = seedrandom.alea(`${seed}/${stream}`);
  const src = { next: () => prng(), int32: () => prng.int32() };
  return {
    next: src.next,
    int: (n: number) => Math.floor(prng() * n),
    int32: src.int32,
    exp: (mean: number) => mean * zigguratExponential(src),
    normal: () => zigguratNormal(src),
  };
}
