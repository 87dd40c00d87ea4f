// Calibration: cache levels are read off a latency curve's steps, and the
// measurement itself runs (native or JS) and reports which kernel it used.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { findCacheLevels, type CurvePoint } from '../../runner/calibrate/cache-levels.js';
import { calibrateHost, workingSetSizes } from '../../runner/calibrate/calibrate-host.js';
import { computeOpsPerSec, pointerChaseNs, streamBytesPerSec } from '../../runner/calibrate/kernels.js';
import { nativeAddon } from '../../native/addon.js';

/** A stepped curve: latency lat[i] while the working set fits sizes[i], then memory. */
function curve(sizes: number[], lats: number[], dram: number, jitter: (i: number) => number = () => 1): CurvePoint[] {
  const pts: CurvePoint[] = [];
  let i = 0;
  for (let ws = 4096; ws <= sizes[sizes.length - 1] * 8; ws *= 2, i++) {
    const level = sizes.findIndex((s) => ws <= s);
    pts.push({ workingSetBytes: ws, latencyNs: (level < 0 ? dram : lats[level]) * jitter(i) });
  }
  return pts;
}

describe('cache levels from a latency curve', () => {
  it('finds the levels of a clean stepped curve', () => {
    const r = findCacheLevels(curve([32 << 10, 1 << 20, 32 << 20], [1.2, 4, 14], 110));
    expect(r.levels).toEqual([
      { sizeBytes: 32 << 10, latencyNs: 1.2 },
      { sizeBytes: 1 << 20, latencyNs: 4 },
      { sizeBytes: 32 << 20, latencyNs: 14 },
    ]);
    expect(r.dramLatencyNs).toBe(110);
  });

  it('law: for any hierarchy with >= 2x steps and +-10% noise, the detected sizes are the true ones', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 13, max: 26 }), { minLength: 1, maxLength: 3 }).map((e) => e.sort((a, b) => a - b)),
        fc.double({ min: 0.5, max: 3, noNaN: true }),
        fc.array(fc.double({ min: 0.9, max: 1.1, noNaN: true }), { minLength: 40, maxLength: 40 }),
        (exps, l1, noise) => {
          // Levels at least two doublings apart, as real hierarchies are.
          const sizes = exps.filter((e, i) => i === 0 || e - exps[i - 1] >= 2).map((e) => 2 ** e);
          const lats = sizes.map((_, i) => l1 * 2.5 ** i);
          const dram = lats[lats.length - 1] * 4;
          const r = findCacheLevels(curve(sizes, lats, dram, (i) => noise[i % noise.length]));
          expect(r.levels.map((x) => x.sizeBytes)).toEqual(sizes);
          expect(r.dramLatencyNs).toBeGreaterThan(lats[lats.length - 1] * 2);
        },
      ),
    );
  });

  it('a flat curve has no cache levels and its latency is memory latency', () => {
    const r = findCacheLevels([4096, 8192, 16384].map((w) => ({ workingSetBytes: w, latencyNs: 80 })));
    expect(r.levels).toEqual([]);
    expect(r.dramLatencyNs).toBe(80);
  });

  it('working-set sizes are increasing and within bounds', () => {
    const s = workingSetSizes(4096, 1 << 20, false);
    expect(s[0]).toBe(4096);
    expect(s.every((x, i) => i === 0 || x > s[i - 1])).toBe(true);
    expect(Math.max(...s)).toBeLessThanOrEqual(1 << 20);
  });
});

describe('calibration kernels', () => {
  it('the JS pointer chase is slower per access out of cache than in it', () => {
    // Best of three, after a warm-up call so the JIT has compiled the loop.
    const best = (ws: number) => Math.min(...[0, 1, 2].map(() => pointerChaseNs(null, ws, 200_000, 1)));
    pointerChaseNs(null, 16 << 10, 200_000, 1);
    const small = best(16 << 10);
    const big = best(64 << 20);
    expect(big).toBeGreaterThan(small * 2);
  });

  it.skipIf(!nativeAddon())('native and JS kernels measure positive rates', () => {
    for (const addon of [nativeAddon(), null]) {
      expect(streamBytesPerSec(addon, 8 << 20, 2)).toBeGreaterThan(1e8);
      expect(computeOpsPerSec(addon, 1_000_000)).toBeGreaterThan(1e7);
    }
  });

  it('calibrateHost reports the fields the simulator will load, and which kernel ran', () => {
    const cal = calibrateHost({ quick: true, maxBytes: 2 << 20, seed: 3 });
    expect(cal.schema).toBe('umbra-host-calibration/1');
    expect(cal.cores).toBeGreaterThan(0);
    expect(cal.method.pointerChase).toBe(nativeAddon() ? 'native' : 'js');
    expect(cal.curve.length).toBe(workingSetSizes(4096, 2 << 20, true).length);
    expect(cal.curve.every((p) => p.latencyNs > 0)).toBe(true);
    expect(cal.streamBandwidthBytesPerSec).toBeGreaterThan(0);
    expect(cal.computeOpsPerSecPerCore).toBeGreaterThan(0);
    expect(cal.dramLatencyNs).toBeGreaterThan(0);
    expect(calibrateHost({ quick: true, maxBytes: 64 << 10, js: true }).method).toEqual({ pointerChase: 'js', stream: 'js', compute: 'js' });
  });
});

describe('isotonic fit', () => {
  it('is non-decreasing, keeps the mean, and leaves a sorted curve unchanged', async () => {
    const { isotonic } = await import('../../runner/calibrate/cache-levels.js');
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1000, noNaN: true }), { minLength: 1, maxLength: 50 }), (ys) => {
        const f = isotonic(ys);
        expect(f).toHaveLength(ys.length);
        for (let i = 1; i < f.length; i++) expect(f[i]).toBeGreaterThanOrEqual(f[i - 1] - 1e-9);
        const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
        expect(Math.abs(mean(f) - mean(ys))).toBeLessThan(1e-6 * (1 + mean(ys)));
        const sorted = [...ys].sort((a, b) => a - b);
        expect(isotonic(sorted)).toEqual(sorted);
      }),
    );
  });

  it('an isolated spike does not become a cache level; a one-point ramp is not a level when plateaus need two points', () => {
    const pts = [1, 1, 3, 1, 1, 1, 4, 4, 4, 4, 9, 30, 30, 30].map((l, i) => ({ workingSetBytes: 4096 * 2 ** i, latencyNs: l }));
    const r = findCacheLevels(pts, { minPlateauPoints: 2 });
    expect(r.levels.map((x) => x.sizeBytes)).toEqual([4096 * 2 ** 5, 4096 * 2 ** 9]);
    expect(r.dramLatencyNs).toBe(30);
  });
});
