// From "how many units each first-class task holds" to a plan: concrete
// units from the layout (sticky cores and colours, packed way blocks), the
// second-class pool (everything no first-class task holds; all second-class
// tasks share it), and the second-class entries that keep them off units the
// first-class tasks hold. Shared by the shadow engine and the baselines.
import type { Capabilities, ResourceKind, TaskId, TaskSample } from '../platform.js';
import { layoutUnits, layoutWays, type UnitWant, type WayWant } from './layout.js';
import { maskWays } from './masks.js';
import type { FirstClassPlan, SecondClassPlan } from './plan.js';

export interface Split {
  active: number;
  warm: number;
}

export interface FirstAmounts {
  task: TaskId;
  cores?: Split;
  ways?: Split;
  colours?: Split;
  memBandwidthPct?: number;
  ioWeight?: number;
}

export interface Partition {
  first: Map<TaskId, FirstClassPlan>;
  second: Map<TaskId, SecondClassPlan>;
  corePool: number[];
  wayPool: number;
  colourPool: number[];
}

/** Units of a kind a task holds now: active = in its allocation and reserved (or, before any reservation, its allocation). */
export function currentUnits(t: TaskSample, kind: 'cores' | 'colours'): { active: number[]; warm: number[] } {
  const alloc = kind === 'cores' ? t.allocation.cores : t.allocation.bankColours;
  const res = kind === 'cores' ? (t.reserved?.cores ?? []) : (t.reserved?.bankColours ?? []);
  const rs = new Set(res);
  const inBoth = alloc.filter((u) => rs.has(u));
  const active = inBoth.length ? inBoth : alloc;
  const act = new Set(active);
  return { active: [...active], warm: res.filter((u) => !act.has(u)) };
}

export function heldCount(t: TaskSample, r: ResourceKind): { reserved: number; active: number } {
  const res = t.reserved;
  switch (r) {
    case 'cores': {
      const rs = new Set(res?.cores ?? []);
      return { reserved: rs.size, active: t.allocation.cores.filter((c) => rs.has(c)).length };
    }
    case 'cacheWays': {
      const m = res?.cacheWayMask ?? 0;
      return { reserved: maskWays(m).length, active: maskWays(m & t.allocation.cacheWayMask).length };
    }
    case 'bankColours': {
      const rs = new Set(res?.bankColours ?? []);
      return { reserved: rs.size, active: t.allocation.bankColours.filter((c) => rs.has(c)).length };
    }
    case 'memBandwidthPct':
      return { reserved: res?.memBandwidthPct ?? 0, active: res?.memBandwidthPct ?? 0 };
    case 'ioWeight':
      return { reserved: res?.ioWeight ?? 0, active: res?.ioWeight ?? 0 };
  }
}

export function buildPartition(caps: Capabilities, firsts: readonly TaskSample[], seconds: readonly TaskSample[], amounts: ReadonlyMap<TaskId, FirstAmounts>): Partition {
  const first = new Map<TaskId, FirstClassPlan>();
  for (const t of firsts) first.set(t.id, { task: t.id });
  const manageCores = firsts.some((t) => amounts.get(t.id)?.cores);
  const manageWays = !!caps.cacheWays && firsts.some((t) => amounts.get(t.id)?.ways);
  const manageColours = !!caps.bankColours && firsts.some((t) => amounts.get(t.id)?.colours);

  let corePool = [...caps.coreIds].sort((a, b) => a - b);
  if (manageCores) {
    const wants: UnitWant[] = [];
    for (const t of firsts) {
      const a = amounts.get(t.id)?.cores;
      if (!a) continue;
      const cur = currentUnits(t, 'cores');
      wants.push({ task: t.id, active: a.active, warm: a.warm, currentActive: cur.active, currentWarm: cur.warm });
    }
    const l = layoutUnits(caps.coreIds, wants);
    for (const [id, s] of l.byTask) first.get(id)!.cores = s;
    corePool = l.pool;
  }
  let wayPool = 0;
  if (manageWays && caps.cacheWays) {
    const wants: WayWant[] = [];
    for (const t of firsts) {
      const a = amounts.get(t.id)?.ways;
      const r = t.reserved?.cacheWayMask ?? 0;
      if (a) wants.push({ task: t.id, active: a.active, warm: a.warm, current: r !== 0 ? r : t.allocation.cacheWayMask });
    }
    const l = layoutWays(caps.cacheWays.totalWays, wants);
    for (const [id, s] of l.byTask) first.get(id)!.ways = s;
    wayPool = l.pool;
  }
  let colourPool: number[] = caps.bankColours ? Array.from({ length: caps.bankColours.count }, (_, i) => i) : [];
  if (manageColours && caps.bankColours) {
    const wants: UnitWant[] = [];
    for (const t of firsts) {
      const a = amounts.get(t.id)?.colours;
      if (!a) continue;
      const cur = currentUnits(t, 'colours');
      wants.push({ task: t.id, active: a.active, warm: a.warm, currentActive: cur.active, currentWarm: cur.warm });
    }
    const l = layoutUnits(colourPool, wants);
    for (const [id, s] of l.byTask) first.get(id)!.colours = s;
    colourPool = l.pool;
  }
  for (const t of firsts) {
    const a = amounts.get(t.id);
    const p = first.get(t.id)!;
    if (a?.memBandwidthPct !== undefined) p.memBandwidthPct = a.memBandwidthPct;
    if (a?.ioWeight !== undefined) p.ioWeight = a.ioWeight;
  }

  const second = new Map<TaskId, SecondClassPlan>();
  for (const t of seconds) {
    const p: SecondClassPlan = { task: t.id };
    if (manageCores && corePool.length) p.cores = [...corePool];
    // explicit masks / colour sets must move off what first-class tasks hold; unrestricted ones (0 / []) already exclude reserved units
    if (manageWays && wayPool && t.allocation.cacheWayMask !== 0) p.wayMask = wayPool;
    if (manageColours && colourPool.length && t.allocation.bankColours.length) p.colours = [...colourPool];
    second.set(t.id, p);
  }
  return { first, second, corePool, wayPool, colourPool };
}
