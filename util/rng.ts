// All randomness in umbra flows from a seed through seedrandom. Independent
// streams are derived by name (`rngFor(seed, 'arrivals/lc0')`), so adding a new
// consumer of randomness never shifts the draws of an existing one.
import seedrandom from 'seedrandom';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Exponential with the given mean. */
  exp(mean: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
}

export function rngFor(seed: number | string, stream: string): Rng {
  const prng = seedrandom.alea(`${seed}/${stream}`);
  let spare: number | null = null;
  return {
    next: () => prng(),
    int: (n: number) => Math.floor(prng() * n),
    exp: (mean: number) => -mean * Math.log(1 - prng()),
    normal: () => {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      let u = 0;
      while (u === 0) u = prng();
      const v = prng();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
  };
}
