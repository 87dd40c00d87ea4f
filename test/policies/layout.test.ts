// Which concrete units: sticky unit sets, order-preserving contiguous way
// blocks, and the reconciler's ordering of a batch so that a platform with
// the contract's rules accepts every action.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { layoutUnits, layoutWays } from '../../policies/common/layout.js';
import { isContiguous, popcount } from '../../policies/common/masks.js';
import { reconcile } from '../../policies/common/reconcile.js';
import { FakePlatform } from './fake-platform.js';

describe('layoutUnits', () => {
  it('keeps what a task holds, active first, and grows from the top of the free units', () => {
    const l = layoutUnits([0, 1, 2, 3, 4, 5, 6, 7], [
      { task: 'a', active: 3, warm: 1, currentActive: [2, 3], currentWarm: [4] },
      { task: 'b', active: 1, warm: 0, currentActive: [], currentWarm: [] },
    ]);
    expect(l.byTask.get('a')).toEqual({ active: [2, 3, 4], warm: [7] });
    expect(l.byTask.get('b')).toEqual({ active: [6], warm: [] });
    expect(l.pool).toEqual([0, 1, 5]);
  });

  it('laws: disjoint, exact sizes, pool = the rest', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 }), fc.array(fc.record({ a: fc.integer({ min: 0, max: 6 }), w: fc.integer({ min: 0, max: 3 }), cur: fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 6 }) }), { maxLength: 5 }), (n, ws) => {
        const universe = Array.from({ length: n }, (_, i) => i);
        let budget = n;
        const wants = ws.map((w, i) => {
          const a = Math.min(w.a, budget);
          budget -= a;
          const wm = Math.min(w.w, budget);
          budget -= wm;
          return { task: `t${i}`, active: a, warm: wm, currentActive: [...new Set(w.cur)], currentWarm: [] };
        });
        const l = layoutUnits(universe, wants);
        const seen = new Set<number>();
        for (const w of wants) {
          const s = l.byTask.get(w.task)!;
          expect(s.active.length).toBe(w.active);
          expect(s.warm.length).toBe(w.warm);
          for (const u of [...s.active, ...s.warm]) {
            expect(universe).toContain(u);
            expect(seen.has(u)).toBe(false);
            seen.add(u);
          }
        }
        expect([...seen, ...l.pool].sort((a, b) => a - b)).toEqual(universe);
      }),
      { seed: 3, numRuns: 300 },
    );
  });
});

describe('layoutWays', () => {
  it('puts newcomers next to the pool and leaves other blocks where they are', () => {
    // a holds ways 12..15; b is new
    const l = layoutWays(16, [
      { task: 'a', active: 4, warm: 0, current: 0xf000 },
      { task: 'b', active: 2, warm: 1, current: 0 },
    ]);
    expect(l.byTask.get('a')!.active).toBe(0xf000);
    // pool at the bottom [0, 9), b right above it with its warm way facing the pool
    expect(l.pool).toBe(0x01ff);
    expect(l.byTask.get('b')).toEqual({ warm: 1 << 9, active: (1 << 10) | (1 << 11) });
  });

  it('laws: contiguous non-overlapping blocks with contiguous active parts, contiguous pool of the rest, order of existing blocks kept', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 20 }), fc.array(fc.record({ a: fc.integer({ min: 1, max: 5 }), w: fc.integer({ min: 0, max: 3 }), lo: fc.integer({ min: 0, max: 19 }), len: fc.integer({ min: 0, max: 4 }) }), { maxLength: 4 }), (W, ws) => {
        let budget = W - 1;
        let taken = 0;
        const wants = ws.flatMap((w, i) => {
          const a = Math.min(w.a, budget);
          if (a <= 0) return [];
          budget -= a;
          const wm = Math.min(w.w, budget);
          budget -= wm;
          // a current block that does not overlap earlier ones
          let cur = 0;
          if (w.len > 0 && w.lo + w.len <= W) {
            const m = ((1 << w.len) - 1) << w.lo;
            if ((m & taken) === 0) {
              cur = m;
              taken |= m;
            }
          }
          return [{ task: `t${i}`, active: a, warm: wm, current: cur }];
        });
        const l = layoutWays(W, wants);
        let all = 0;
        const starts: [number, number][] = [];
        for (const w of wants) {
          const s = l.byTask.get(w.task)!;
          expect(popcount(s.active)).toBe(w.active);
          expect(popcount(s.warm)).toBe(w.warm);
          expect(isContiguous(s.active)).toBe(true);
          const block = s.active | s.warm;
          expect(isContiguous(block)).toBe(true);
          expect(block & all).toBe(0);
          all |= block;
          if (w.current) starts.push([Math.log2(w.current & -w.current), Math.log2(block & -block)]);
        }
        expect(l.pool & all).toBe(0);
        expect(popcount(l.pool)).toBe(W - wants.reduce((s, w) => s + w.active + w.warm, 0));
        if (l.pool) expect(isContiguous(l.pool)).toBe(true);
        // blocks that existed keep their relative order
        const byOld = [...starts].sort((x, y) => x[0] - y[0]).map((x) => x[1]);
        expect(byOld).toEqual([...byOld].sort((x, y) => x - y));
      }),
      { seed: 5, numRuns: 400 },
    );
  });
});

describe('reconcile', () => {
  const caps = () =>
    new FakePlatform({
      cores: 8,
      ways: 8,
      colours: 8,
      wayBytes: 1 << 20,
      periodNs: 1e7,
      tasks: [
        { id: 'a', cls: 'first', demand: () => ({ cpu: 1, rps: 10, memBw: 0, occBytes: 0, io: 0 }) },
        { id: 'b', cls: 'first', demand: () => ({ cpu: 1, rps: 10, memBw: 0, occBytes: 0, io: 0 }) },
        { id: 'x', cls: 'second', demand: () => ({ cpu: 1, memBw: 0, occBytes: 0, io: 0 }) },
      ],
    });

  it('orders a swap of holdings so that every action is legal: releases, moves, reservations, activation', () => {
    const p = caps();
    const limits = { maxWarmNs: 1e7, maxEchoNs: 1e7 };
    // a takes cores 6-7 and ways 6-7; b takes 4-5 and ways 4-5; x runs on the rest
    let snap = p.observe();
    let r = reconcile(p.capabilities(), snap, { first: [{ task: 'a', cores: { active: [6, 7], warm: [] }, ways: { active: 0xc0, warm: 0 } }, { task: 'b', cores: { active: [4, 5], warm: [] }, ways: { active: 0x30, warm: 0 } }], second: [{ task: 'x', cores: [0, 1, 2, 3] }], echoes: [] }, limits);
    expect(p.apply(r.actions).refused).toEqual([]);
    expect(r.deferred).toEqual([]);
    // now a gives core 6 to b and b gives core 4 back to the pool; x grows onto core 4
    snap = p.observe();
    r = reconcile(p.capabilities(), snap, { first: [{ task: 'a', cores: { active: [7], warm: [] } }, { task: 'b', cores: { active: [5, 6], warm: [] } }], second: [{ task: 'x', cores: [0, 1, 2, 3, 4] }], echoes: [] }, limits);
    expect(p.apply(r.actions).refused).toEqual([]);
    expect(p.violations()).toEqual([]);
    expect(p.view().get('b')!.cores).toEqual([5, 6]);
    expect(p.view().get('x')!.cores).toEqual([0, 1, 2, 3, 4]);
  });

  it('reports what it cannot do as deferred instead of emitting a refused action', () => {
    const p = caps();
    const snap = p.observe();
    // x is told nothing, so it stays on every core: a cannot reserve core 7 while x runs there... unless x moves; here x's plan keeps it on 7
    const r = reconcile(p.capabilities(), snap, { first: [{ task: 'a', cores: { active: [7], warm: [] } }], second: [{ task: 'x', cores: [0, 1, 2, 3, 4, 5, 6, 7] }], echoes: [] }, { maxWarmNs: 1e7, maxEchoNs: 1e7 });
    expect(p.apply(r.actions).refused).toEqual([]);
    expect(r.deferred.some((d) => d.task === 'a' && d.resource === 'cores')).toBe(true);
  });
});
