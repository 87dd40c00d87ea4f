// CAT way masks (bit i = way i) and small set helpers. Masks are at most 32
// ways wide, so plain 32-bit integer arithmetic suffices.

export function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** A non-empty run of consecutive set bits. */
export function isContiguous(mask: number): boolean {
  if (mask === 0) return false;
  const low = mask & -mask;
  return ((mask + low) & mask) === 0;
}

/** Ways [lo, lo + n) as a mask (n = 0 gives 0). */
export function rangeMask(lo: number, n: number): number {
  if (n <= 0) return 0;
  if (n >= 32) return -1 >>> 0;
  return (((1 << n) - 1) << lo) >>> 0;
}

/** All `ways` ways. */
export function fullMask(ways: number): number {
  return rangeMask(0, ways);
}

export function maskWays(mask: number): number[] {
  const out: number[] = [];
  for (let w = 0; w < 32; w++) if ((mask >>> w) & 1) out.push(w);
  return out;
}

/** Lowest set bit index, or -1. */
export function lowestWay(mask: number): number {
  return mask === 0 ? -1 : 31 - Math.clz32(mask & -mask);
}

/** Highest set bit index, or -1. */
export function highestWay(mask: number): number {
  return mask === 0 ? -1 : 31 - Math.clz32(mask);
}

export function sortedNumbers(xs: Iterable<number>): number[] {
  return [...xs].sort((a, b) => a - b);
}

export function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  let equal = true;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) {
    equal = false;
    break;
  }
  if (equal) return true; // the common case: both already in the same order
  const sa = sortedNumbers(a);
  const sb = sortedNumbers(b);
  for (let i = 0; i < sa.length; i++) if (sa[i] !== sb[i]) return false;
  return true;
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

export function clamp01(x: number): number {
  return Number.isFinite(x) ? clamp(x, 0, 1) : 0;
}
