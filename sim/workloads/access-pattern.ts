// LLC-level access streams of a task (the accesses that miss the private
// L1/L2 and reach the shared cache), as cache-line numbers local to the task.
// The exact LLC replays them; the fast mode profiles them once (reuse and
// stack distances) and works from the profile.
import type { Rng } from '../../util/rng.js';

export interface AccessPattern {
  /** Describes the pattern and its parameters; equal keys => statistically identical streams. */
  readonly key: string;
  /** Distinct lines the pattern touches (its working set). */
  readonly workingSetLines: number;
  /** Write the next accesses (line numbers in [0, workingSetLines)) into out[start, end). */
  fill(out: Int32Array, start: number, end: number): void;
}

/** Cyclic sequential sweep (streaming kernels, STREAM-like). */
export class SequentialPattern implements AccessPattern {
  private pos = 0;
  readonly key: string;
  constructor(readonly workingSetLines: number) {
    this.key = `seq(${workingSetLines})`;
  }
  fill(out: Int32Array, start: number, end: number): void {
    const w = this.workingSetLines;
    let p = this.pos;
    for (let i = start; i < end; i++) {
      out[i] = p;
      p++;
      if (p === w) p = 0;
    }
    this.pos = p;
  }
}

/** Uniformly random lines (pointer chasing over a large heap, hash tables). */
export class UniformPattern implements AccessPattern {
  readonly key: string;
  constructor(
    readonly workingSetLines: number,
    private readonly rng: Rng,
  ) {
    this.key = `uniform(${workingSetLines})`;
  }
  fill(out: Int32Array, start: number, end: number): void {
    const w = this.workingSetLines;
    const r = this.rng;
    for (let i = start; i < end; i++) out[i] = Math.floor(r.next() * w);
  }
}

/**
 * Zipf-distributed popularity over the working set (key-value stores, search
 * indexes): rank k drawn with probability proportional to 1/k^alpha by
 * rejection-inversion (Hörmann & Derflinger 1996), then scattered over lines by
 * a bijective multiplicative map so hot lines land in different sets.
 */
export class ZipfPattern implements AccessPattern {
  readonly key: string;
  private readonly hIntegralX1: number;
  private readonly hIntegralN: number;
  private readonly s: number;
  private readonly scatter: number;
  constructor(
    readonly workingSetLines: number,
    readonly alpha: number,
    private readonly rng: Rng,
  ) {
    if (!(alpha > 0) || alpha === 1) {
      // alpha = 1 needs the log form; nudge to keep one code path (difference is negligible).
      if (alpha === 1) alpha = 1.000001;
      else throw new RangeError(`zipf alpha must be > 0, got ${alpha}`);
    }
    this.alpha = alpha;
    this.key = `zipf(${workingSetLines},${alpha})`;
    this.hIntegralX1 = this.hIntegral(1.5) - 1;
    this.hIntegralN = this.hIntegral(workingSetLines + 0.5);
    this.s = 2 - this.hIntegralInverse(this.hIntegral(2.5) - this.h(2));
    this.scatter = coprimeMultiplier(workingSetLines);
  }
  private h(x: number): number {
    return Math.exp(-this.alpha * Math.log(x));
  }
  private hIntegral(x: number): number {
    const lx = Math.log(x);
    return helper2((1 - this.alpha) * lx) * lx;
  }
  private hIntegralInverse(x: number): number {
    let t = x * (1 - this.alpha);
    if (t < -1) t = -1;
    return Math.exp(helper1(t) * x);
  }
  /** One rank in [1, n]. */
  sampleRank(): number {
    const n = this.workingSetLines;
    for (;;) {
      const u = this.hIntegralN + this.rng.next() * (this.hIntegralX1 - this.hIntegralN);
      const x = this.hIntegralInverse(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > n) k = n;
      if (k - x <= this.s || u >= this.hIntegral(k + 0.5) - this.h(k)) return k;
    }
  }
  fill(out: Int32Array, start: number, end: number): void {
    const n = this.workingSetLines;
    const m = this.scatter;
    for (let i = start; i < end; i++) {
      // exact in doubles: rank * m < n^2 < 2^53 for any working set under ~6 GB
      out[i] = ((this.sampleRank() - 1) * m) % n;
    }
  }
}

// log1p(x)/x and (exp(x)-1)/x, accurate near 0 (from the rejection-inversion paper).
function helper1(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x));
}
function helper2(x: number): number {
  return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + x * (1 / 3) * (1 + 0.25 * x));
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** A multiplier coprime with n near n * golden ratio, so rank -> (rank * m) mod n is a bijection. */
function coprimeMultiplier(n: number): number {
  if (n <= 2) return 1;
  let m = Math.floor(n * 0.6180339887) | 1;
  while (gcd(m, n) !== 1) m += 2;
  return m;
}

/** A weighted mix of patterns over disjoint line ranges (e.g. hot index + cold data). */
export class MixPattern implements AccessPattern {
  readonly key: string;
  readonly workingSetLines: number;
  private readonly offsets: number[];
  private readonly cumulative: number[];
  private readonly scratch = new Int32Array(1);
  constructor(
    private readonly parts: { pattern: AccessPattern; weight: number }[],
    private readonly rng: Rng,
  ) {
    const total = parts.reduce((s, p) => s + p.weight, 0);
    let acc = 0;
    let off = 0;
    this.offsets = [];
    this.cumulative = [];
    for (const p of parts) {
      this.offsets.push(off);
      off += p.pattern.workingSetLines;
      acc += p.weight / total;
      this.cumulative.push(acc);
    }
    this.workingSetLines = off;
    this.key = `mix(${parts.map((p) => `${p.weight}:${p.pattern.key}`).join(',')})`;
  }
  fill(out: Int32Array, start: number, end: number): void {
    const cum = this.cumulative;
    for (let i = start; i < end; i++) {
      const u = this.rng.next();
      let j = 0;
      while (j < cum.length - 1 && u >= cum[j]) j++;
      this.parts[j].pattern.fill(this.scratch, 0, 1);
      out[i] = this.offsets[j] + this.scratch[0];
    }
  }
}
