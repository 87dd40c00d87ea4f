// CPU quota arithmetic shared by v1 (cpu.cfs_quota_us) and v2 (cpu.max).

/** The kernel refuses quotas below 1 ms per period. */
export const MIN_CPU_QUOTA_US = 1000;

/**
 * Quota in µs per period for pct percent of nCores cores, or null for "no cap"
 * (pct >= 100). Throws when the quota would fall below the kernel minimum, so
 * the action is refused rather than silently clipped.
 */
export function cpuQuotaUs(pct: number, nCores: number, periodUs: number): number | null {
  if (!(pct > 0)) throw new RangeError(`cpu quota must be > 0%, got ${pct}`);
  if (pct >= 100) return null;
  const quota = Math.round((periodUs * Math.max(1, nCores) * pct) / 100);
  if (quota < MIN_CPU_QUOTA_US) {
    throw new RangeError(`${pct}% of ${nCores} core(s) is ${quota} µs per ${periodUs} µs period, below the kernel's ${MIN_CPU_QUOTA_US} µs minimum`);
  }
  return quota;
}
