import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Action, Snapshot } from '../../policies/platform.js';
import { makePlatform, smallScenario } from './helpers.js';
import { ddr4PeakBytesPerSec } from '../../sim/dram/dram-config.js';

const tasks = ['kv', 'thrash', 'stream', 'ghost'];
const coresArb = fc.uniqueArray(fc.integer({ min: 0, max: 8 }), { minLength: 0, maxLength: 4 });
const maskArb = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 1, max: 16 })).map(([f, n]) => (((1 << Math.min(n, 16 - f)) - 1) << f) >>> 0),
  fc.integer({ min: 0, max: 0x1ffff }),
);
const grantArb = fc.oneof(
  coresArb.map((cores) => ({ resource: 'cores' as const, cores })),
  maskArb.map((mask) => ({ resource: 'cacheWays' as const, mask })),
  fc.uniqueArray(fc.integer({ min: 0, max: 70 }), { maxLength: 4 }).map((colours) => ({ resource: 'bankColours' as const, colours })),
  fc.integer({ min: 0, max: 120 }).map((pct) => ({ resource: 'memBandwidthPct' as const, pct })),
);
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('setCores' as const), task: fc.constantFrom(...tasks), cores: coresArb }),
  fc.record({ kind: fc.constant('migrate' as const), task: fc.constantFrom(...tasks), cores: coresArb }),
  fc.record({ kind: fc.constant('setCacheWays' as const), task: fc.constantFrom(...tasks), mask: maskArb }),
  fc.record({ kind: fc.constant('setMemBandwidth' as const), task: fc.constantFrom(...tasks), pct: fc.integer({ min: 0, max: 110 }) }),
  fc.record({ kind: fc.constant('throttle' as const), task: fc.constantFrom(...tasks), cpuPct: fc.integer({ min: -5, max: 110 }) }),
  fc.record({ kind: fc.constantFrom('pause' as const, 'resume' as const), task: fc.constantFrom(...tasks) }),
  fc.record({ kind: fc.constantFrom('reserve' as const, 'release' as const), task: fc.constantFrom(...tasks), grant: grantArb }),
  fc.record({ kind: fc.constant('warm' as const), task: fc.constantFrom(...tasks), resource: fc.constantFrom('cores' as const, 'cacheWays' as const), budgetNs: fc.integer({ min: 1, max: 5e6 }) }),
  fc.record({ kind: fc.constant('echo' as const), task: fc.constantFrom(...tasks), durationNs: fc.integer({ min: 1e5, max: 2e7 }) }),
) as fc.Arbitrary<Action>;

function checkInvariants(s: Snapshot, ways: number): void {
  const full = (1 << ways) - 1;
  for (const t of s.tasks) {
    expect(t.allocation.cores.length).toBeGreaterThan(0);
    const m = t.allocation.cacheWayMask;
    if (m !== 0) {
      expect(m & ~full).toBe(0);
      expect(((m + (m & -m)) & m) === 0).toBe(true); // contiguous
    }
    for (const o of s.tasks) {
      if (o === t) continue;
      for (const c of t.reserved.cores) {
        expect(o.reserved.cores).not.toContain(c);
        expect(o.allocation.cores).not.toContain(c);
      }
      expect(t.reserved.cacheWayMask & o.reserved.cacheWayMask).toBe(0);
      expect(t.reserved.cacheWayMask & o.allocation.cacheWayMask).toBe(0);
      for (const c of t.reserved.bankColours) expect(o.reserved.bankColours).not.toContain(c);
    }
  }
  const reservedBw = s.tasks.reduce((x, t) => x + t.reserved.memBandwidthPct, 0);
  expect(reservedBw).toBeLessThanOrEqual(100);
  for (const c of s.free.cores) for (const t of s.tasks) expect([...t.allocation.cores, ...t.reserved.cores]).not.toContain(c);
}

describe('SimPlatform under random actions', () => {
  it('keeps ownership rules, refuses atomically, and never exceeds the memory peak', async () => {
    const peak = ddr4PeakBytesPerSec((await import('../../sim/machine/machine-description.js')).defaultMachine().dram);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(actionArb, { maxLength: 6 }), { minLength: 1, maxLength: 8 }), async (batches) => {
        const p = await makePlatform(smallScenario({}, '5-7'));
        let t = 0;
        for (const batch of batches) {
          const before = JSON.stringify(p.observe().tasks.map((x) => [x.id, x.allocation, x.reserved]));
          const r = p.apply(batch);
          expect(r.applied.length + r.refused.length).toBe(batch.length);
          for (const x of r.refused) expect(x.reason.length).toBeGreaterThan(5);
          if (r.applied.length === 0) expect(JSON.stringify(p.observe().tasks.map((x) => [x.id, x.allocation, x.reserved]))).toBe(before);
          t += 5e6;
          p.advance(t);
          const s = p.observe();
          checkInvariants(s, 16);
          const bw = s.tasks.reduce((x, k) => x + (k.memBandwidthBytesPerSec ?? 0), 0);
          expect(bw).toBeLessThanOrEqual(peak * 1.001);
        }
      }),
      { numRuns: 60 },
    );
  });
});
