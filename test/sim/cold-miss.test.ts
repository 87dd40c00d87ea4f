// A filling cache share's cold misses as an answer charges them: averaged
// over the quantum the answer stands for, from a linear fill at the miss
// rate of the start. Checked against the integral taken step by step.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { averagedColdMissRatio } from '../../sim/machine/contention.js';

/** The same average by brute force: the fill stepped through the horizon. */
function stepped(steady: number, target: number, occ0: number, accesses: number, sets: number, horizonSec: number): number {
  const cold0 = (1 - steady) * (1 - occ0 / target);
  const waysPerSec = (accesses * (steady + cold0)) / sets;
  const steps = 20_000;
  let sum = 0;
  for (let k = 0; k < steps; k++) {
    const t = ((k + 0.5) / steps) * horizonSec;
    const occ = Math.min(target, occ0 + waysPerSec * t);
    sum += (1 - steady) * (1 - occ / target);
  }
  return steady + sum / steps;
}

describe('averagedColdMissRatio', () => {
  it('is the mean over the horizon of the cold-miss excess of a share filling at its starting miss rate', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        fc.double({ min: 0.05, max: 16, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 1e5, max: 1e9, noNaN: true }),
        fc.constantFrom(1024, 32768),
        fc.double({ min: 1e-4, max: 0.05, noNaN: true }),
        (steady, target, filled, accesses, sets, horizonSec) => {
          const occ = target * filled * 0.999;
          const got = averagedColdMissRatio(steady, target, occ, accesses, sets, horizonSec);
          expect(Math.abs(got - stepped(steady, target, occ, accesses, sets, horizonSec))).toBeLessThan(1e-3);
          // between the filled share's miss ratio and the empty part's at the start
          expect(got).toBeGreaterThanOrEqual(steady - 1e-12);
          expect(got).toBeLessThanOrEqual(steady + (1 - steady) * (1 - occ / target) + 1e-12);
        },
      ),
      { numRuns: 200, seed: 30 },
    );
  });

  it('a full share, or no horizon to average over, charges what it did before: steady, or the excess at the solve', () => {
    expect(averagedColdMissRatio(0.3, 4, 4, 1e8, 32768, 0.005)).toBe(0.3);
    expect(averagedColdMissRatio(0.3, 4, 5, 1e8, 32768, 0.005)).toBe(0.3);
    expect(averagedColdMissRatio(0.3, 4, 1, 1e8, undefined, undefined)).toBeCloseTo(0.3 + 0.7 * 0.75, 12);
    expect(averagedColdMissRatio(0.3, 4, 1, 1e8, 32768, 0)).toBeCloseTo(0.3 + 0.7 * 0.75, 12);
  });
});
