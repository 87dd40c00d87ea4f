// What a job loses to each wake-up of another thread on its core
// (runner/calibrate/wakeup-cost.ts): the formula, stated as the simulator
// charges it, and (with the native addon) a real measurement next to the
// addon's waker thread.
import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { measureWakeupCost, wakeupCostNs } from '../../runner/calibrate/wakeup-cost.js';
import { nativeAddon } from '../../native/addon.js';

describe('the cost of a wake-up', () => {
  it('is what makes the simulator\'s sharing, 1 / (1 + waker CPU + rate x cost), give the measured ratio', () => {
    // 8000 wake-ups/s, waker CPU 10% of the core, the job at 0.8 of alone: 1/0.8 - 1 - 0.1 = 0.15 of load, / 8000
    const cost = wakeupCostNs(30e9, 24e9, 8000, 0.1);
    expect(cost).toBeCloseTo(18_750, 6);
    expect(1 / (1 + 0.1 + (8000 * cost) / 1e9)).toBeCloseTo(0.8, 12);
  });

  it('is never negative, and 0 without a measurement to go on', () => {
    // the job lost less than the waker's own CPU: noise, not a gain from wake-ups
    expect(wakeupCostNs(30e9, 29.5e9, 8000, 0.1)).toBe(0);
    expect(wakeupCostNs(0, 24e9, 8000, 0.1)).toBe(0);
    expect(wakeupCostNs(30e9, 24e9, 0, 0.1)).toBe(0);
  });

  const addon = nativeAddon();
  it.skipIf(!addon)('measured next to the native waker: the stream stressor loses bandwidth, the waker wakes at its rate', async () => {
    const core = availableParallelism() - 1;
    const r = await measureWakeupCost({ core, rateHz: 8000, workingSetBytes: 64 << 20, seconds: 0.6, pairs: 2 });
    expect(r.pairs).toHaveLength(2);
    for (const p of r.pairs) {
      expect(p.wakeupsPerSec).toBeGreaterThan(8000 * 0.8);
      expect(p.wakeupsPerSec).toBeLessThan(8000 * 1.05);
      expect(p.wakerCpuShare).toBeGreaterThan(0);
    }
    // 8000 wake-ups a second cost the copy bandwidth (on this VM 21-35%; a few % anywhere)
    const ratios = r.pairs.map((p) => p.withWakerBytesPerSec / p.aloneBytesPerSec);
    expect(Math.min(...ratios)).toBeLessThan(0.97);
    expect(r.costNs).toBeGreaterThanOrEqual(0);
    // the median of two: their mean
    expect(r.costNs).toBeCloseTo((r.pairs[0].costNs + r.pairs[1].costNs) / 2, 6);
  }, 30_000);
});
