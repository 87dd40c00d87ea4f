// The host runner's CPU mirrored into the simulator (experiments/compare/runner-load.ts
// and SimPlatformOptions.backgroundLoad): which host run each simulated run takes
// it from, and that a job on a core with that load gets correspondingly less CPU.
import { describe, expect, it } from 'vitest';
import { aloneTaskOf, runnerLoadFor } from '../../experiments/compare/runner-load.js';
import type { CompareRunRecord } from '../../experiments/compare/compare-report.js';
import { makePlatform, runFor, smallScenario } from '../sim/helpers.js';

const hostRun = (label: string, seed: number, runnerCores: number, runnerWakeupsPerSec?: number): CompareRunRecord =>
  ({ side: 'host', label, seed, hostLoad: { busyCores: 1, taskCores: 0.7, runnerCores, ...(runnerWakeupsPerSec !== undefined ? { runnerWakeupsPerSec } : {}), otherCores: 0, stealCores: 0 } }) as unknown as CompareRunRecord;

describe('runner load for the simulated runs', () => {
  const hostRuns = [hostRun('alone-kv', 1, 0.2), hostRun('alone-be', 1, 0.05), hostRun('alone-kv', 2, 0.3), hostRun('alone-be', 2, 0.1), hostRun('static', 1, 0.9)];
  const o = { fcIds: ['kv'], beIds: ['be'], seed0: 1, simCores: [1], hostRuns };

  it('an alone run takes the host alone run of its task and seed; a fitting run takes the first seed', () => {
    expect(runnerLoadFor('alone-kv', 2, o)).toEqual({ load: [{ core: 1, cores: 0.3, wakeupsPerSec: 0 }], cores: 0.3, wakeupsPerSec: 0 });
    expect(runnerLoadFor('alone-be', 1, o)!.cores).toBe(0.05);
    expect(runnerLoadFor('alone-kv-fit3', 2, o)!.cores).toBe(0.2);
    expect(runnerLoadFor('alone-be-preset', 2, o)!.cores).toBe(0.05);
  });

  it("a co-located run is the control loop (the jobs' alone runs) plus each load generator's extra, never the co-located host run", () => {
    // seed 2: 0.1 + (0.3 - 0.1); the host's own co-located figure (0.9 on seed 1) is not used
    expect(runnerLoadFor('static', 2, o)!.cores).toBeCloseTo(0.3, 12);
    expect(runnerLoadFor('static', 1, o)!.cores).toBeCloseTo(0.2, 12);
    // spread evenly over the runner's cores
    expect(runnerLoadFor('shadow', 1, { ...o, simCores: [0, 1] })!.load).toEqual([
      { core: 0, cores: 0.1, wakeupsPerSec: 0 },
      { core: 1, cores: 0.1, wakeupsPerSec: 0 },
    ]);
    // a service without its alone host run: nothing to mirror
    expect(runnerLoadFor('static', 1, { ...o, fcIds: ['kv', 'web'] })).toBeNull();
  });

  it("composes the runner's wake-ups as its CPU: the control loop's plus each load generator's extra", () => {
    const runs = [hostRun('alone-kv', 1, 0.2, 8100), hostRun('alone-be', 1, 0.05, 300), hostRun('alone-kv', 2, 0.3, 7900), hostRun('alone-be', 2, 0.1, 500)];
    const w = { ...o, hostRuns: runs };
    expect(runnerLoadFor('alone-kv', 2, w)!.wakeupsPerSec).toBe(7900);
    expect(runnerLoadFor('alone-kv-fit1', 2, w)!.wakeupsPerSec).toBe(8100);
    // seed 2: 500 + (7900 - 500), spread over two cores
    const co = runnerLoadFor('static', 2, { ...w, simCores: [0, 1] })!;
    expect(co.wakeupsPerSec).toBeCloseTo(7900, 9);
    expect(co.load.map((l) => l.wakeupsPerSec)).toEqual([3950, 3950]);
  });

  it('labels map to their task only exactly (ids with dashes and regex characters too)', () => {
    const ids = ['be01-chase', 'a.b', 'kv'];
    expect(aloneTaskOf('alone-be01-chase-fit12', ids)).toBe('be01-chase');
    expect(aloneTaskOf('alone-a.b-preset', ids)).toBe('a.b');
    expect(aloneTaskOf('alone-axb', ids)).toBeNull();
    expect(aloneTaskOf('shadow', ids)).toBeNull();
  });
});

describe('SimPlatform background load', () => {
  /** CPU (cores) the two jobs on cores 5-7 get over 200 ms, with this background load and machine.cores fields. */
  const jobsCpu = async (backgroundLoad?: { core: number; cores: number; wakeupsPerSec?: number }[], cores: Record<string, number> = {}) => {
    const machine = { cores: { count: 8, ...cores }, llc: { sizeBytes: '8 MiB', ways: 16 } };
    const p = await makePlatform(smallScenario({ machine }, '5-7'), backgroundLoad ? { backgroundLoad } : {});
    const snaps = runFor(p, 200);
    const last = snaps[snaps.length - 1];
    const first = snaps[0];
    const cpu = (id: string) => (last.tasks.find((t) => t.id === id)!.cpuTimeNs - first.tasks.find((t) => t.id === id)!.cpuTimeNs) / (last.timeNs - first.timeNs);
    return cpu('thrash') + cpu('stream');
  };
  const onJobCores = (cores: number, wakeupsPerSec?: number) => [5, 6, 7].map((core) => ({ core, cores, ...(wakeupsPerSec !== undefined ? { wakeupsPerSec } : {}) }));

  it('takes CPU from the jobs on its cores like a runnable thread of that weight, and is checked', async () => {
    const none = await jobsCpu();
    // the jobs' four threads share cores 5-7; a whole runnable thread's worth on each takes a share of each core
    const loaded = await jobsCpu(onJobCores(1));
    expect(none).toBeGreaterThan(2.9);
    expect(loaded / none).toBeGreaterThan(0.5);
    expect(loaded / none).toBeLessThan(0.85);
    await expect(makePlatform(smallScenario(), { backgroundLoad: [{ core: 8, cores: 0.2 }] })).rejects.toThrow(/core 8/);
    await expect(makePlatform(smallScenario(), { backgroundLoad: [{ core: 1, cores: 0.2, wakeupsPerSec: -5 }] })).rejects.toThrow(/wake-ups/);
  });

  it("charges each of its wake-ups the machine's cores.wakeupCostNs on top of its CPU, and nothing where the machine has none", async () => {
    const cpuOnly = await jobsCpu(onJobCores(0.1, 8000));
    expect(await jobsCpu(onJobCores(0.1, 8000), { wakeupCostNs: 0 })).toBe(cpuOnly);
    expect(await jobsCpu(onJobCores(0.1, 0), { wakeupCostNs: 20_000 })).toBe(cpuOnly);
    // 8000 wake-ups of 20 us: 0.16 cores' worth more on each core than the 0.1 of CPU
    const withCost = await jobsCpu(onJobCores(0.1, 8000), { wakeupCostNs: 20_000 });
    expect(withCost).toBeLessThan(cpuOnly * 0.95);
    expect(withCost).toBeCloseTo(await jobsCpu(onJobCores(0.26)), 6);
  });
});
