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
  return new AleaRng(seedrandom.alea(`${seed}/${stream}`, { state: true }).state());
}

/**
 * seedrandom's Alea generator (Baagøe), stepped here from the state seedrandom
 * seeds it to: the same arithmetic in the same order, so the same draws bit
 * for bit (test/util-rng.test.ts holds it to seedrandom's). As one class, every
 * stream shares the same methods, which V8 inlines into a hot loop even when
 * the loop serves several streams; seedrandom's per-stream closures (and the
 * object literal over them here before) were inlined only for one stream, and
 * otherwise cost calls and a boxed double per draw.
 */
class AleaRng implements Rng {
  // numbers where declared, not just in the constructor: a field declared bare
  // starts out undefined, and V8 then stores every double in it boxed afresh
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private c = 0;

  constructor(state: { s0: number; s1: number; s2: number; c: number }) {
    this.s0 = state.s0;
    this.s1 = state.s1;
    this.s2 = state.s2;
    this.c = state.c;
  }

  next(): number {
    const t = 2091639 * this.s0 + this.c * 2.3283064365386963e-10; // 2^-32
    this.s0 = this.s1;
    this.s1 = this.s2;
    this.c = t | 0;
    return (this.s2 = t - this.c);
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  int32(): number {
    return (this.next() * 0x100000000) | 0;
  }

  exp(mean: number): number {
    return mean * zigguratExponential(this);
  }

  normal(): number {
    return zigguratNormal(this);
  }
}
