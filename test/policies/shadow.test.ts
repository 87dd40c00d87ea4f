// The shadow of a task: per-dimension dynamic weighting (historical vs
// real-time models), echo ground truth overriding the forecast, no model for
// a dimension that never moves, the oracle's shadow reading the future.
import { describe, expect, it } from 'vitest';
import { ECHO_PRIOR_REL_ERR, ForecastShadow } from '../../policies/shadow/impl/forecast-shadow.js';
import { OracleShadow } from '../../policies/shadow/impl/oracle-shadow.js';
import type { DemandObservation } from '../../policies/shadow/observation.js';
import { rngFor } from '../../util/rng.js';

const P = 10_000_000;
const obs = (t: number, values: DemandObservation['values']): DemandObservation => ({ timeNs: t * P, windowNs: P, values, cpuCores: values.cpu ?? 0, allocatedCores: 4, utilisation: 0.5 });

describe('dynamic model weighting, per demand dimension', () => {
  it('moves the request-rate forecast to real-time models when the rate departs from its history, while CPU keeps trusting history', () => {
    const sh = new ForecastShadow('lc0', 'first', { forecaster: 'blend', kinds: ['cpu', 'rps'], upperQuantile: 0.95 });
    const rng = rngFor(3, 'test/weights');
    const lead = 3 * P;
    let walk = 100;
    const mean = { before: { cpu: 0, rps: 0 }, after: { cpu: 0, rps: 0 } };
    for (let t = 0; t < 2000; t++) {
      // a staircase day: what seasonal history predicts and persistence does not
      const phase = Math.floor(t / 12) % 4;
      const season = 100 + 40 * (phase === 0 ? 1 : phase === 2 ? -1 : 0);
      walk += 6 * rng.normal();
      sh.observe(obs(t, { cpu: season / 50 + 0.05 * rng.normal(), rps: t < 1500 ? season + 2 * rng.normal() : walk }));
      sh.predict('cpu', lead);
      sh.predict('rps', lead);
      const at = t >= 1300 && t < 1500 ? mean.before : t >= 1800 ? mean.after : undefined;
      if (at) {
        at.cpu += sh.realtimeWeight('cpu', lead)! / 200;
        at.rps += sh.realtimeWeight('rps', lead)! / 200;
      }
    }
    expect(mean.before.rps).toBeLessThan(0.2);
    expect(mean.after.rps).toBeGreaterThan(0.5);
    expect(mean.after.cpu).toBeLessThan(0.2);
    const w = sh.weights('rps', lead)!;
    expect(Object.values(w).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });

  it("'blend-equal' keeps the seven members at equal weights (the no-weighting ablation)", () => {
    const sh = new ForecastShadow('lc0', 'first', { forecaster: 'blend-equal', kinds: ['rps'], upperQuantile: 0.95 });
    for (let t = 0; t < 300; t++) {
      sh.observe(obs(t, { rps: 100 + (t % 12) * 5 }));
      sh.predict('rps', 3 * P);
    }
    for (const v of Object.values(sh.weights('rps', 3 * P)!)) expect(v).toBeCloseTo(1 / 7, 12);
  });
});

describe('echo ground truth and quiet dimensions', () => {
  it('an echo sets the forecast level inside its window, and only there', () => {
    const sh = new ForecastShadow('lc0', 'first', { forecaster: 'ewma', kinds: ['rps'], upperQuantile: 0.95 });
    for (let t = 0; t <= 50; t++) sh.observe(obs(t, { rps: 100 }));
    const before = sh.predict('rps', 2 * P)!;
    sh.applyEcho({ task: 'lc0', requestedAtNs: 50 * P, durationNs: 4 * P, measured: { rps: 400 }, costCpuNs: 1000 });
    const inside = sh.predict('rps', 2 * P)!;
    // a constant series makes the forecast sure of itself, so the fused level moves toward the echo
    // only as far as the precisions say: between the two, and closer to the more precise one
    const z = 1.645;
    const varF = Math.max((before.upper - before.mean) / z, 1e-9) ** 2;
    const varE = (400 * ECHO_PRIOR_REL_ERR) ** 2; // the prior echo error until echoes are checked
    expect(inside.mean).toBeCloseTo((before.mean / varF + 400 / varE) / (1 / varF + 1 / varE), 6);
    expect(inside.upper).toBeGreaterThan(inside.mean);
    expect(sh.predict('rps', 10 * P)!.mean).toBeCloseTo(100, 6);
    expect(sh.echoStats().applied).toBe(1);
  });

  it('echoes that proved right take over the level of an unsure forecast; unchecked ones only nudge it', () => {
    const sh = new ForecastShadow('lc0', 'first', { forecaster: 'ewma', kinds: ['rps'], upperQuantile: 0.95 });
    const rng = rngFor(4, 'noisy');
    let t = 0;
    for (; t <= 200; t++) sh.observe(obs(t, { rps: 100 + 40 * rng.normal() }));
    sh.applyEcho({ task: 'lc0', requestedAtNs: t * P, durationNs: 4 * P, measured: { rps: 300 }, costCpuNs: 1000 });
    const unchecked = sh.predict('rps', 2 * P)!.mean;
    expect(unchecked).toBeGreaterThan(100);
    expect(unchecked).toBeLessThan(250);
    // a track record: each echo measures what the next windows then show
    for (let k = 0; k < 20; k++) {
      const level = 100 + 50 * (k % 3);
      sh.applyEcho({ task: 'lc0', requestedAtNs: t * P, durationNs: 3 * P, measured: { rps: level }, costCpuNs: 1000 });
      for (let j = 0; j < 4; j++, t++) sh.observe(obs(t, { rps: level }));
    }
    sh.applyEcho({ task: 'lc0', requestedAtNs: t * P, durationNs: 4 * P, measured: { rps: 300 }, costCpuNs: 1000 });
    expect(sh.predict('rps', 2 * P)!.mean).toBeGreaterThan(250);
  });

  it('learns how far echoes are off from what then happens, and widens their bound', () => {
    const sh = new ForecastShadow('lc0', 'first', { forecaster: 'ewma', kinds: ['rps'], upperQuantile: 0.95 });
    let t = 0;
    for (; t < 10; t++) sh.observe(obs(t, { rps: 100 }));
    for (let k = 0; k < 10; k++) {
      sh.applyEcho({ task: 'lc0', requestedAtNs: t * P, durationNs: 2 * P, measured: { rps: 150 }, costCpuNs: 1 });
      for (let j = 0; j < 3; j++, t++) sh.observe(obs(t, { rps: 100 }));
    }
    expect(sh.echoStats().meanAbsRelError).toBeGreaterThan(0.3);
  });

  it('a dimension that has only been zero needs no model and predicts zero', () => {
    const sh = new ForecastShadow('lc0', 'first', { forecaster: 'blend', kinds: ['io', 'cpu'], upperQuantile: 0.95 });
    for (let t = 0; t < 20; t++) sh.observe(obs(t, { io: 0, cpu: 1 }));
    expect(sh.predict('io', P)).toEqual({ mean: 0, upper: 0 });
    expect(sh.weights('io')).toBeUndefined();
    expect(sh.predict('llcOccupancy', P)).toBeUndefined();
    expect(sh.weights('cpu', P)).toBeDefined();
  });
});

describe('oracle shadow', () => {
  it('predicts the future peak it is given, falling back to the last observation', () => {
    const sh = new OracleShadow('lc0', 'first');
    sh.observe(obs(0, { cpu: 2, io: 5 }));
    sh.setFuture({ cpu: 7 });
    expect(sh.predict('cpu', P)).toEqual({ mean: 7, upper: 7 });
    expect(sh.predict('io', P)).toEqual({ mean: 5, upper: 5 });
    expect(sh.predict('rps', P)).toBeUndefined();
  });
});
