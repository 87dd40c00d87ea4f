// The whole engine in the loop on the fake platform: a service whose load
// jumps six-fold for 10 of every 40 ticks next to a memory-streaming job.
// The shadow learns the pattern and acts before the jump (lead time = its
// forecast horizon): it reserves and warms cores ahead, activates them when
// the forecast arrival comes due, and releases them after the burst; the
// reactive baseline can only respond to the SLO misses.
import { describe, expect, it } from 'vitest';
import { createPolicy } from '../../policies/registry.js';
import type { ShadowExplain } from '../../policies/shadow-policy.js';
import { FakePlatform, type FakeTaskSpec } from './fake-platform.js';
import { runLoop, type TickRecord } from './scenarios.js';

const P = 10_000_000;
const rps = (t: number) => (t % 40 >= 30 ? 24000 : 4000);
const tasks: FakeTaskSpec[] = [
  { id: 'lc0', cls: 'first', sloP99Ns: 3e6, demand: (t) => ({ cpu: rps(t) * 250e-6, rps: rps(t), memBw: rps(t) * 250e-6 * 1e9, occBytes: 6 << 20, io: 0 }) },
  { id: 'be0', cls: 'second', demand: () => ({ cpu: 4, memBw: 4 * 6e9, occBytes: 24 << 20, io: 0 }) },
  { id: 'be1', cls: 'second', demand: () => ({ cpu: 3, memBw: 3 * 0.2e9, occBytes: 2 << 20, io: 0 }) },
];

const cache = new Map<string, TickRecord[]>();
function run(name: string): TickRecord[] {
  if (!cache.has(name)) {
    const p = new FakePlatform({ cores: 12, ways: 16, colours: 32, wayBytes: 2 << 20, periodNs: P, tasks, futureTicks: 3 });
    cache.set(name, runLoop(p, createPolicy(name), 520, true));
  }
  return cache.get(name)!;
}
const tail = (name: string) => run(name).slice(320);
const violations = (rs: TickRecord[]) => rs.filter((r) => r.snapshot.tasks.find((t) => t.id === 'lc0')!.latency!.p99Ns > 3e6).length;
const beCores = (rs: TickRecord[]) => rs.reduce((s, r) => s + r.snapshot.tasks.filter((t) => t.class === 'second').reduce((a, t) => a + t.cpuCores, 0), 0) / rs.length;

describe('shadow engine in the control loop', () => {
  it('reserves and warms ahead of the predicted jump, activates in time, releases after it', () => {
    const rs = tail('shadow');
    const at = (phase: number) => rs.filter((r) => r.tick % 40 === phase);
    const reserved = (r: TickRecord) => r.after.get('lc0')!.rCores.length;
    const active = (r: TickRecord) => {
      const v = r.after.get('lc0')!;
      return v.cores.filter((c) => v.rCores.includes(c)).length;
    };
    for (const r of at(27)) expect(reserved(r)).toBeGreaterThan(reserved(rs.find((x) => x.tick === r.tick - 12)!)); // growing 3 ticks ahead
    for (const r of at(29)) expect(active(r)).toBeGreaterThanOrEqual(7); // ~6 cores needed at 24 000 req/s
    for (const r of at(15)) expect(reserved(r)).toBeLessThanOrEqual(5); // let go once the burst is over
    const warms = rs.flatMap((r) => r.actions.filter((a) => a.kind === 'warm' && a.task === 'lc0').map(() => r.tick % 40));
    expect(warms.length).toBeGreaterThan(0);
    // warm-ups go with reservations ahead of the jump
    expect(warms.filter((ph) => ph >= 20 && ph < 30).length).toBeGreaterThanOrEqual(0.75 * warms.length);
    const e = rs[rs.length - 1].explain as ShadowExplain;
    expect(e.first[0].leases.cores).toBeDefined();
  });

  it('misses the SLO far less often than the reactive controller, which can only respond', () => {
    const shadow = violations(tail('shadow'));
    const reactive = violations(tail('reactive'));
    expect(reactive).toBeGreaterThan(20);
    expect(shadow).toBeLessThan(reactive / 2);
  });

  it('still leaves second-class work cores, and quarantines only the job that interferes', () => {
    expect(beCores(tail('shadow'))).toBeGreaterThan(0.5 * beCores(tail('reactive')));
    expect(violations(tail('shadow-no-quarantine'))).toBeGreaterThanOrEqual(violations(tail('shadow')));
    // the streaming job is confined at times, the quiet one never
    const levels = tail('shadow').map((r) => (r.explain as ShadowExplain).second);
    expect(levels.filter((l) => l.find((s) => s.task === 'be0')!.level !== 'none').length).toBeGreaterThan(0);
    expect(levels.filter((l) => l.find((s) => s.task === 'be1')!.level !== 'none').length).toBe(0);
    expect(tail('shadow-no-quarantine').every((r) => (r.explain as ShadowExplain).second.every((s) => s.level === 'none'))).toBe(true);
  });

  it('never issues a refused action and keeps every laws-checked invariant through the run', () => {
    for (const name of ['shadow', 'reactive', 'oracle']) for (const r of run(name)) expect([r.refused, r.violations]).toEqual([0, []]);
  });
});
