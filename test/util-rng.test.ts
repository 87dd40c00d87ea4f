import { describe, expect, it } from 'vitest';
import { rngFor } from '../util/rng.js';

/** Kolmogorov–Smirnov statistic of a sample against a CDF. */
function ks(sample: number[], cdf: (x: number) => number): number {
  const xs = [...sample].sort((a, b) => a - b);
  let d = 0;
  xs.forEach((x, i) => {
    const f = cdf(x);
    d = Math.max(d, Math.abs((i + 1) / xs.length - f), Math.abs(f - i / xs.length));
  });
  return d;
}

function erf(x: number): number {
  // Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7)
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - (((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t) * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

describe('seeded random streams', () => {
  const n = 200_000;
  // KS critical value at alpha = 0.001 for n samples
  const crit = 1.95 / Math.sqrt(n);

  it('normal draws follow the standard normal (KS test, tails included)', () => {
    const r = rngFor(1, 'test/normal');
    const xs = Array.from({ length: n }, () => r.normal());
    expect(ks(xs, (x) => 0.5 * (1 + erf(x / Math.SQRT2)))).toBeLessThan(crit);
    const tail = xs.filter((x) => Math.abs(x) > 3).length / n;
    expect(tail).toBeGreaterThan(0.0027 * 0.8);
    expect(tail).toBeLessThan(0.0027 * 1.2);
  });

  it('exponential draws follow the exponential with the given mean', () => {
    const r = rngFor(2, 'test/exp');
    const xs = Array.from({ length: n }, () => r.exp(3));
    expect(ks(xs, (x) => 1 - Math.exp(-x / 3))).toBeLessThan(crit);
    expect(xs.every((x) => x >= 0)).toBe(true);
  });

  it("draws exactly what seedrandom's Alea draws for the same seed and stream", async () => {
    const seedrandom = (await import('seedrandom')).default;
    for (const [seed, stream] of [[1, 'arrivals/kv0'], [7, 's'], ['x', ''], [123456789, 'service/search1']] as const) {
      const ours = rngFor(seed, stream);
      const theirs = seedrandom.alea(`${seed}/${stream}`);
      for (let i = 0; i < 10_000; i++) {
        expect(ours.next()).toBe(theirs());
        expect(ours.int32()).toBe(theirs.int32());
      }
    }
  });

  it('the same seed and stream give the same draws; another stream differs', () => {
    const a = rngFor(7, 's');
    const b = rngFor(7, 's');
    const c = rngFor(7, 't');
    const da = Array.from({ length: 100 }, () => [a.next(), a.normal(), a.exp(1), a.int(10)]);
    const db = Array.from({ length: 100 }, () => [b.next(), b.normal(), b.exp(1), b.int(10)]);
    const dc = Array.from({ length: 100 }, () => [c.next(), c.normal(), c.exp(1), c.int(10)]);
    expect(db).toEqual(da);
    expect(dc).not.toEqual(da);
  });
});

describe('selectInPlace', () => {
  it('finds the value a full sort puts at each rank, on any input', async () => {
    const fc = (await import('fast-check')).default;
    const { selectInPlace } = await import('../util/select.js');
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.double({ noNaN: true }), fc.constant(Infinity), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 300 }), fc.nat(), (xs, k0) => {
        const k = k0 % xs.length;
        const sorted = Float64Array.from(xs).sort();
        // numeric equality: -0 and +0 tie under <, so either may land at rank k
        // (a full sort puts -0 first); for a percentile they are the same value
        const got = selectInPlace(Float64Array.from(xs), k);
        expect(got === sorted[k], `rank ${k}: got ${got}, sorted ${sorted[k]}`).toBe(true);
      }),
    );
  });
});

describe('chained selections (how a window takes p99, then p95, then p50)', () => {
  it('each later selection, searching only below the previous rank, still equals the sorted value', async () => {
    const fc = (await import('fast-check')).default;
    const { selectInPlace } = await import('../util/select.js');
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.double({ min: 0, max: 1e9, noNaN: true }), fc.constant(Infinity)), { minLength: 1, maxLength: 500 }), (xs) => {
        const n = xs.length;
        const rank = (q: number) => Math.min(n - 1, Math.ceil(q * n) - 1);
        const sorted = Float64Array.from(xs).sort();
        const a = Float64Array.from(xs);
        expect(selectInPlace(a, rank(0.99))).toBe(sorted[rank(0.99)]);
        expect(selectInPlace(a, rank(0.95), 0, rank(0.99))).toBe(sorted[rank(0.95)]);
        expect(selectInPlace(a, rank(0.5), 0, rank(0.95))).toBe(sorted[rank(0.5)]);
      }),
    );
  });
});

describe('windowPercentiles (how a window takes p50, p95 and p99)', () => {
  it('gives the sorted ranks on a saturated window (nearly every request rejected: a run of Infinity)', async () => {
    const { windowPercentiles } = await import('../util/select.js');
    for (const finite of [0, 1, 10, 400, 600]) {
      const a = new Float64Array(1000).fill(Infinity);
      for (let i = 0; i < finite; i++) a[(i * 7919) % 1000] = 1000 + i;
      const sorted = a.slice().sort();
      const out = { p50: -1, p95: -1, p99: -1 };
      windowPercentiles(a, out);
      expect(out, `${finite} finite`).toEqual({ p50: sorted[499], p95: sorted[949], p99: sorted[989] });
    }
  });

  it('equals the nearest-rank values of a full sort, with ties and rejected (Infinity) values', async () => {
    const fc = (await import('fast-check')).default;
    const { windowPercentiles } = await import('../util/select.js');
    fc.assert(
      fc.property(
        // up to 3000 values, ties and runs of Infinity among them
        fc.array(fc.oneof(fc.double({ min: 0, max: 1e9, noNaN: true }), fc.constant(Infinity), fc.integer({ min: 0, max: 5 })), { minLength: 0, maxLength: 3000 }),
        (xs) => {
          const n = xs.length;
          const out = { p50: -1, p95: -1, p99: -1 };
          windowPercentiles(Float64Array.from(xs), out);
          if (n === 0) {
            expect(out).toEqual({ p50: 0, p95: 0, p99: 0 });
            return;
          }
          const rank = (q: number) => Math.min(n - 1, Math.ceil(q * n) - 1);
          const sorted = Float64Array.from(xs).sort();
          expect(out).toEqual({ p50: sorted[rank(0.5)], p95: sorted[rank(0.95)], p99: sorted[rank(0.99)] });
        },
      ),
      { numRuns: 300, seed: 29 },
    );
    // sizes around the ranks' steps (and where p95 or p99 share the median's rank)
    let x = 7;
    for (const n of [1, 2, 19, 20, 21, 99, 100, 101, 1259, 1260, 1261, 1279, 1280, 1281, 3000]) {
      const a = Float64Array.from({ length: n }, () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % 500) * 1000); // ties on purpose
      const out = { p50: -1, p95: -1, p99: -1 };
      windowPercentiles(a.slice(), out);
      const sorted = a.slice().sort();
      const rank = (q: number) => Math.min(n - 1, Math.ceil(q * n) - 1);
      expect(out, `n = ${n}`).toEqual({ p50: sorted[rank(0.5)], p95: sorted[rank(0.95)], p99: sorted[rank(0.99)] });
    }
  });
});
