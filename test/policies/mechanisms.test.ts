// Shadow workload, quarantine (state machine and selection), echo planner,
// arbitration and the M/M/c sizing model, each on its own.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ShadowWorkload } from '../../policies/shadow-workload/shadow-workload.js';
import type { TaskShadow } from '../../policies/shadow/shadow.js';
import type { DemandKind, Prediction } from '../../policies/platform.js';
import type { DemandObservation } from '../../policies/shadow/observation.js';
import { profileScale, PARTITIONED_SHARING, F_MEMBW, F_CPU, F_READ } from '../../policies/interference/features.js';
import { QuarantineManager, type QuarantineLevel, type QuarantineWant } from '../../policies/quarantine/quarantine.js';
import { selectQuarantine, type SelectionOptions } from '../../policies/quarantine/selection.js';
import { FormulaPredictor } from '../../policies/interference/impl/formula.js';
import { EchoPlanner } from '../../policies/echo/echo.js';
import { arbitrate } from '../../policies/adjustment/arbitration.js';
import { coresForLatency, erlangC, mmcP99Ns } from '../../policies/adjustment/latency-model.js';
import { BENCH_CAPABILITIES } from '../../policies/bench/synthetic-world.js';

const P = 10_000_000;
const caps = BENCH_CAPABILITIES;
const scale = profileScale(caps);

/** A shadow whose predictions are given. */
function stubShadow(pred: Partial<Record<DemandKind, number>>, uncertainty = 0, realtime?: number): TaskShadow {
  return {
    task: 'lc0',
    taskClass: 'first',
    observe() {},
    applyEcho() {},
    predict: (k: DemandKind): Prediction | undefined => (pred[k] === undefined ? undefined : { mean: pred[k]! * 0.8, upper: pred[k]! }),
    last: (k: DemandKind) => pred[k],
    weights: () => undefined,
    realtimeWeight: () => realtime,
    uncertainty: () => uncertainty,
    echoStats: () => ({ applied: 0, meanAbsRelError: 0 }),
  };
}

const observation = (o: Partial<DemandObservation>): DemandObservation => ({ timeNs: 0, windowNs: P, values: {}, cpuCores: 1, allocatedCores: 2, utilisation: 0.5, ...o });

describe('shadow workload', () => {
  it('mimics the predicted (upper) demand as a normalised profile', () => {
    const sw = new ShadowWorkload();
    sw.observe(observation({ readFraction: 0.75, missRatio: 0.2 }));
    const p = sw.profileAt(stubShadow({ cpu: 4, memBw: 12.8e9, llcOccupancy: 8 * 1048576 }), 3 * P, scale);
    expect(p[F_CPU]).toBeCloseTo(4 / 16, 12);
    expect(p[F_MEMBW]).toBeCloseTo(12.8e9 / 51.2e9, 12);
    expect(p[2]).toBeCloseTo(8 / 32, 12);
    expect(p[F_READ]).toBeCloseTo(0.75, 12);
  });

  it('follows a phase change of the access pattern within a few samples', () => {
    const sw = new ShadowWorkload();
    for (let i = 0; i < 50; i++) sw.observe(observation({ readFraction: 0.9 }));
    for (let i = 0; i < 4; i++) sw.observe(observation({ readFraction: 0.2 }));
    expect(sw.state().readFraction!).toBeLessThan(0.35); // a plain EWMA(0.1) would still be above 0.6
    expect(sw.state().phaseChanges).toBeGreaterThan(0);
  });

  it('looks more fragile on a resource when the task slowed down more than predicted, and recovers', () => {
    const sw = new ShadowWorkload();
    const sh = stubShadow({ memBw: 5e9 });
    const before = sw.profileAt(sh, P, scale)[F_MEMBW];
    for (let i = 0; i < 10; i++) sw.feedback(1.6, 1.1, 'memBw');
    expect(sw.profileAt(sh, P, scale)[F_MEMBW]).toBeGreaterThan(1.5 * before);
    for (let i = 0; i < 500; i++) sw.feedback(1.0, 1.3, 'memBw');
    expect(sw.sensitivity.memBw).toBeLessThan(1);
  });

  it('sizes warm-ups and echoes, smaller when the machine is loaded', () => {
    const sw = new ShadowWorkload();
    const sh = stubShadow({ llcOccupancy: 6 * 1048576 });
    const idle = sw.warmBudgetNs('cacheWays', 3, caps, sh, 3 * P, P, 50e6);
    sw.setLoad(0.9);
    const busy = sw.warmBudgetNs('cacheWays', 3, caps, sh, 3 * P, P, 50e6);
    expect(idle).toBeGreaterThan(0);
    expect(idle).toBeLessThanOrEqual(50e6);
    expect(busy).toBeLessThan(idle);
    expect(sw.echoDurationNs(3 * P, P, 50e6)).toBeLessThan(new ShadowWorkload().echoDurationNs(3 * P, P, 50e6));
  });
});

describe('quarantine manager', () => {
  it('escalates at once, de-escalates only after the lift delay', () => {
    const m = new QuarantineManager(() => 3 * P);
    const want = (level: QuarantineLevel): Map<string, QuarantineWant> => new Map([['be', { level, reasons: ['memBw'], probability: 0.9, victims: ['lc0'] }]]);
    expect(m.step(0, ['be'], want(2)).get('be')!.level).toBe(2);
    expect(m.step(P, ['be'], want(0)).get('be')!.level).toBe(2);
    expect(m.step(3 * P, ['be'], want(0)).get('be')!.level).toBe(2);
    expect(m.step(4 * P, ['be'], want(0)).get('be')).toBeUndefined();
    expect(m.entered).toBe(1);
    expect(m.lifted).toBe(1);
  });

  it('law: a task wanted at level 0 from t on is fully released at the first tick at or after t + lift delay', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 60 }), (lift, levels) => {
        const m = new QuarantineManager(() => lift * P);
        const got: number[] = [];
        levels.forEach((l, i) => {
          const w = new Map([['be', { level: l as QuarantineLevel, reasons: ['io' as const], probability: 0.5, victims: ['x'] }]]);
          got.push(m.step(i * P, ['be'], w).get('be')?.level ?? 0);
          // never below what is wanted
          expect(got[i]).toBeGreaterThanOrEqual(l);
        });
        for (let t = 0; t + lift < levels.length; t++) {
          if (levels.slice(t, t + lift + 1).every((l) => l === 0)) expect(got[t + lift]).toBe(0);
        }
      }),
      { seed: 17, numRuns: 400 },
    );
  });
});

describe('quarantine selection', () => {
  const o: SelectionOptions = { threshold: 0.5, hysteresis: 0.1, throttleProbability: 0.75, pauseProbability: 0.9, throttlePct: 50, confineFactor: 0.3, canPause: true, canThrottle: true, danger: false, escalateWorst: false };
  const first = Float64Array.from([0.2, 0.15, 0.2, 0.2, 0.3, 0, 0.8, 0.3]);
  const streamer = Float64Array.from([0.1, 0.6, 0.3, 0.9, 0.95, 0, 0.7, 0.95]);
  const quiet = (cpu: number) => Float64Array.from([cpu, 0.001, 0.01, 0.001, 0.1, 0, 0.5, 0.5]);

  it('picks only the task that interferes, and only until the rest is predicted safe', () => {
    const cands = [
      { task: 'a', profile: quiet(0.05), currentlyQuarantined: false },
      { task: 's', profile: streamer, currentlyQuarantined: false },
      { task: 'b', profile: quiet(0.1), currentlyQuarantined: false },
    ];
    const r = selectQuarantine(first, 0.5, PARTITIONED_SHARING, cands, new FormulaPredictor(), o, 'lc0');
    expect([...r.wants.keys()]).toEqual(['s']);
    expect(r.wants.get('s')!.reasons).toEqual(['memBw']);
    expect(r.before).toBeGreaterThan(0.5);
    expect(r.after).toBeLessThanOrEqual(0.5);
  });

  it('quarantines nobody when the aggregate is safe', () => {
    const r = selectQuarantine(first, 0.3, PARTITIONED_SHARING, [{ task: 'a', profile: quiet(0.05), currentlyQuarantined: false }], new FormulaPredictor(), o, 'lc0');
    expect(r.wants.size).toBe(0);
  });

  it('pauses only when the first-class task is in danger; escalation raises the worst to throttle', () => {
    const cands = [{ task: 's', profile: streamer, currentlyQuarantined: false }];
    const calm = selectQuarantine(first, 0.9, PARTITIONED_SHARING, cands, new FormulaPredictor(), o, 'lc0');
    const danger = selectQuarantine(first, 0.9, PARTITIONED_SHARING, cands, new FormulaPredictor(), { ...o, danger: true }, 'lc0');
    expect(calm.wants.get('s')!.level).toBeLessThan(3);
    expect(danger.wants.get('s')!.level).toBe(3);
    const esc = selectQuarantine(first, 0.1, PARTITIONED_SHARING, [{ task: 'a', profile: quiet(0.05), currentlyQuarantined: false }], new FormulaPredictor(), { ...o, escalateWorst: true }, 'lc0');
    expect(esc.wants.get('a')!.level).toBe(2);
  });
});

describe('echo planner', () => {
  const o = { minIntervalNs: 5 * P, maxDurationNs: 50e6, budgetPct: 2, uncertaintyThreshold: 0.3, departureWeight: 0.7 };
  it('asks when the forecast is unsure or departing, not when it is sure; respects interval and pending', () => {
    const e = new EchoPlanner(() => o);
    const sure = stubShadow({ rps: 100 }, 0.05, 0.1);
    expect(e.decide({ nowNs: 0, task: 'lc0', shadow: sure, primary: 'rps', leadNs: 3 * P, durationNs: 4 * P, reservationJump: 0 })).toBeNull();
    const unsure = stubShadow({ rps: 100 }, 0.6, 0.1);
    const r = e.decide({ nowNs: 0, task: 'lc0', shadow: unsure, primary: 'rps', leadNs: 3 * P, durationNs: 4 * P, reservationJump: 0 });
    expect(r).toMatchObject({ task: 'lc0', durationNs: 4 * P });
    expect(r!.reason).toMatch(/uncertain/);
    expect(e.decide({ nowNs: P, task: 'lc0', shadow: unsure, primary: 'rps', leadNs: 3 * P, durationNs: 4 * P, reservationJump: 0 })).toBeNull();
    e.onResult({ task: 'lc0', requestedAtNs: 0, durationNs: 4 * P, measured: { rps: 120 }, costCpuNs: 4e5 }, 2 * P);
    expect(e.decide({ nowNs: 3 * P, task: 'lc0', shadow: unsure, primary: 'rps', leadNs: 3 * P, durationNs: 4 * P, reservationJump: 0 })).toBeNull(); // interval
    const dep = e.decide({ nowNs: 6 * P, task: 'lc0', shadow: stubShadow({ rps: 1 }, 0, 0.9), primary: 'rps', leadNs: 3 * P, durationNs: 4 * P, reservationJump: 0 });
    expect(dep!.reason).toMatch(/departing/);
  });

  it('stays within its CPU budget', () => {
    const e = new EchoPlanner(() => ({ ...o, minIntervalNs: 1, budgetPct: 1 }));
    const unsure = stubShadow({ rps: 100 }, 0.9);
    let n = 0;
    for (let t = 0; t < 100; t++) {
      const r = e.decide({ nowNs: t * P, task: `lc${t}`, shadow: unsure, primary: 'rps', leadNs: 3 * P, durationNs: 40e6, reservationJump: 0 });
      if (r) {
        n++;
        e.onResult({ task: r.task, requestedAtNs: t * P, durationNs: r.durationNs, measured: {}, costCpuNs: r.durationNs / 10 }, t * P);
      }
    }
    // 1% of a core over one second = 10 ms of echo CPU; each costs 4 ms
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(3);
  });
});

describe('arbitration', () => {
  it('floors first, then units in use, then new demand by urgency; keeps holdings stable', () => {
    const g = arbitrate(10, [
      { task: 'a', floor: 1, wantActive: 6, wantReserved: 8, heldActive: 5, heldReserved: 5, urgency: 0.5 },
      { task: 'b', floor: 2, wantActive: 6, wantReserved: 6, heldActive: 2, heldReserved: 2, urgency: -0.1 },
    ]);
    // floors 1 + 2, a keeps its 5 in use (b is more urgent but cannot take them), b grows to 4
    expect(g.get('a')).toEqual({ reserved: 5, active: 5, shortfall: 3 });
    expect(g.get('b')).toEqual({ reserved: 5, active: 5, shortfall: 1 });
  });

  it('law: never more than capacity; floors always met when they fit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.array(fc.record({ floor: fc.integer({ min: 0, max: 3 }), a: fc.integer({ min: 0, max: 10 }), r: fc.integer({ min: 0, max: 10 }), h: fc.integer({ min: 0, max: 10 }), u: fc.double({ min: -1, max: 1, noNaN: true }) }), { maxLength: 5 }), (cap, rs) => {
        const reqs = rs.map((x, i) => ({ task: `t${i}`, floor: x.floor, wantActive: x.a, wantReserved: Math.max(x.r, x.floor), heldActive: x.h, heldReserved: x.h, urgency: x.u }));
        const g = arbitrate(cap, reqs);
        const total = [...g.values()].reduce((s, x) => s + x.reserved, 0);
        expect(total).toBeLessThanOrEqual(cap);
        if (reqs.reduce((s, r) => s + r.floor, 0) <= cap) for (const r of reqs) expect(g.get(r.task)!.reserved).toBeGreaterThanOrEqual(r.floor);
        for (const r of reqs) expect(g.get(r.task)!.reserved).toBeLessThanOrEqual(Math.max(r.wantReserved, r.floor));
      }),
      { seed: 23, numRuns: 400 },
    );
  });
});

describe('M/M/c sizing model', () => {
  it('Erlang C matches the textbook values', () => {
    // c = 1: probability of waiting = rho
    expect(erlangC(1, 0.7)).toBeCloseTo(0.7, 12);
    // c = 2, a = 1: C = (a^2/2 * 1/(1-rho)) / (1 + a + a^2/2 * 1/(1-rho)) with rho = 0.5 -> 1 / 3
    expect(erlangC(2, 1)).toBeCloseTo(1 / 3, 12);
  });

  it('more cores never raise the modelled p99, and the chosen count meets the target', () => {
    fc.assert(
      fc.property(fc.double({ min: 10, max: 1e5, noNaN: true }), fc.double({ min: 1e-5, max: 1e-3, noNaN: true }), fc.double({ min: 1.1, max: 50, noNaN: true }), (lambda, S, slack) => {
        const target = 3 * S * 1e9 * slack;
        const c = coresForLatency(lambda, S, target, 1, 3, 64);
        if (c < 64) expect(mmcP99Ns(c, lambda, S, 3)).toBeLessThanOrEqual(target);
        if (c > 1) expect(mmcP99Ns(c - 1, lambda, S, 3)).toBeGreaterThan(target);
        for (let k = 1; k < 8; k++) expect(mmcP99Ns(k + 1, lambda, S, 3)).toBeLessThanOrEqual(mmcP99Ns(k, lambda, S, 3));
      }),
      { seed: 29, numRuns: 300 },
    );
  });
});
