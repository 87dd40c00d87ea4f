// A simulator scenario on a host: which real workload runs each task, the
// request rate following the load profile, cores and workers scaled to the
// host, and refusals naming the field.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resolveScenario, type ResolvedScenario } from '../../sim/platform/resolve-scenario.js';
import { scenarioSchema } from '../../sim/platform/scenario.js';
import { HostMappingError, hostTasksForScenario, mapCores, rateSteps } from '../../runner/scenario/host-scenario.js';

async function resolve(raw: unknown): Promise<ResolvedScenario> {
  return resolveScenario(scenarioSchema.parse(raw), { baseDir: process.cwd(), seed: 1 });
}

const MACHINE_8C = { cores: { count: 8 } };

describe('scenario -> host tasks', () => {
  it('runs kv as redis under Poisson load, second-class kernels as stressors, scaled to the host', async () => {
    const s = await resolve({
      machine: MACHINE_8C,
      tasks: [
        { id: 'kv', class: 'first', kernel: 'kv', sloP99Ms: 2, cores: '0-1', load: { constant: 8000 } },
        { id: 's', class: 'second', kernel: 'stream', threads: 4, cores: '4-7' },
        { id: 't', class: 'second', kernel: 'thrash', threads: 2, cores: '2-3' },
        { id: 'c', class: 'second', kernel: 'compute', cores: '6' },
        { id: 'i', class: 'second', kernel: 'io', cores: '7' },
        { id: 'p', class: 'second', kernel: 'chase', cores: '5' },
      ],
    });
    const m = hostTasksForScenario(s, { hostCoreIds: [0, 1], durationNs: 1e9, stressors: 'builtin' });
    expect(m.rateScale).toBe(2 / 8);
    const kv = m.tasks[0];
    expect(kv).toMatchObject({ id: 'kv', class: 'first', sloP99Ns: 2e6, cores: [0] });
    expect(kv.workload).toMatchObject({ kind: 'redis', arrivals: { kind: 'poisson', ratePerSec: 2000 } });
    const kinds = Object.fromEntries(m.tasks.slice(1).map((t) => [t.id, t.workload.kind === 'stressor' ? t.workload.stressor : t.workload.kind]));
    expect(kinds).toEqual({ s: 'stream', t: 'cache', c: 'cpu', i: 'io', p: 'chase' });
    const stream = m.tasks.find((t) => t.id === 's')!;
    expect(stream.cores).toEqual([1]);
    expect(stream.workload).toMatchObject({ workers: 1, implementation: 'builtin', bytes: 256 * 1024 * 1024 });
    expect(m.tasks.find((t) => t.id === 't')!.cores).toEqual([0]);
    expect(m.notes).toHaveLength(6);
  });

  it('follows phases as rate steps and keeps an explicit rate scale', async () => {
    const s = await resolve({
      tasks: [{ id: 'kv', class: 'first', kernel: 'kv', sloP99Ms: 1, cores: [0], load: { phases: [{ ms: 100, value: 1000 }, { ms: 50, value: 3000 }] } }],
    });
    const m = hostTasksForScenario(s, { hostCoreIds: [3], durationNs: 400e6, rateScale: 1 });
    const w = m.tasks[0].workload;
    expect(m.tasks[0].cores).toEqual([3]);
    expect(w.kind === 'redis' && w.arrivals).toEqual({
      kind: 'trace',
      steps: [
        { startNs: 0, ratePerSec: 1000 },
        { startNs: 100e6, ratePerSec: 3000 },
        { startNs: 150e6, ratePerSec: 1000 },
        { startNs: 250e6, ratePerSec: 3000 },
        { startNs: 300e6, ratePerSec: 1000 },
      ],
    });
  });

  it('law: the rate steps offer what the profile offers over the run, times the scale', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ ms: fc.integer({ min: 1, max: 200 }), value: fc.integer({ min: 0, max: 50_000 }) }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 50, max: 2000 }),
        fc.double({ min: 0.1, max: 4, noNaN: true }),
        async (phases, durationMs, scale) => {
          const s = await resolve({ tasks: [{ id: 'kv', class: 'first', kernel: 'kv', sloP99Ms: 1, cores: [0], load: { phases } }] });
          const d = durationMs * 1e6;
          const steps = rateSteps(s.tasks[0], d, scale);
          let offered = 0;
          steps.forEach((st, i) => {
            const end = Math.min(d, i + 1 < steps.length ? steps[i + 1].startNs : d);
            offered += (st.ratePerSec * (end - st.startNs)) / 1e9;
          });
          const expected = (scale * s.tasks[0].load.meanOver(0, d) * d) / 1e9;
          expect(offered).toBeCloseTo(expected, 6);
          for (let i = 1; i < steps.length; i++) expect(steps[i].startNs).toBeGreaterThan(steps[i - 1].startNs);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('approximates a second-class job\'s runnable share by its worker count, and says so', async () => {
    const s = await resolve({ machine: { cores: { count: 2 } }, tasks: [{ id: 'b', class: 'second', kernel: 'compute', threads: 2, cores: '0-1', load: { constant: 0.5 } }] });
    const m = hostTasksForScenario(s, { hostCoreIds: [0, 1], durationNs: 1e9 });
    expect(m.tasks[0].workload).toMatchObject({ kind: 'stressor', workers: 1 });
    expect(m.notes[0]).toMatch(/approximated/);
  });

  it('refuses a first-class kernel with no real service, naming the task field', async () => {
    const s = await resolve({ tasks: [{ id: 'srch', class: 'first', kernel: 'search', sloP99Ms: 10, cores: [0], load: { constant: 100 } }] });
    let err: unknown;
    try {
      hostTasksForScenario(s, { hostCoreIds: [0], durationNs: 1e9 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HostMappingError);
    expect((err as HostMappingError).field).toEqual(['tasks', 0, 'kernel']);
    expect((err as Error).message).toMatch(/search.*no real service/);
  });

  it('law: mapped cores are host cores, in order, and every host core is reachable from a full machine', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.uniqueArray(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 16 }), (n, host) => {
        const all = mapCores(Array.from({ length: n }, (_, i) => i), n, host);
        for (const c of all) expect(host).toContain(c);
        if (n >= host.length) expect(new Set(all).size).toBe(host.length);
        const sorted = [...all].sort((a, b) => a - b);
        expect(all).toEqual(sorted);
      }),
    );
  });
});
