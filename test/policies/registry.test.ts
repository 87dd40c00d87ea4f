// The registry: every policy by name, knobs validated with errors naming the
// field, defaults derived from the platform, ablation switches that hold.
import { describe, expect, it } from 'vitest';
import { createPolicy, POLICY_NAMES, policySpecSchema } from '../../policies/registry.js';
import { ShadowPolicy } from '../../policies/shadow-policy.js';
import { InputError } from '../../util/errors.js';
import { benchPolicies } from '../../policies/bench.js';
import { FakePlatform, type FakeTaskSpec } from './fake-platform.js';
import { runLoop } from './scenarios.js';
import { umbra } from './cli.js';

const lc: FakeTaskSpec = { id: 'lc0', cls: 'first', sloP99Ns: 3e6, demand: (t) => ({ cpu: (t % 20 < 10 ? 4000 : 16000) * 250e-6, rps: t % 20 < 10 ? 4000 : 16000, memBw: 2e9, occBytes: 6 << 20, io: 0 }) };
const be: FakeTaskSpec = { id: 'be0', cls: 'second', demand: () => ({ cpu: 4, memBw: 20e9, occBytes: 24 << 20, io: 1e8 }) };
const fake = (periodNs = 10_000_000) => new FakePlatform({ cores: 8, ways: 16, colours: 16, wayBytes: 2 << 20, periodNs, tasks: [lc, be], futureTicks: 3 });

describe('registry', () => {
  it('builds every named policy', () => {
    for (const n of POLICY_NAMES) expect(createPolicy(n).name).toBe(n);
  });

  it('rejects an unknown policy and bad knobs with one error naming the field', () => {
    expect(() => createPolicy('shadw')).toThrow(/unknown policy "shadw"; known: shadow, /);
    const err = (name: string, cfg: unknown) => {
      try {
        createPolicy(name, cfg);
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(err('shadow', { graceNs: -5 })).toMatch(/policy "shadow": field "graceNs"/);
    expect(err('shadow', { mechanisms: { warmup: 'yes' } })).toMatch(/field "mechanisms\.warmup"/);
    expect(err('shadow', { leadTim: 5 })).toMatch(/leadTim/);
    expect(err('shadow', { forecasters: { firstClass: 'prophecy' } })).toMatch(/field "forecasters\.firstClass": expected a forecaster/);
    expect(err('shadow', { floors: { lc0: { cores: 1.5 } } })).toMatch(/field "floors\.lc0\.cores"/);
    expect(err('reactive', { upsizeSlack: 'x' })).toMatch(/policy "reactive": field "upsizeSlack"/);
    expect(err('percentile', { targetPercentile: 2 })).toMatch(/field "targetPercentile"/);
    expect(err('static', { firstClassShare: 0 })).toMatch(/field "firstClassShare"/);
  });

  it('accepts durations with units', () => {
    const p = createPolicy('shadow', { leadTimeNs: '20 ms', graceNs: '40ms' }) as ShadowPolicy;
    expect(p.config.leadTimeNs).toBe(20_000_000);
    expect(p.config.graceNs).toBe(40_000_000);
  });

  it('derives its timing from the control period it observes, not from constants tuned to a scenario', () => {
    const p = createPolicy('shadow') as ShadowPolicy;
    runLoop(fake(20_000_000), p, 3);
    const t = p.explain()!.timing;
    expect(t.periodNs).toBe(20_000_000);
    expect(t.leadNs).toBe(50_000_000); // 3 periods, capped at the seed's 50 ms
    expect(t.graceNs).toBe(100_000_000);
    const q = createPolicy('shadow') as ShadowPolicy;
    runLoop(fake(5_000_000), q, 3);
    expect(q.explain()!.timing.leadNs).toBe(15_000_000);
  });

  it('refuses floors that cannot fit, naming the field', () => {
    const p = createPolicy('shadow', { floors: { lc0: { cores: 8 } } });
    expect(() => runLoop(fake(), p, 1)).toThrow(/policy "shadow" field "floors": .*need 9 cores but the platform has 8/);
  });

  it('the ablation switches hold (the variant wins over the config)', () => {
    const count = (name: string, kind: string, cfg?: unknown) => runLoop(fake(), createPolicy(name, cfg), 120).reduce((s, r) => s + r.actions.filter((a) => a.kind === kind).length, 0);
    expect(count('shadow', 'echo')).toBeGreaterThan(0);
    expect(count('shadow-no-echo', 'echo', { mechanisms: { echo: true } })).toBe(0);
    expect(count('shadow', 'warm')).toBeGreaterThan(0);
    expect(count('shadow-no-warmup', 'warm')).toBe(0);
    // a service with jumps next to a streaming job: the full engine confines the job at times
    const burst = (t: number) => (t % 40 >= 30 ? 24000 : 4000);
    const busy = () =>
      new FakePlatform({
        cores: 12,
        ways: 16,
        colours: 32,
        wayBytes: 2 << 20,
        periodNs: 10_000_000,
        tasks: [
          { id: 'lc0', cls: 'first', sloP99Ns: 3e6, demand: (t) => ({ cpu: burst(t) * 250e-6, rps: burst(t), memBw: burst(t) * 250e-6 * 1e9, occBytes: 6 << 20, io: 0 }) },
          { id: 'be0', cls: 'second', demand: () => ({ cpu: 4, memBw: 24e9, occBytes: 24 << 20, io: 0 }) },
        ],
      });
    const q = (name: string) => runLoop(busy(), createPolicy(name), 200).filter((r) => r.actions.some((a) => a.task === 'be0' && (a.kind === 'setMemBandwidth' || a.kind === 'throttle' || a.kind === 'pause') && a.reason?.includes('quarantine'))).length;
    expect(q('shadow')).toBeGreaterThan(0);
    expect(q('shadow-no-quarantine')).toBe(0);
    const w = createPolicy('shadow-no-weighting') as ShadowPolicy;
    runLoop(fake(), w, 60);
    for (const v of Object.values(w.shadowOf('lc0')!.weights('rps')!)) expect(v).toBeCloseTo(1 / 7, 12);
    expect((createPolicy('shadow-formula-interference') as ShadowPolicy).config.mechanisms.interference).toBe('formula');
  });

  it('exposes one schema for the experiment spec', () => {
    expect(policySpecSchema.safeParse({ name: 'reactive', config: { holdIntervals: 2 } }).success).toBe(true);
    expect(policySpecSchema.safeParse({ name: 'shadow', config: { mechanisms: { echo: false } } }).success).toBe(true);
    expect(policySpecSchema.safeParse({ name: 'nope' }).success).toBe(false);
    expect(policySpecSchema.safeParse({ name: 'static', config: { firstClassShare: 3 } }).success).toBe(false);
  });
});

describe('bench', () => {
  it('measures every policy it is asked for on the synthetic stream', () => {
    const r = benchPolicies({ ticks: 5, warmupTicks: 2, policies: ['shadow', 'static', 'oracle'] });
    expect(Object.keys(r)).toEqual(['shadow', 'static', 'oracle']);
    for (const v of Object.values(r)) {
      expect(v.decideUsPerTick).toBeGreaterThan(0);
      expect(Number.isFinite(v.decideUsP99)).toBe(true);
    }
  });

  it('umbra policy-bench prints JSON and rejects an unknown policy', async () => {
    const ok = await umbra(['policy-bench', '--ticks', '3', '--warmup', '1', '--policy', 'static', 'reactive', '--json']);
    expect(ok.code).toBe(0);
    expect(Object.keys(JSON.parse(ok.stdout))).toEqual(['static', 'reactive']);
    const bad = await umbra(['policy-bench', '--policy', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown policy "nope"/);
  }, 120_000);
});

describe('a platform without the optional knobs (a host without resctrl, freezer, quota, echo)', () => {
  it('every policy runs on cores alone, refusing nothing and keeping the laws', () => {
    for (const name of POLICY_NAMES) {
      if (name === 'oracle') continue; // needs Snapshot.future, which only the simulator has
      const p = new FakePlatform({ cores: 8, ways: 0, colours: 0, wayBytes: 1, periodNs: 10_000_000, tasks: [lc, be], mba: false, io: false, freezer: false, throttle: false, echo: false, warm: false });
      const recs = runLoop(p, createPolicy(name), 80);
      for (const r of recs) {
        expect(r.refused, `${name} tick ${r.tick}`).toBe(0);
        expect(r.violations).toEqual([]);
        for (const a of r.actions) expect(['reserve', 'release', 'setCores', 'migrate']).toContain(a.kind);
      }
      expect(p.exclusive('lc0').cores).toBeGreaterThanOrEqual(1);
    }
  });
});
