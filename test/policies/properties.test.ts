// Laws every policy must keep, over random task mixes (1–4 first-class
// services, 0–12 second-class jobs, tasks starting and exiting mid-run) and
// random demand sequences, on the fake platform (an independent
// implementation of the platform contract's rules):
//   - total allocation never exceeds capacity (no unit reserved twice, no
//     reserved unit in another task's set, reserved bandwidth <= 100%) and
//     the policy never issues an action the platform refuses;
//   - a first-class task never holds less than its guaranteed floor;
//   - no action names a task that does not exist;
//   - decide() is deterministic given its inputs;
//   - (shadow engine) reserved resources are released within grace + one
//     tick once demand stays below the allocation, and a quarantined task is
//     released once the predicted interference has passed (+ the lift delay).
// A failing case shrinks (fast-check) to a small JSON case; paste it into
// test/policies/cases/<name>.json and replay.test.ts runs it through the same
// checks. Seeds are fixed for reproducible runs; UMBRA_FC_SEED overrides.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { POLICY_NAMES } from '../../policies/registry.js';
import type { ShadowExplain } from '../../policies/shadow-policy.js';
import { caseArb, type Case } from './scenarios.js';
import { checkCase, held, run, SHADOW_FAMILY } from './laws.js';

const seed = process.env.UMBRA_FC_SEED ? Number(process.env.UMBRA_FC_SEED) : 20240611;

const RUNS: Record<string, number> = { shadow: 30, oracle: 20 };

describe('policy laws on random task mixes and demand sequences', () => {
  for (const name of POLICY_NAMES) {
    it(`${name}: capacity, floors, known tasks, determinism${SHADOW_FAMILY.has(name) ? ', release within grace, quarantine lifted' : ''}`, () => {
      fc.assert(
        fc.property(caseArb, (c) => {
          checkCase(name, c);
        }),
        { numRuns: RUNS[name] ?? 12, seed, endOnFailure: false },
      );
    });
  }
});

describe('the laws are not vacuous', () => {
  it('the shadow engine reserves, releases and quarantines on a busy case, and the release law had work to check', () => {
    const c: Case = {
      cores: 8,
      ways: 16,
      colours: 16,
      ticks: 80,
      periodMs: 10,
      first: [{ baseRps: 10000, costUs: 300, bwPerCoreGBs: 2, occMiB: 6, sloMs: 3, segments: [{ ticks: 15, level: 0.2 }, { ticks: 15, level: 1.2 }] }],
      second: [
        { cpu: 3, bwPerCoreGBs: 8, occMiB: 30, io: 0, segments: [{ ticks: 10, level: 1 }] },
        { cpu: 1, bwPerCoreGBs: 0.1, occMiB: 1, io: 0, segments: [{ ticks: 10, level: 1 }] },
      ],
      floorCores: [1],
      floorWays: [1],
    };
    const recs = run('shadow', c);
    const reservedCores = recs.map((r) => held(r.after.get('lc0')!, 'cores'));
    expect(Math.max(...reservedCores)).toBeGreaterThanOrEqual(3);
    expect(Math.min(...reservedCores.slice(20))).toBeLessThan(Math.max(...reservedCores.slice(20)));
    const quarantined = recs.some((r) => (r.explain as ShadowExplain).second.some((s) => s.level !== 'none'));
    expect(quarantined).toBe(true);
    expect(() => checkCase('shadow', c)).not.toThrow();
  });
});
