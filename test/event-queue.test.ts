import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EventQueue } from '../sim/core/event-queue.js';

describe('EventQueue', () => {
  it('pops in (time, priority, schedule order) order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 3 })), { maxLength: 200 }), (evs) => {
        const q = new EventQueue();
        const fired: [number, number, number][] = [];
        evs.forEach(([t, p], i) => q.schedule(t, () => fired.push([t, p, i]), `e${i}`, p));
        q.runUntil(100);
        const expected = evs.map(([t, p], i) => [t, p, i] as [number, number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
        expect(fired).toEqual(expected);
      }),
    );
  });

  it('refuses to schedule in the past or at a fractional time', () => {
    const q = new EventQueue();
    q.runUntil(10);
    expect(() => q.schedule(5, () => {})).toThrow(/before now/);
    expect(() => q.schedule(11.5, () => {})).toThrow(/integer/);
  });

  it('skips cancelled events', () => {
    const q = new EventQueue();
    const fired: string[] = [];
    const h = q.schedule(5, () => fired.push('a'));
    q.schedule(6, () => fired.push('b'));
    h.cancel();
    q.runUntil(10);
    expect(fired).toEqual(['b']);
    expect(q.now).toBe(10);
  });
});
