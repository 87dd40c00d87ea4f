import { describe, expect, it } from 'vitest';
import { samplePrimers } from '../../sim/platform/sample-shape.js';
import { makePlatform, runFor, smallScenario } from './helpers.js';

// The primers give the snapshot samples' number fields the double
// representation only if they have the very keys of SimPlatform.observe's
// literals, in the same order (sim/platform/sample-shape.ts).
describe('snapshot sample primers', () => {
  it('have the keys of the samples observe makes, in order, for both classes and the latency', async () => {
    const p = await makePlatform(smallScenario());
    const snaps = runFor(p, 30);
    const tasks = snaps[snaps.length - 1].tasks;
    const first = tasks.find((t) => t.class === 'first')!;
    const second = tasks.find((t) => t.class === 'second')!;
    const [secondPrimer, firstPrimer] = samplePrimers;
    expect(Object.keys(secondPrimer)).toEqual(Object.keys(second));
    expect(Object.keys(firstPrimer)).toEqual(Object.keys(first));
    expect(Object.keys(firstPrimer.latency!)).toEqual(Object.keys(first.latency!));
    expect(Object.keys(firstPrimer.allocation)).toEqual(Object.keys(first.allocation));
    expect(Object.keys(firstPrimer.reserved!)).toEqual(Object.keys(first.reserved!));
  });

  it('hold a fraction in every number field', () => {
    for (const s of samplePrimers) {
      const numbers = [...Object.values(s), ...Object.values(s.latency ?? {})].filter((v) => typeof v === 'number');
      expect(numbers.length).toBeGreaterThan(10);
      for (const v of numbers) expect(Number.isInteger(v)).toBe(false);
    }
  });
});
