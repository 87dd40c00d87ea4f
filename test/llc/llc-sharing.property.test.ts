// The fast model's natural partition: whatever the access rates and the warm
// start, tasks that do not all fit fill exactly the ways they share, a task
// that accesses faster never holds less, and the eviction time found does not
// depend on the hint it started from.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { solveLlcSharing, type LlcFastTask } from '../../sim/llc/llc-fast-model.js';
import { profileFor } from '../../sim/llc/profile-cache.js';
import type { PatternSpec } from '../../sim/workloads/kernel.js';

const MiB = 1024 * 1024;
const WAYS = 16;
const SETS = (4 * MiB) / 64 / WAYS;
const patterns: PatternSpec[] = [
  { kind: 'zipf', workingSetBytes: 3 * MiB, alpha: 0.8 },
  { kind: 'zipf', workingSetBytes: 6 * MiB, alpha: 1.1 },
  { kind: 'uniform', workingSetBytes: 2 * MiB },
  { kind: 'uniform', workingSetBytes: 12 * MiB },
  { kind: 'sequential', workingSetBytes: 32 * MiB },
];
const profiles = patterns.map((p) => profileFor(p, 64, SETS, WAYS));

const mix = fc.array(fc.record({ profile: fc.integer({ min: 0, max: profiles.length - 1 }), rate: fc.double({ min: 1e5, max: 1e9, noNaN: true }) }), { minLength: 2, maxLength: 12 });
const toTasks = (m: { profile: number; rate: number }[]): LlcFastTask[] => m.map((x) => ({ profile: profiles[x.profile], accessesPerSec: x.rate, mask: 0 }));
const sum = (xs: ArrayLike<number>) => Array.from(xs).reduce((s, x) => s + x, 0);

describe('LLC sharing (fast model)', () => {
  it('tasks that do not all fit fill the cache; the answer does not depend on the warm start', () => {
    fc.assert(
      fc.property(mix, fc.double({ min: 1e-9, max: 10, noNaN: true }), (m, hint) => {
        const tasks = toTasks(m);
        const cold = solveLlcSharing(WAYS, tasks);
        const warm = solveLlcSharing(WAYS, tasks, hint);
        if (sum(tasks.map((t) => t.profile.linesPerSet)) > WAYS) expect(sum(cold.occupancyWays)).toBeCloseTo(WAYS, 2);
        else expect(cold.rootEvictionTime).toBe(Infinity);
        expect(warm.rootEvictionTime === Infinity).toBe(cold.rootEvictionTime === Infinity);
        if (Number.isFinite(cold.rootEvictionTime)) expect(Math.abs(warm.rootEvictionTime / cold.rootEvictionTime - 1)).toBeLessThan(2e-4);
        warm.occupancyWays.forEach((o, i) => expect(o).toBeCloseTo(cold.occupancyWays[i], 2));
      }),
      { numRuns: 60 },
    );
  });

  it('with one mask for all, the shortcut gives exactly what the water-filling does', () => {
    fc.assert(
      fc.property(mix, fc.integer({ min: 1, max: (1 << WAYS) - 2 }), (m, otherMask) => {
        const tasks = toTasks(m);
        const shortcut = solveLlcSharing(WAYS, tasks);
        // an idle task confined elsewhere holds nothing and leaves the others
        // alone, but makes the masks differ, so the general water-filling runs
        const general = solveLlcSharing(WAYS, [...tasks, { profile: profiles[0], accessesPerSec: 0, mask: otherMask }]);
        expect(Array.from(general.occupancyWays.subarray(0, tasks.length))).toEqual(Array.from(shortcut.occupancyWays));
        expect(Array.from(general.missRatio.subarray(0, tasks.length))).toEqual(Array.from(shortcut.missRatio));
        expect(general.rootEvictionTime).toBe(shortcut.rootEvictionTime);
      }),
      { numRuns: 60 },
    );
  });

  it('a task given with its number of copies shares the cache as the copies listed one by one', () => {
    const masks = [0, 0x00ff, 0xff00, 0x000f, 0x0fff];
    const copiesMix = fc.array(fc.record({ profile: fc.integer({ min: 0, max: profiles.length - 1 }), rate: fc.double({ min: 1e5, max: 1e9, noNaN: true }), mask: fc.constantFrom(...masks), copies: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(copiesMix, (m) => {
        const sets: LlcFastTask[] = m.map((x) => ({ profile: profiles[x.profile], accessesPerSec: x.rate, mask: x.mask, copies: x.copies }));
        const setOf: number[] = [];
        const listed: LlcFastTask[] = m.flatMap((x, j) => Array.from({ length: x.copies }, () => (setOf.push(j), { profile: profiles[x.profile], accessesPerSec: x.rate, mask: x.mask })));
        const grouped = solveLlcSharing(WAYS, sets);
        const each = solveLlcSharing(WAYS, listed);
        listed.forEach((_, i) => {
          expect(Math.abs(grouped.occupancyWays[setOf[i]] - each.occupancyWays[i]), `task ${i} ways`).toBeLessThan(2e-3);
          expect(Math.abs(grouped.missRatio[setOf[i]] - each.missRatio[i]), `task ${i} miss`).toBeLessThan(1e-3);
        });
        // (and a set's copies fill what the listed copies fill)
        expect(sum(sets.map((t, j) => t.copies! * grouped.occupancyWays[j]))).toBeCloseTo(sum(each.occupancyWays), 2);
      }),
      { numRuns: 80, seed: 27 },
    );
  });

  it('a task that accesses faster holds no less of the cache', () => {
    fc.assert(
      fc.property(mix, fc.double({ min: 1.1, max: 20, noNaN: true }), (m, factor) => {
        const before = solveLlcSharing(WAYS, toTasks(m));
        const faster = toTasks(m);
        faster[0].accessesPerSec *= factor;
        const after = solveLlcSharing(WAYS, faster);
        expect(after.occupancyWays[0]).toBeGreaterThanOrEqual(before.occupancyWays[0] - 1e-3);
      }),
      { numRuns: 60 },
    );
  });
});
