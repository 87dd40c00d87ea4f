// k-th smallest element in expected linear time (quickselect with a
// median-of-three pivot), partially reordering the array in place. Percentiles
// of a window's latencies need three of these, not a full sort.
//
// The partition is Lomuto's without a branch on the data: every element is
// swapped with the partition's boundary and the boundary moves on by
// +(v < pivot). On a window's latencies (random order) the branchy Hoare
// partition used before mispredicts about every other comparison: 15-16 ns
// per element for a median of 100 values here, against 5.3-5.8 ns now
// (scratch benchmark, 2026-11-24). Lomuto alone degrades on runs of equal
// values (rejected requests are all Infinity): a round that leaves nothing
// below its pivot then also gathers the pivot's equals, so each round still
// removes them all.

/** Reorder a[lo..hi] so that a[k] holds the value a sorted array would have there. */
export function selectInPlace(a: Float64Array, k: number, lo = 0, hi = a.length - 1): number {
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // median of three as the pivot, kept at a[hi]: a[lo] <= a[hi] <= a[mid]
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[mid] < a[hi]) swap(a, mid, hi);
    const pivot = a[hi];
    let j = lo;
    for (let i = lo; i < hi; i++) {
      const v = a[i];
      a[i] = a[j];
      a[j] = v;
      j += +(v < pivot);
    }
    a[hi] = a[j];
    a[j] = pivot;
    if (k < j) {
      hi = j - 1;
      continue;
    }
    if (k === j) return pivot;
    if (j - lo < (hi - lo) >>> 4) {
      // almost nothing below the pivot: its equals may be many; [j+1, hi] is >= pivot
      let e = j + 1;
      for (let i = j + 1; i <= hi; i++) {
        const v = a[i];
        a[i] = a[e];
        a[e] = v;
        e += +(v === pivot);
      }
      if (k < e) return pivot;
      lo = e;
    } else {
      lo = j + 1;
    }
  }
  return a[k];
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

/** Where the nearest-rank q-quantile of n values (n >= 1, q in (0, 1]) sits in their ascending order: ceil(q n) - 1. */
export function nearestRankIndex(n: number, q: number): number {
  return Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
}

/**
 * The p50, p95 and p99 of a window's values (nearest rank: the value a
 * sorted copy holds at ceil(q n) - 1), partially reordering them: the median
 * first, then p95 among the values above it and p99 among those above p95.
 * Each selection leaves the larger values above its rank, so the three cost
 * about 1.5 passes over the window (a top-5% buffer filled in one pass and
 * a median selection, the way before, measured 11-12 ns per value for
 * windows of 100-160 against 8-10 now).
 */
export function windowPercentiles(a: Float64Array, out: { p50: number; p95: number; p99: number }): void {
  const n = a.length;
  if (n === 0) {
    out.p50 = out.p95 = out.p99 = 0;
    return;
  }
  const r50 = nearestRankIndex(n, 0.5);
  const r95 = nearestRankIndex(n, 0.95);
  const r99 = nearestRankIndex(n, 0.99);
  out.p50 = selectInPlace(a, r50);
  out.p95 = r95 === r50 ? out.p50 : selectInPlace(a, r95, r50 + 1, n - 1);
  out.p99 = r99 === r95 ? out.p95 : selectInPlace(a, r99, r95 + 1, n - 1);
}
