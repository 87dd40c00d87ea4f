// Which concrete units each first-class task gets, given how many it should
// hold. Cores and bank colours are unordered units: a task keeps what it
// already has (active first) so reservations are sticky and warm state is not
// thrown away; new units come from the top of the id range, so the
// second-class pool stays at the bottom and moves little. Cache ways must form
// contiguous masks: first-class blocks are packed from both ends of the LLC
// (first task at the top, second at the bottom, ...) with the active part on
// the outer side, so activating warm ways grows the mask inward and stays
// contiguous; the second-class pool is the contiguous middle.
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
}

export interface WayLayout {
  byTask: Map<TaskId, MaskSplit>;
  /** Contiguous mask of the ways left to second-class work (0 when none). */
  pool: number;
  poolWays: number;
}

/** Packed-from-both-ends layout; the total must fit in totalWays (the caller arbitrated). */
export function layoutWays(totalWays: number, wants: readonly WayWant[]): WayLayout {
  let top = totalWays;
  let bottom = 0;
  const byTask = new Map<TaskId, MaskSplit>();
  wants.forEach((w, i) => {
    const n = Math.max(0, Math.min(w.active + w.warm, top - bottom));
    const a = Math.min(w.active, n);
    if (i % 2 === 0) {
      // top block [top - n, top): active on the outer (upper) side
      byTask.set(w.task, { active: rangeMask(top - a, a), warm: rangeMask(top - n, n - a) });
      top -= n;
    } else {
      byTask.set(w.task, { active: rangeMask(bottom, a), warm: rangeMask(bottom + a, n - a) });
      bottom += n;
    }
  });
  return { byTask, pool: rangeMask(bottom, top - bottom), poolWays: top - bottom };
}
