// Cache allocation (CAT) bit masks: one bit per LLC way. The hardware takes a
// contiguous run of ones (unless info/L3/sparse_masks says otherwise) with at
// least min_cbm_bits bits, inside the full cbm_mask.

export function popcount(mask: number): number {
  let n = 0;
  for (let m = mask >>> 0; m; m &= m - 1) n++;
  return n;
}

export function isContiguous(mask: number): boolean {
  if (mask <= 0) return false;
  const m = mask >>> 0;
  const low = m & -m; // lowest set bit
  const shifted = m / low; // exact: low is a power of two
  return (shifted & (shifted + 1)) === 0;
}

export interface CatRules {
  totalWays: number;
  minWays: number;
  sparseAllowed: boolean;
}

/** Why a mask is not acceptable, or null when it is. */
export function catMaskProblem(mask: number, rules: CatRules): string | null {
  if (!Number.isInteger(mask) || mask <= 0) return `cache way mask must be a positive integer, got ${mask}`;
  if (rules.totalWays < 32 && mask >= 2 ** rules.totalWays) return `mask 0x${mask.toString(16)} uses ways beyond the ${rules.totalWays} the cache has`;
  if (!rules.sparseAllowed && !isContiguous(mask)) return `mask 0x${mask.toString(16)} is not contiguous (CAT requires one run of ways)`;
  if (popcount(mask) < rules.minWays) return `mask 0x${mask.toString(16)} has ${popcount(mask)} way(s), fewer than the minimum ${rules.minWays}`;
  return null;
}

export function fullMask(totalWays: number): number {
  return totalWays >= 32 ? 0xffffffff : 2 ** totalWays - 1;
}
