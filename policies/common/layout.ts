// Which concrete units each first-class task gets, given how many it should
// hold. Cores and bank colours are unordered units: a task keeps what it
// already has (active first) so reservations are sticky and warm state is not
// thrown away; new units come from the top of the id range, so the
// second-class pool stays at the bottom and moves little. Cache ways must form
// contiguous masks: see layoutWays (order-preserving blocks around the
// second-class pool).
import type { TaskId } from '../platform.js';
import { rangeMask } from './masks.js';
import type { MaskSplit, UnitSplit } from './plan.js';

export interface UnitWant {
  task: TaskId;
  active: number;
  warm: number;
  /** Units the task holds now and is using (kept first). */
  currentActive: readonly number[];
  /** Units the task holds now, reserved but not in use. */
  currentWarm: readonly number[];
}

export interface UnitLayout {
  byTask: Map<TaskId, UnitSplit>;
  /** Units no first-class task holds (the second-class pool), ascending. */
  pool: number[];
}

/** Assign units; the sum of (active + warm) must not exceed universe.length (the caller arbitrated). */
export function layoutUnits(universe: readonly number[], wants: readonly UnitWant[]): UnitLayout {
  const exists = new Set(universe);
  const taken = new Set<number>();
  const byTask = new Map<TaskId, UnitSplit>();
  // Pass 1: keep what each task already holds, in a stable order (id order of the wants).
  for (const w of wants) {
    const active: number[] = [];
    const warm: number[] = [];
    const keepFrom = (src: readonly number[], into: number[], n: number) => {
      for (const u of src) {
        if (into.length >= n) break;
        if (exists.has(u) && !taken.has(u)) {
          into.push(u);
          taken.add(u);
        }
      }
    };
    const cur = [...w.currentActive].sort((a, b) => b - a);
    const curWarm = [...w.currentWarm].sort((a, b) => b - a);
    keepFrom(cur, active, w.active);
    keepFrom(curWarm, active, w.active); // promote warm units first when active grows
    const leftover = [...cur, ...curWarm].filter((u) => !taken.has(u));
    keepFrom(leftover, warm, w.warm);
    byTask.set(w.task, { active, warm });
  }
  // Pass 2: grow from the free units, highest ids first.
  const free = [...universe].filter((u) => !taken.has(u)).sort((a, b) => b - a);
  let next = 0;
  for (const w of wants) {
    const s = byTask.get(w.task)!;
    while (s.active.length < w.active && next < free.length) s.active.push(free[next++]);
    while (s.warm.length < w.warm && next < free.length) s.warm.push(free[next++]);
    s.active.sort((a, b) => a - b);
    s.warm.sort((a, b) => a - b);
  }
  const held = new Set<number>();
  for (const s of byTask.values()) for (const u of [...s.active, ...s.warm]) held.add(u);
  return { byTask, pool: [...universe].filter((u) => !held.has(u)).sort((a, b) => a - b) };
}

export interface WayWant {
  task: TaskId;
  active: number;
  warm: number;
  /** Ways the task holds now (its reservation, or its explicit mask before any); 0 = none. */
  current: number;
}

export interface WayLayout {
  byTask: Map<TaskId, MaskSplit>;
  /** Contiguous mask of the ways left to second-class work (0 when none). */
  pool: number;
  poolWays: number;
}

/**
 * Order-preserving layout of contiguous way blocks. Tasks keep the order
 * their current blocks have along the LLC, and the second-class pool keeps
 * its place in that order (the largest run of ways nobody holds); tasks new to
 * the layout are put next to the pool. Blocks are then packed from way 0 in
 * that order. Because the order never changes, a block only ever shifts
 * towards or away from the pool and two tasks never need each other's ways at
 * the same time (no swap, so the reconciler can always make progress); a
 * task's resize moves only the blocks between it and the pool. Inside a
 * block the warm ways face the pool, so activating them grows the active
 * mask towards the pool and keeps it contiguous. The sizes must fit
 * (the caller arbitrated).
 */
export function layoutWays(totalWays: number, wants: readonly WayWant[]): WayLayout {
  const lowest = (m: number) => (m === 0 ? Infinity : 31 - Math.clz32(m & -m));
  const placed = wants.filter((w) => w.current !== 0).sort((a, b) => lowest(a.current) - lowest(b.current) || (a.task < b.task ? -1 : 1));
  const fresh = wants.filter((w) => w.current === 0);
  // where the pool is now: the longest run of ways no task holds (ties: the lowest)
  let held = 0;
  for (const w of wants) held |= w.current;
  let bestLo = 0;
  let bestLen = -1;
  for (let lo = 0; lo < totalWays; ) {
    if ((held >>> lo) & 1) {
      lo++;
      continue;
    }
    let hi = lo;
    while (hi < totalWays && !((held >>> hi) & 1)) hi++;
    if (hi - lo > bestLen) {
      bestLen = hi - lo;
      bestLo = lo;
    }
    lo = hi;
  }
  const poolIndex = bestLen < 0 ? 0 : placed.filter((w) => lowest(w.current) < bestLo).length;
  type Item = WayWant | 'pool';
  const order: Item[] = [...placed.slice(0, poolIndex), 'pool', ...fresh, ...placed.slice(poolIndex)];
  const total = wants.reduce((s, w) => s + w.active + w.warm, 0);
  const poolWays = Math.max(0, totalWays - total);
  const byTask = new Map<TaskId, MaskSplit>();
  let cursor = 0;
  let pool = 0;
  let abovePool = false;
  for (const it of order) {
    if (it === 'pool') {
      pool = rangeMask(cursor, poolWays);
      cursor += poolWays;
      abovePool = true;
      continue;
    }
    const n = Math.max(0, Math.min(it.active + it.warm, totalWays - cursor));
    const a = Math.min(it.active, n);
    if (abovePool) byTask.set(it.task, { warm: rangeMask(cursor, n - a), active: rangeMask(cursor + n - a, a) });
    else byTask.set(it.task, { active: rangeMask(cursor, a), warm: rangeMask(cursor + a, n - a) });
    cursor += n;
  }
  return { byTask, pool, poolWays };
}
