import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { phaseProfile, StepProfile, traceProfile } from '../../sim/workloads/demand-profile.js';

describe('demand profiles', () => {
  it('nextChangeNs lands exactly on the next step whose value differs', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 20 }), fc.boolean(), fc.integer({ min: 0, max: 500 }), (vals, loop, t) => {
        const p = new StepProfile(Float64Array.from(vals), 10, loop);
        const next = p.nextChangeNs(t);
        // brute force: walk step by step
        let expected = Infinity;
        const limit = loop ? t + 2 * vals.length * 10 + 10 : vals.length * 10;
        for (let u = (Math.floor(t / 10) + 1) * 10; u <= limit; u += 10) {
          if (p.valueAt(u) !== p.valueAt(t)) {
            expected = u;
            break;
          }
        }
        expect(next).toBe(expected);
      }),
    );
  });

  it('phases hold their values and loop', () => {
    const p = phaseProfile([{ durationNs: 30, value: 1 }, { durationNs: 20, value: 5 }], true);
    expect([0, 29, 30, 49, 50, 79, 80].map((t) => p.valueAt(t))).toEqual([1, 1, 5, 5, 1, 1, 5]);
    expect(p.nextChangeNs(0)).toBe(30);
    expect(p.peakOver(0, 35)).toBe(5);
    expect(p.meanOver(0, 50)).toBeCloseTo((30 * 1 + 20 * 5) / 50);
  });

  it('a trace is rescaled onto the requested range and interpolated between samples', () => {
    const p = traceProfile(Float64Array.from([10, 20, 30]), { sampleNs: 100, resolutionNs: 25, scaleTo: { lo: 1000, hi: 3000 }, loop: false });
    expect(p.valueAt(0)).toBe(1000);
    expect(p.valueAt(50)).toBeCloseTo(1500);
    expect(p.valueAt(100)).toBe(2000);
    expect(p.valueAt(200)).toBe(3000);
  });
});
