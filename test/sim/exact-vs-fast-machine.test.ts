import { describe, expect, it } from 'vitest';
import { makePlatform, runFor, smallScenario } from './helpers.js';

/** Miss ratio of each task over the last `ms` of a run. */
function missRatios(snapsBefore: ReturnType<typeof runFor>[number], snapsAfter: ReturnType<typeof runFor>[number]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of snapsAfter.tasks) {
    const b = snapsBefore.tasks.find((x) => x.id === t.id)!;
    out[t.id] = (t.llcMisses! - b.llcMisses!) / Math.max(1, t.llcAccesses! - b.llcAccesses!);
  }
  return out;
}

describe('the whole machine in exact and fast LLC mode', () => {
  // The LLC model itself agrees within 3 points at steady access rates (test/llc,
  // umbra llc-validate). On the whole machine a first-class service's access
  // rate follows its request bursts, which the exact cache sees and the fast
  // model averages over a quantum: measured here, the bursty kv service misses
  // 3-4 points more on the exact cache. The bound allows for that, not more.
  it('per-task miss ratios agree within 5 percentage points in steady state', async () => {
    const run = async (llcMode: 'exact' | 'fast') => {
      const p = await makePlatform(smallScenario({ llcMode }));
      // steady state: the cold cache has filled long before 150 ms; measure over the next 250 ms
      const snaps = runFor(p, 400);
      return missRatios(snaps[14], snaps[snaps.length - 1]);
    };
    const exact = await run('exact');
    const fast = await run('fast');
    for (const id of Object.keys(exact)) {
      expect(Math.abs(exact[id] - fast[id]) * 100, `${id}: exact ${(exact[id] * 100).toFixed(2)}% fast ${(fast[id] * 100).toFixed(2)}%`).toBeLessThanOrEqual(5);
    }
    // the check has teeth: the tasks differ a lot from each other
    expect(Math.max(...Object.values(exact)) - Math.min(...Object.values(exact))).toBeGreaterThan(0.3);
  }, 120_000);

  // A load that jumps 5x every 30 ms: after each rise the service's cache
  // share refills within a few ms, which the fast model charges averaged over
  // the quantum (contention.ts, averagedColdMissRatio). Measured here: kv
  // misses 3.7 points more on the exact cache, the others agree within 1.
  it('per-task miss ratios agree within 5 percentage points under a load that jumps every 30 ms', async () => {
    const run = async (llcMode: 'exact' | 'fast') => {
      const raw = smallScenario({ llcMode });
      (raw.tasks as Record<string, unknown>[])[0].load = { phases: [{ ms: 30, value: 4000 }, { ms: 30, value: 20000 }] };
      const p = await makePlatform(raw);
      const snaps = runFor(p, 600);
      return missRatios(snaps[19], snaps[snaps.length - 1]);
    };
    const exact = await run('exact');
    const fast = await run('fast');
    for (const id of Object.keys(exact)) {
      expect(Math.abs(exact[id] - fast[id]) * 100, `${id}: exact ${(exact[id] * 100).toFixed(2)}% fast ${(fast[id] * 100).toFixed(2)}%`).toBeLessThanOrEqual(5);
    }
  }, 120_000);
});
