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

/** Per-task miss ratios of the same scenario in exact and fast LLC mode, measured from snapshot `from` to the end of `ms`. */
async function bothModes(raw: (llcMode: 'exact' | 'fast') => Record<string, unknown>, ms: number, from: number): Promise<{ exact: Record<string, number>; fast: Record<string, number> }> {
  const run = async (llcMode: 'exact' | 'fast') => {
    const snaps = runFor(await makePlatform(raw(llcMode)), ms);
    return missRatios(snaps[from], snaps[snaps.length - 1]);
  };
  return { exact: await run('exact'), fast: await run('fast') };
}

function expectWithinPoints(exact: Record<string, number>, fast: Record<string, number>, points: number): void {
  for (const id of Object.keys(exact)) {
    expect(Math.abs(exact[id] - fast[id]) * 100, `${id}: exact ${(exact[id] * 100).toFixed(2)}% fast ${(fast[id] * 100).toFixed(2)}%`).toBeLessThanOrEqual(points);
  }
}

describe('the whole machine in exact and fast LLC mode', () => {
  // The LLC model itself agrees within 3 points at steady access rates (test/llc,
  // umbra llc-validate). On the whole machine a first-class service's access
  // rate follows its request bursts, which the exact cache sees and the fast
  // model averages over a quantum. Measured here (2026-11-24): with a steady
  // load kv misses 1.9 points more in fast mode and thrash 1.2; the bound
  // allows for that, not much more.
  it('per-task miss ratios agree within 5 percentage points in steady state', async () => {
    // steady state: the cold cache has filled long before 150 ms; measure over the next 250 ms
    const { exact, fast } = await bothModes((llcMode) => smallScenario({ llcMode }), 400, 14);
    expectWithinPoints(exact, fast, 5);
    // the check has teeth: the tasks differ a lot from each other
    expect(Math.max(...Object.values(exact)) - Math.min(...Object.values(exact))).toBeGreaterThan(0.3);
  }, 120_000);

  // A load that jumps 5x every 30 ms: after each rise the service's cache
  // share refills within a few ms, which the fast model charges averaged over
  // the quantum (contention.ts, averagedColdMissRatio). Measured here: kv
  // misses 3.7 points more on the exact cache, the others agree within 1.
  it('per-task miss ratios agree within 5 percentage points under a load that jumps every 30 ms', async () => {
    const bursty = (llcMode: 'exact' | 'fast') => {
      const raw = smallScenario({ llcMode });
      (raw.tasks as Record<string, unknown>[])[0].load = { phases: [{ ms: 30, value: 4000 }, { ms: 30, value: 20000 }] };
      return raw;
    };
    const { exact, fast } = await bothModes(bursty, 600, 19);
    expectWithinPoints(exact, fast, 5);
  }, 120_000);
});
