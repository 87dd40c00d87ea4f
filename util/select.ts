// k-th smallest element in expected linear time (Hoare's quickselect with a
// median-of-three pivot), partially reordering the array in place. Percentiles
// of a window's latencies need three of these, not a full sort.

/** Reorder a[lo..hi] so that a[k] holds the value a sorted array would have there. */
export function selectInPlace(a: Float64Array, k: number, lo = 0, hi = a.length - 1): number {
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // median of three as the pivot, kept at a[mid]
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
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
 * sorted copy holds at ceil(q n) - 1), partially reordering them. The upper
 * two come from one pass that keeps the largest n - rank(p95) values in a
 * small sorted buffer (a handful for a window of a hundred requests), the
 * median from one quickselect: about half the comparisons of three chained
 * quickselects. Long windows (more than `TOP_BUFFER` values above p95) use
 * the chained quickselects, which do not grow with the buffer.
 */
export function windowPercentiles(a: Float64Array, out: { p50: number; p95: number; p99: number }): void {
  const n = a.length;
  if (n === 0) {
    out.p50 = out.p95 = out.p99 = 0;
    return;
  }
  const r95 = nearestRankIndex(n, 0.95);
  const r99 = nearestRankIndex(n, 0.99);
  const top = n - r95;
  if (top > TOP_BUFFER) {
    out.p99 = selectInPlace(a, r99);
    out.p95 = selectInPlace(a, r95, 0, r99);
    out.p50 = selectInPlace(a, nearestRankIndex(n, 0.5), 0, r95);
    return;
  }
  // largest `top` values, ascending: top[0] is the value at rank r95
  const buf = topBuffer;
  let filled = 0;
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (filled < top) {
      let j = filled++;
      while (j > 0 && buf[j - 1] > v) {
        buf[j] = buf[j - 1];
        j--;
      }
      buf[j] = v;
    } else if (v > buf[0]) {
      let j = 0;
      while (j + 1 < top && buf[j + 1] < v) {
        buf[j] = buf[j + 1];
        j++;
      }
      buf[j] = v;
    }
  }
  out.p95 = buf[0];
  out.p99 = buf[r99 - r95];
  out.p50 = selectInPlace(a, nearestRankIndex(n, 0.5));
}

const TOP_BUFFER = 64;
const topBuffer = new Float64Array(TOP_BUFFER);
