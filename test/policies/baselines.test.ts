// The baselines behave as the systems they stand for, on the fake platform.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createPolicy } from '../../policies/registry.js';
import { DecayingHistogram } from '../../policies/baselines/percentile.js';
import { UnsupportedError } from '../../util/errors.js';
import { FakePlatform, type FakeTaskSpec } from './fake-platform.js';
import { runLoop } from './scenarios.js';

const P = 10_000_000;
const lc = (id: string, rps: (t: number) => number, costUs = 200, slo = 4_000_000): FakeTaskSpec => ({ id, cls: 'first', sloP99Ns: slo, demand: (t) => ({ cpu: rps(t) * costUs * 1e-6, rps: rps(t), memBw: 1e9, occBytes: 4 << 20, io: 0 }) });
const be = (id: string, cpu = 2, bw = 8e9): FakeTaskSpec => ({ id, cls: 'second', demand: () => ({ cpu, memBw: cpu * bw, occBytes: 16 << 20, io: 0 }) });
const platform = (tasks: FakeTaskSpec[], futureTicks = 0) => new FakePlatform({ cores: 12, ways: 16, colours: 32, wayBytes: 2 << 20, periodNs: P, tasks, futureTicks });

describe('static partition', () => {
  it('gives first-class work a fixed even share and never changes it', () => {
    const p = platform([lc('a', (t) => (t < 20 ? 2000 : 30000)), lc('b', () => 3000), be('x')]);
    const recs = runLoop(p, createPolicy('static', { firstClassShare: 0.5 }), 40);
    const a = recs.map((r) => r.after.get('a')!.rCores.length);
    expect(new Set(a)).toEqual(new Set([3]));
    expect(recs.slice(1).every((r) => r.actions.length === 0)).toBe(true);
    expect(p.exclusive('b').ways).toBe(4);
  });
});

describe('reactive (Heracles / PARTIES style)', () => {
  it('upsizes a task missing its SLO and disables second-class work, then re-enables it once slack is back', () => {
    // heavy load from tick 10 to 30
    const p = platform([lc('a', (t) => (t >= 10 && t < 30 ? 25000 : 2000)), be('x')]);
    const recs = runLoop(p, createPolicy('reactive'), 70);
    const coresAt = (t: number) => recs[t].after.get('a')!.rCores.length;
    expect(coresAt(29)).toBeGreaterThan(coresAt(9));
    expect(recs.slice(10, 30).some((r) => r.after.get('x')!.paused)).toBe(true);
    expect(recs[69].after.get('x')!.paused).toBe(false);
    expect(coresAt(69)).toBeLessThan(coresAt(29)); // downsized again once idle
  });

  it('reacts only after the SLO is missed: it has no lead time', () => {
    const p = platform([lc('a', (t) => (t >= 10 ? 25000 : 2000)), be('x')]);
    const recs = runLoop(p, createPolicy('reactive'), 20);
    expect(recs[9].after.get('a')!.rCores.length).toBe(recs[5].after.get('a')!.rCores.length);
  });
});

describe('percentile (VPA style)', () => {
  it('decaying histogram percentiles match a brute-force weighted quantile up to one bucket', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.01, max: 20, noNaN: true }), { minLength: 1, maxLength: 200 }), fc.double({ min: 0.05, max: 0.95, noNaN: true }), (xs, q) => {
        const h = new DecayingHistogram(0.01, 1.05, () => 50 * P);
        xs.forEach((x, i) => h.add(x, i * P));
        const w = xs.map((x, i) => ({ x, w: Math.pow(2, (i * P) / (50 * P)) }));
        const total = w.reduce((s, e) => s + e.w, 0);
        w.sort((a, b) => a.x - b.x);
        let acc = 0;
        let exact = w[w.length - 1].x;
        for (const e of w) {
          acc += e.w;
          if (acc >= q * total) {
            exact = e.x;
            break;
          }
        }
        const got = h.percentile(q);
        expect(got).toBeGreaterThanOrEqual(exact * 0.999);
        expect(got).toBeLessThanOrEqual(exact * 1.05 + 0.01 + 1e-9);
      }),
      { seed: 31, numRuns: 300 },
    );
  });

  it('recommends the usage p90 plus 15%, and holds it while usage stays within its bounds', () => {
    const p = platform([lc('a', () => 12000), be('x', 1)]);
    const recs = runLoop(p, createPolicy('percentile', { intervalNs: 5 * P }), 60);
    const held = recs[59].after.get('a')!.rCores.length;
    // steady usage (the fake platform slows the service a little under second-class memory traffic)
    const usage = recs.slice(20).map((r) => r.snapshot.tasks.find((t) => t.id === 'a')!.cpuCores);
    const u = Math.max(...usage);
    expect(Math.min(...usage)).toBeGreaterThan(0.95 * u);
    // p90 + 15%, rounded up to whole cores; the histogram's bucket bound adds at most 5%
    expect(held).toBeGreaterThanOrEqual(Math.ceil(u * 1.15 - 1e-9));
    expect(held).toBeLessThanOrEqual(Math.ceil(u * 1.15 * 1.05 + 0.01));
    expect(held).toBeLessThan(12);
    const changes = recs.slice(30).filter((r) => r.actions.some((a) => a.task === 'a')).length;
    expect(changes).toBe(0);
  });
});

describe('oracle', () => {
  it('needs Snapshot.future and says so', () => {
    const p = platform([lc('a', () => 2000), be('x')]);
    expect(() => runLoop(p, createPolicy('oracle'), 2)).toThrow(UnsupportedError);
  });

  it('holds what the true future peak needs, ahead of it', () => {
    const p = platform([lc('a', (t) => (t >= 20 ? 25000 : 2000)), be('x')], 3);
    const recs = runLoop(p, createPolicy('oracle'), 30);
    // the step at tick 20 is visible from tick 17 on
    expect(recs[17].after.get('a')!.rCores.length).toBeGreaterThan(recs[15].after.get('a')!.rCores.length);
  });
});
