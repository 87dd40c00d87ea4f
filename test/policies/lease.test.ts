// The reservation state machine: reserve ahead, warm, activate on need,
// release after the grace period, never below the floor or above the cap,
// no endless warm hoarding.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Lease } from '../../policies/adjustment/impl/lease.js';
import type { LeaseDecision, LeaseOptions } from '../../policies/adjustment/adjustment.js';

const P = 10_000_000;
const opts = (o: Partial<LeaseOptions> = {}): LeaseOptions => ({ graceNs: 5 * P, warmup: true, warmExpiryNs: 8 * P, cooldownNs: 5 * P, ...o });

describe('lease lifecycle', () => {
  it('reserves at the lead horizon, keeps the units warm, activates them when the near-term demand needs them', () => {
    const l = new Lease('cores', opts(), 2, 2);
    let d = l.step({ nowNs: 0, wantLead: 5, wantNear: 2, floor: 1, cap: 16 });
    expect(d).toMatchObject({ reserved: 5, active: 2, newlyWarm: 3, state: 'reserved' });
    d = l.step({ nowNs: P, wantLead: 5, wantNear: 4, floor: 1, cap: 16 });
    expect(d).toMatchObject({ reserved: 5, active: 4, newlyWarm: 0, state: 'reserved' });
    d = l.step({ nowNs: 2 * P, wantLead: 5, wantNear: 5, floor: 1, cap: 16 });
    expect(d).toMatchObject({ reserved: 5, active: 5, state: 'active' });
    expect(l.metrics.activations).toBe(2);
  });

  it('holds through the grace period, then releases to the largest demand seen within it', () => {
    const l = new Lease('cores', opts(), 6, 6);
    const wants = [3, 4, 2, 2, 2, 2, 2, 2];
    const res: number[] = [];
    wants.forEach((w, i) => res.push(l.step({ nowNs: i * P, wantLead: w, wantNear: w, floor: 1, cap: 16 }).reserved));
    // grace 5 periods from tick 0: cut at tick 5 to max(want over ticks 1..5) = 4, at tick 6 to max over 2..6 = 2
    expect(res).toEqual([6, 6, 6, 6, 6, 4, 2, 2]);
    expect(l.current.state).toBe('active');
  });

  it('cancels the release when demand comes back inside the grace period', () => {
    const l = new Lease('cores', opts(), 6, 6);
    for (let i = 0; i < 4; i++) l.step({ nowNs: i * P, wantLead: 2, wantNear: 2, floor: 1, cap: 16 });
    expect(l.current.state).toBe('releasing');
    l.step({ nowNs: 4 * P, wantLead: 6, wantNear: 6, floor: 1, cap: 16 });
    for (let i = 5; i < 9; i++) expect(l.step({ nowNs: i * P, wantLead: 2, wantNear: 2, floor: 1, cap: 16 }).reserved).toBe(6);
  });

  it('without warm-up, reserved units are active at once', () => {
    const l = new Lease('cores', opts({ warmup: false }), 1, 1);
    const d = l.step({ nowNs: 0, wantLead: 4, wantNear: 1, floor: 1, cap: 16 });
    expect(d).toMatchObject({ reserved: 4, active: 4, newlyWarm: 0 });
  });

  it('releases warm units that are never used and pauses reserving ahead (no hoarding on a wrong forecast)', () => {
    const l = new Lease('cores', opts({ warmExpiryNs: 4 * P, cooldownNs: 3 * P }), 1, 1);
    const rs: LeaseDecision[] = [];
    for (let i = 0; i < 12; i++) rs.push(l.step({ nowNs: i * P, wantLead: 4, wantNear: 1, floor: 1, cap: 16 }));
    expect(rs[0].reserved).toBe(4);
    expect(rs[4]).toMatchObject({ reserved: 1, active: 1 });
    expect(rs[5].reserved).toBe(1); // cooling down
    expect(rs[7].reserved).toBe(4); // cooldown over: the forecast is trusted again
    expect(l.metrics.falseAlarms).toBeGreaterThanOrEqual(1);
    expect(l.metrics.warmUnitNs).toBeGreaterThan(0);
  });

  it('counts reserved-but-unused unit-time', () => {
    const l = new Lease('cores', opts(), 1, 1);
    l.step({ nowNs: 0, wantLead: 3, wantNear: 1, floor: 1, cap: 16 });
    l.step({ nowNs: P, wantLead: 3, wantNear: 1, floor: 1, cap: 16 });
    l.step({ nowNs: 2 * P, wantLead: 3, wantNear: 1, floor: 1, cap: 16 });
    expect(l.metrics.warmUnitNs).toBe(2 * 2 * P); // 2 warm units for 2 periods
  });

  it('commit clips to the arbitration grant', () => {
    const l = new Lease('cores', opts(), 1, 1);
    l.step({ nowNs: 0, wantLead: 6, wantNear: 4, floor: 1, cap: 16 });
    const d = l.commit(3, 0);
    expect(d).toMatchObject({ reserved: 3, active: 3 });
  });
});

describe('lease laws (fast-check)', () => {
  const seq = fc.array(fc.record({ lead: fc.integer({ min: 0, max: 12 }), near: fc.integer({ min: 0, max: 12 }) }), { minLength: 1, maxLength: 80 });
  const params = fc.record({ floor: fc.integer({ min: 0, max: 3 }), cap: fc.integer({ min: 3, max: 12 }), grace: fc.integer({ min: 0, max: 6 }), expiry: fc.integer({ min: 1, max: 10 }), cool: fc.integer({ min: 0, max: 5 }), warmup: fc.boolean(), start: fc.integer({ min: 0, max: 12 }) });

  it('floor <= active <= reserved <= cap; without warm-up active = reserved', () => {
    fc.assert(
      fc.property(params, seq, (p, s) => {
        const l = new Lease('cores', opts({ graceNs: p.grace * P, warmExpiryNs: p.expiry * P, cooldownNs: p.cool * P, warmup: p.warmup }), Math.min(p.start, p.cap), Math.min(p.start, p.cap));
        s.forEach((x, i) => {
          const d = l.step({ nowNs: i * P, wantLead: x.lead, wantNear: x.near, floor: p.floor, cap: p.cap });
          expect(d.active).toBeGreaterThanOrEqual(p.floor);
          expect(d.active).toBeLessThanOrEqual(d.reserved);
          if (i > 0 || p.start <= p.cap) expect(d.reserved).toBeLessThanOrEqual(Math.max(p.cap, p.floor));
          if (!p.warmup) expect(d.active).toBe(d.reserved);
        });
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it('once demand stays at or below W < the holding, the holding is at most W within grace (+1 tick)', () => {
    fc.assert(
      fc.property(params, seq, (p, s) => {
        const l = new Lease('cores', opts({ graceNs: p.grace * P, warmExpiryNs: p.expiry * P, cooldownNs: p.cool * P, warmup: p.warmup }), p.floor, p.floor);
        const held: number[] = [];
        const wanted: number[] = [];
        s.forEach((x, i) => {
          const d = l.step({ nowNs: i * P, wantLead: x.lead, wantNear: x.near, floor: p.floor, cap: p.cap });
          held.push(d.reserved);
          wanted.push(d.wanted);
        });
        for (let t0 = 1; t0 + p.grace + 1 < s.length; t0++) {
          const W = Math.max(...wanted.slice(t0, t0 + p.grace + 2));
          if (W < held[t0 - 1]) expect(held[t0 + p.grace + 1]).toBeLessThanOrEqual(W);
        }
      }),
      { seed: 11, numRuns: 300 },
    );
  });

  it('no unit stays warm longer than the expiry', () => {
    fc.assert(
      fc.property(params, seq, (p, s) => {
        const l = new Lease('cores', opts({ graceNs: p.grace * P, warmExpiryNs: p.expiry * P, cooldownNs: p.cool * P }), p.floor, p.floor);
        let run = 0;
        s.forEach((x, i) => {
          const d = l.step({ nowNs: i * P, wantLead: x.lead, wantNear: x.near, floor: p.floor, cap: p.cap });
          run = d.reserved > d.active ? run + 1 : 0;
          expect(run).toBeLessThanOrEqual(p.expiry);
        });
      }),
      { seed: 13, numRuns: 300 },
    );
  });
});
