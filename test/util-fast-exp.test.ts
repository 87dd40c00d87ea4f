import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fastExp } from '../util/fast-exp.js';

const relErr = (x: number) => Math.abs(fastExp(x) - Math.exp(x)) / Math.exp(x);

describe('fastExp', () => {
  it('agrees with Math.exp within 1e-15 relative over the table range', () => {
    fc.assert(
      fc.property(fc.double({ min: -700, max: 700, noNaN: true }), (x) => {
        expect(relErr(x)).toBeLessThan(1e-15);
      }),
      { numRuns: 20_000 },
    );
  });

  it('is as accurate on the small arguments of a lognormal draw', () => {
    let worst = 0;
    for (let i = -200_000; i <= 200_000; i++) worst = Math.max(worst, relErr(i * 5e-5 + 1e-7));
    expect(worst).toBeLessThan(1e-15);
  });

  it('is exact where exp is exact, and Math.exp outside the table range', () => {
    expect(fastExp(0)).toBe(1);
    expect(fastExp(-0)).toBe(1);
    for (const x of [700.5, -700.5, 709.7, -745, 1000, -1000, Infinity, -Infinity]) expect(fastExp(x)).toBe(Math.exp(x));
    expect(fastExp(NaN)).toBeNaN();
  });
});
