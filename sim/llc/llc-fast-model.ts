// Fast-mode LLC: per-task miss ratios and occupancy from cache profiles, without
// replaying accesses.
//
// Tasks that may fill the same ways share them by the natural partition of
// LRU: every line lives, after its last use, for a common eviction time T, so a
// task holds the footprint it makes within T; T is where the footprints fill the
// capacity (sum_i fp_i(lambda_i T) = C). CAT masks add capacity constraints: the
// tasks confined to a mask M cannot hold more than |M| ways. These are solved
// by water-filling (raise T for everyone; when the tasks inside some mask fill
// it, freeze them there and go on with the rest), which is exact for nested or
// disjoint masks; partially overlapping masks get the per-mask constraints only.
// Each task's miss ratio is its stack-distance curve at the ways it holds.
import { missRatioAt, occupancyAtMean, reuseMissAtMean, type CacheProfile } from './cache-profile.js';

export interface LlcFastTask {
  profile: CacheProfile;
  /** LLC accesses per second (whole cache). */
  accessesPerSec: number;
  /** Ways the task may fill (bit i = way i). */
  mask: number;
  /**
   * Identical tasks (same profile, rate and mask) this one stands for,
   * default 1: they hold the same share and miss alike, so the model
   * evaluates one and counts its footprint once per copy (the contention
   * solver passes each set of identical tasks this way).
   */
  copies?: number;
}

/**
 * Typed arrays, not plain ones: a plain array whose values all happen to be
 * whole numbers (idle tasks at 0, shares capped at their mask's ways) is kept
 * by V8 as small integers and otherwise as doubles, and the solver reading
 * one kind where it was compiled for the other threw its compiled code away
 * in the middle of runs (node --trace-deopt: "wrong map").
 */
export interface LlcFastResult {
  /** Steady-state lines per set each task holds. */
  occupancyWays: Float64Array;
  /** Steady-state miss ratio per task. */
  missRatio: Float64Array;
  /** Eviction time of the unconstrained tasks (a warm start for the next solve). */
  rootEvictionTime: number;
  /** Eviction time each task's lines live under (its constraint group's). */
  evictionTime: Float64Array;
}

function missRatios(tasks: LlcFastTask[], occ: Float64Array, evictionTime: Float64Array): Float64Array {
  const out = new Float64Array(tasks.length);
  for (let i = 0; i < tasks.length; i++) out[i] = missRatioOf(tasks[i], occ[i], evictionTime[i]);
  return out;
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/**
 * T such that the footprints fill the capacity (Infinity when everything
 * fits). The footprint curves are tabulated on a log grid and interpolated
 * linearly there, so the total is monotone and piecewise linear in log T: the
 * root is bracketed (from `hint`, a previous answer, when given: repeated
 * solves of a slowly changing mix start next to it) and then found by
 * regula falsi with the Illinois fix on log T, which lands on the root in
 * one step once both ends lie on one linear stretch: 5 evaluations per solve
 * on the benchmark scenario, where bisection to a 1e-4 relative width took 17.
 */
function solveEvictionTime(tasks: LlcFastTask[], copies: Float64Array, idx: number[], capacityWays: number, hint?: number): number {
  if (capacityWays <= 0) return 0;
  const k = idx.length;
  const rate = new Float64Array(k);
  const count = new Float64Array(k);
  const prof: CacheProfile[] = [];
  let fitsAll = 0;
  for (let j = 0; j < k; j++) {
    const t = tasks[idx[j]];
    rate[j] = t.accessesPerSec / t.profile.sets;
    count[j] = copies[idx[j]];
    prof.push(t.profile);
    fitsAll += count[j] * t.profile.linesPerSet;
  }
  if (fitsAll <= capacityWays) return Infinity;
  const total = (t: number) => {
    let s = 0;
    for (let j = 0; j < k; j++) s += count[j] * occupancyAtMean(prof[j], rate[j] * t);
    return s;
  };
  let lo: number;
  let hi: number;
  let fLo: number;
  let fHi: number;
  if (hint !== undefined && hint > 0 && Number.isFinite(hint)) {
    // the eviction time moves little between solves: widen the step away
    // from the hint from 2% (each miss doubles its log)
    const f = total(hint);
    lo = hi = hint;
    fLo = fHi = f;
    let factor = 1.02;
    let guard = 0;
    while (fLo > capacityWays && guard++ < 60) {
      hi = lo;
      fHi = fLo;
      lo /= factor;
      factor = Math.min(factor * factor, 1e30);
      fLo = total(lo);
    }
    factor = 1.02;
    guard = 0;
    while (fHi < capacityWays && guard++ < 60) {
      lo = hi;
      fLo = fHi;
      hi *= factor;
      factor = Math.min(factor * factor, 1e30);
      fHi = total(hi);
    }
    if (fHi < capacityWays) return Infinity;
  } else {
    hi = 1;
    fHi = total(hi);
    let guard = 0;
    while (fHi < capacityWays) {
      hi *= 8;
      fHi = total(hi);
      if (++guard > 40) return Infinity;
    }
    lo = hi / 8;
    fLo = total(lo);
    guard = 0;
    while (fLo > capacityWays && guard++ < 80) {
      lo /= 8;
      fLo = total(lo);
    }
  }
  if (fLo === capacityWays) return lo;
  if (fHi === capacityWays) return hi;
  // regula falsi on u = log2 T between (uLo, gLo < 0) and (uHi, gHi > 0); the
  // Illinois fix halves the retained end's value when the same end is kept
  // twice, so convergence stays superlinear at a bend of the curve
  let uLo = Math.log2(lo);
  let uHi = Math.log2(hi);
  let gLo = fLo - capacityWays;
  let gHi = fHi - capacityWays;
  let side = 0;
  const tolU = Math.log2(1.0001);
  const tolWays = 1e-9 * capacityWays;
  for (let it = 0; it < 100 && uHi - uLo > tolU; it++) {
    let u = gHi - gLo > 0 ? uLo - (gLo * (uHi - uLo)) / (gHi - gLo) : 0.5 * (uLo + uHi);
    if (!(u > uLo && u < uHi)) u = 0.5 * (uLo + uHi);
    const g = total(2 ** u) - capacityWays;
    if (Math.abs(g) <= tolWays) return 2 ** u;
    if (g < 0) {
      uLo = u;
      gLo = g;
      if (side === -1) gHi /= 2;
      side = -1;
    } else {
      uHi = u;
      gHi = g;
      if (side === 1) gLo /= 2;
      side = 1;
    }
  }
  return 2 ** (0.5 * (uLo + uHi));
}

function occupancyAt(task: LlcFastTask, t: number): number {
  if (t === Infinity) return task.profile.linesPerSet;
  return occupancyAtMean(task.profile, (task.accessesPerSec / task.profile.sets) * t);
}

/**
 * `hint`: the root eviction time of a previous solve of a similar mix (returned
 * in the result), to warm-start the search.
 */
export function solveLlcSharing(totalWays: number, tasks: LlcFastTask[], hint?: number): LlcFastResult {
  const n = tasks.length;
  const full = totalWays >= 32 ? -1 : (1 << totalWays) - 1;
  const copies = new Float64Array(n);
  const masks = new Array<number>(n);
  let oneMaskForAll = true;
  for (let i = 0; i < n; i++) {
    const t = tasks[i];
    copies[i] = t.copies ?? 1;
    masks[i] = t.mask === 0 ? full : t.mask & full;
    if (masks[i] !== masks[0]) oneMaskForAll = false;
  }
  const occ = new Float64Array(n);
  const evictionTime = new Float64Array(n);
  if (oneMaskForAll) return oneMask(tasks, copies, n > 0 ? masks[0] : full, occ, evictionTime, hint);
  const fixed = new Array<boolean>(n).fill(false);
  for (let i = 0; i < n; i++) {
    if (!(tasks[i].accessesPerSec > 0)) fixed[i] = true; // idle: holds nothing in steady state
  }
  let rootTime = Infinity;
  const distinctMasks = [...new Set(masks)].sort((a, b) => popcount(a) - popcount(b));
  const union = masks.reduce((u, m) => u | m, 0);

  for (let round = 0; round <= distinctMasks.length + 1; round++) {
    const free = tasks.map((_, i) => i).filter((i) => !fixed[i]);
    if (free.length === 0) break;
    const fixedOccIn = (m: number) => {
      let s = 0;
      for (let i = 0; i < tasks.length; i++) if (fixed[i] && (masks[i] & ~m) === 0) s += copies[i] * occ[i];
      return s;
    };
    const tRoot = solveEvictionTime(tasks, copies, free, popcount(union) - fixedOccIn(union), round === 0 ? hint : undefined);
    if (round === 0) rootTime = tRoot;
    // the mask whose confined tasks fill it first (smallest eviction time), if before the global one
    let bestT = tRoot;
    let bestMask = 0;
    let bestIdx: number[] = [];
    for (const m of distinctMasks) {
      if (m === union) continue;
      const inside = free.filter((i) => (masks[i] & ~m) === 0);
      if (inside.length === 0) continue;
      const t = solveEvictionTime(tasks, copies, inside, popcount(m) - fixedOccIn(m));
      if (t < bestT) {
        bestT = t;
        bestMask = m;
        bestIdx = inside;
      }
    }
    if (bestMask === 0) {
      for (const i of free) {
        occ[i] = Math.min(occupancyAt(tasks[i], tRoot), popcount(masks[i]));
        evictionTime[i] = tRoot;
        fixed[i] = true;
      }
      break;
    }
    for (const i of bestIdx) {
      occ[i] = Math.min(occupancyAt(tasks[i], bestT), popcount(masks[i]));
      evictionTime[i] = bestT;
      fixed[i] = true;
    }
  }
  return {
    occupancyWays: occ,
    missRatio: missRatios(tasks, occ, evictionTime),
    rootEvictionTime: rootTime,
    evictionTime,
  };
}

/**
 * Every task may fill the same ways (no partition, the common case): one
 * eviction time for all, what the water-filling's first round gives with no
 * mask to fill first, without its bookkeeping.
 */
function oneMask(tasks: LlcFastTask[], copies: Float64Array, mask: number, occ: Float64Array, evictionTime: Float64Array, hint: number | undefined): LlcFastResult {
  const active: number[] = [];
  for (let i = 0; i < tasks.length; i++) if (tasks[i].accessesPerSec > 0) active.push(i); // (idle: holds nothing in steady state)
  let rootTime = Infinity;
  if (active.length > 0) {
    const ways = popcount(mask);
    rootTime = solveEvictionTime(tasks, copies, active, ways, hint);
    for (const i of active) {
      occ[i] = Math.min(occupancyAt(tasks[i], rootTime), ways);
      evictionTime[i] = rootTime;
    }
  }
  return { occupancyWays: occ, missRatio: missRatios(tasks, occ, evictionTime), rootEvictionTime: rootTime, evictionTime };
}

/**
 * A task whose lines do not all fit misses as its stack-distance curve says at
 * the ways it holds (the curve is exact for LRU when the task holds whole ways,
 * and stays close when it shares them). That curve says nothing useful below
 * one way per set, nor for a task whose whole working set fits within the
 * eviction time (it holds fewer lines than it could use): such a task misses
 * exactly on reuses that take longer than the eviction time. The weight moves
 * from the first answer to the second as occupancy falls below 1.5 ways or
 * rises above 80% of the working set.
 */
function missRatioOf(task: LlcFastTask, occupancyWays: number, evictionTimeSec: number): number {
  if (!(task.accessesPerSec > 0)) return 0;
  const p = task.profile;
  const saturation = p.linesPerSet > 0 ? occupancyWays / p.linesPerSet : 1;
  const wSaturated = clamp01((saturation - 0.8) / 0.15);
  const wSparse = clamp01((1.5 - occupancyWays) / 0.5);
  const w = Math.max(wSaturated, wSparse);
  const n = evictionTimeSec === Infinity ? Infinity : (task.accessesPerSec / p.sets) * evictionTimeSec;
  const byReuse = w > 0 ? reuseMissAtMean(p, n) : 0;
  const byCurve = w < 1 ? missRatioAt(p, occupancyWays) : 0;
  return byCurve * (1 - w) + byReuse * w;
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/**
 * Re-evaluate shares after small rate changes without moving the eviction
 * times: each task's occupancy and miss ratio at its group's previous
 * eviction time and its new rate. Exact in the limit of small changes (a few
 * percent of the total traffic move the eviction times by about as much).
 */
export function updateLlcSharing(totalWays: number, tasks: LlcFastTask[], previous: LlcFastResult): LlcFastResult {
  const full = totalWays >= 32 ? -1 : (1 << totalWays) - 1;
  const occ = new Float64Array(tasks.length);
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i];
    if (!(t.accessesPerSec > 0)) continue;
    const mask = t.mask === 0 ? full : t.mask & full;
    occ[i] = Math.min(occupancyAt(t, previous.evictionTime[i]), popcount(mask));
  }
  return {
    occupancyWays: occ,
    missRatio: missRatios(tasks, occ, previous.evictionTime),
    rootEvictionTime: previous.rootEvictionTime,
    evictionTime: previous.evictionTime,
  };
}
