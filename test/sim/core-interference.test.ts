// Core interference (machine cores.interference): cores of one group slow each
// other's instructions while busy; off, the simulator is unchanged.
import { describe, expect, it } from 'vitest';
import { parseMachineDescription } from '../../sim/machine/machine-description.js';
import { InputError } from '../../util/errors.js';
import { makePlatform, runFor } from './helpers.js';

type Snaps = ReturnType<typeof runFor>;

/** kv on core 0 of a 4-core machine, a compute-bound job on `jobCore` (or none). */
function scenario(interference: unknown, jobCore: number | null, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const cores: Record<string, unknown> = { count: 4 };
  if (interference !== undefined) cores.interference = interference;
  const tasks: unknown[] = [{ id: 'kv', class: 'first', kernel: 'kv', sloP99Ms: 1, load: { constant: 8000 }, cores: [0] }];
  if (jobCore !== null) tasks.push({ id: 'job', class: 'second', kernel: 'compute', threads: 1, cores: [jobCore], ...extra });
  return { machine: { cores, llc: { sizeBytes: '8 MiB', ways: 16 } }, tasks };
}

/** Cycles per instruction of a task over the windows after the first 100 ms. */
function cpi(snaps: Snaps, id: string): number {
  const from = snaps.find((s) => s.timeNs >= 100e6)!.tasks.find((t) => t.id === id)!;
  const to = snaps[snaps.length - 1].tasks.find((t) => t.id === id)!;
  return (to.cycles - from.cycles) / (to.instructions - from.instructions);
}

function meanP50(snaps: Snaps, id: string): number {
  const xs = snaps.filter((s) => s.timeNs > 100e6).map((s) => s.tasks.find((t) => t.id === id)!.latency!.p50Ns);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

async function run(raw: Record<string, unknown>, ms = 400): Promise<Snaps> {
  return runFor(await makePlatform(raw, { seed: 3 }), ms);
}

describe('core interference', () => {
  it('off (absent, zero slowdown, or groups of idle cores only) gives byte-identical snapshots', async () => {
    const absent = JSON.stringify(await run(scenario(undefined, 1)));
    const zero = JSON.stringify(await run(scenario({ groups: [[0, 1]], computeSlowdown: 0 }, 1)));
    const idle = JSON.stringify(await run(scenario({ groups: [[2, 3]], computeSlowdown: 0.5 }, 1)));
    expect(zero).toBe(absent);
    expect(idle).toBe(absent);
    // and the field is in force when its group is busy
    const on = JSON.stringify(await run(scenario({ groups: [[0, 1]], computeSlowdown: 0.5 }, 1)));
    expect(on).not.toBe(absent);
  });

  it('a service slows when a compute job runs on its sibling core, not when the job runs on an unrelated core', async () => {
    const slowdown = 0.4;
    const groups = { groups: [[0, 1], [2, 3]], computeSlowdown: slowdown };
    const off = await run(scenario(undefined, 2));
    const sibling = await run(scenario(groups, 1));
    const unrelated = await run(scenario(groups, 2));
    // the compute job keeps core 1 fully busy: the service's CPI grows by the whole slowdown
    // (against the same job on an unrelated core, which shares only the LLC and DRAM with it)
    expect(cpi(sibling, 'kv') / cpi(unrelated, 'kv')).toBeCloseTo(1 + slowdown, 2);
    // on an unrelated core the job costs the service exactly what it does without the model
    expect(cpi(unrelated, 'kv')).toBe(cpi(off, 'kv'));
    expect(JSON.stringify(unrelated)).toBe(JSON.stringify(off));
    // and the service's requests take longer
    expect(meanP50(sibling, 'kv')).toBeGreaterThan(meanP50(unrelated, 'kv') * 1.2);
    // the job is slowed only while the service's worker keeps core 0 busy (a fraction of the time)
    const jobCpi = cpi(sibling, 'job') / cpi(unrelated, 'job');
    const kvBusy = sibling.filter((s) => s.timeNs > 100e6).map((s) => s.tasks.find((t) => t.id === 'kv')!.cpuCores);
    const meanBusy = kvBusy.reduce((a, b) => a + b, 0) / kvBusy.length;
    expect(jobCpi).toBeGreaterThan(1 + slowdown * meanBusy * 0.7);
    expect(jobCpi).toBeLessThan(1 + slowdown * meanBusy * 1.3);
  });

  it('scales with how busy the sibling is: a job throttled to half its core costs half the slowdown', async () => {
    const throttled = async (computeSlowdown: number) => {
      const p = await makePlatform(scenario({ groups: [[0, 1]], computeSlowdown }, 1), { seed: 3 });
      expect(p.apply([{ kind: 'throttle', task: 'job', cpuPct: 50 }]).refused).toEqual([]);
      return p;
    };
    const base = await throttled(0);
    const half = await throttled(0.6);
    expect(cpi(runFor(half, 400), 'kv') / cpi(runFor(base, 400), 'kv')).toBeCloseTo(1 + 0.6 * 0.5, 2);
    // pausing the sibling's job removes the slowdown
    half.apply([{ kind: 'pause', task: 'job' }]);
    base.apply([{ kind: 'pause', task: 'job' }]);
    expect(cpi(runFor(half, 400), 'kv') / cpi(runFor(base, 400), 'kv')).toBeCloseTo(1, 3);
  });

  const bad: [string, unknown, RegExp][] = [
    ['a core that does not exist', { groups: [[0, 4]], computeSlowdown: 0.2 }, /cores\.interference\.groups\[0\]\[1\].*core 4 does not exist on a 4-core machine/],
    ['a core in two groups', { groups: [[0, 1], [2, 1]], computeSlowdown: 0.2 }, /cores\.interference\.groups\[1\]\[1\].*already in group 0/],
    ['a core twice in one group', { groups: [[0, 0]], computeSlowdown: 0.2 }, /groups\[0\]\[1\].*listed twice/],
    ['a group of one core', { groups: [[3]], computeSlowdown: 0.2 }, /cores\.interference\.groups\[0\].*at least two cores/],
    ['a negative slowdown', { groups: [[0, 1]], computeSlowdown: -0.1 }, /cores\.interference\.computeSlowdown.*>= 0/],
    ['a missing slowdown', { groups: [[0, 1]] }, /cores\.interference\.computeSlowdown/],
    ['an unknown field', { groups: [[0, 1]], computeSlowdown: 0.1, memorySlowdown: 0.2 }, /cores\.interference/],
  ];
  for (const [what, interference, re] of bad) {
    it(`rejects ${what}, naming the field`, () => {
      let err: unknown;
      try {
        parseMachineDescription({ cores: { count: 4, interference } }, 'm.yaml');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(/^m\.yaml/);
      expect((err as Error).message).toMatch(re);
    });
  }
});
