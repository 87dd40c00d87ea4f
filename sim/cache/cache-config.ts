// Cache geometry (size, associativity, line size) in cachegrind's
// `--I1=SIZE,ASSOC,LINE` syntax, validated exactly as valgrind 3.19's
// cg_arch.c (check_cache) does, so a configuration umbra accepts is one
// cachegrind would simulate and vice versa. Messages name the option at fault.
import { InputError } from '../../util/errors.js';

export interface CacheConfig {
  sizeBytes: number;
  ways: number;
  lineBytes: number;
}

/** cachegrind's MIN_LINE_SIZE: below it one instruction could straddle three lines. */
export const MIN_LINE_BYTES = 16;

/**
 * cachegrind's built-in x86/amd64 fallback (cg_arch.c, used when the host's
 * caches cannot be queried). umbra uses these when an option is omitted,
 * because the auto-detected values of the machine that produced a trace are
 * not knowable offline.
 */
export const CACHEGRIND_FALLBACK_CONFIGS: Readonly<Record<'I1' | 'D1' | 'LL', CacheConfig>> = {
  I1: { sizeBytes: 65536, ways: 2, lineBytes: 64 },
  D1: { sizeBytes: 65536, ways: 2, lineBytes: 64 },
  LL: { sizeBytes: 262144, ways: 8, lineBytes: 64 },
};

const INT_MAX = 2 ** 31 - 1; // cachegrind keeps each field in a C int

function isPowerOfTwo(x: number): boolean {
  // VG_(log2) only knows 2^0..2^31; 0 and non-powers yield -1.
  return Number.isInteger(x) && x >= 1 && x <= 2 ** 31 && (x & (x - 1)) === 0;
}

/**
 * The reason cachegrind refuses this geometry, or null when it is accepted.
 * Same checks in the same order as cg_arch.c's check_cache, plus the
 * zero/negative cases on which cachegrind itself divides by zero.
 */
export function cacheConfigProblem(c: CacheConfig): string | null {
  const { sizeBytes: size, ways, lineBytes: line } = c;
  for (const [name, v] of [['size', size], ['associativity', ways], ['line size', line]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) return `${name} must be a positive integer, got ${v}`;
    if (v > INT_MAX) return `${name} ${v} overflows cachegrind's 32-bit field (max ${INT_MAX})`;
  }
  const sets = size / (line * ways);
  if (size % (line * ways) !== 0 || !isPowerOfTwo(sets)) {
    return `cache set count is not a power of two (${size} / (${line} B x ${ways} ways) = ${Number.isInteger(sets) ? sets : sets.toFixed(3)} sets)`;
  }
  if (!isPowerOfTwo(line)) return `cache line size ${line} is not a power of two`;
  if (line < MIN_LINE_BYTES) return `cache line size ${line} is too small (cachegrind's minimum is ${MIN_LINE_BYTES} B)`;
  if (size <= line) return `cache size ${size} <= line size ${line}`;
  if (ways > size / line) return `associativity ${ways} > size / line size (${size / line})`;
  return null;
}

/** Throws InputError naming `field` when cachegrind would reject `c`. */
export function validateCacheConfig(c: CacheConfig, field: string): CacheConfig {
  const problem = cacheConfigProblem(c);
  if (problem) throw new InputError(`${problem}; cachegrind rejects this configuration`, field);
  return c;
}

/**
 * Parse `SIZE,ASSOC,LINE` (decimal, like cachegrind's --I1/--D1/--LL) and
 * validate it. `field` names the option in errors (e.g. "--I1").
 */
export function parseCacheSpec(text: string, field: string): CacheConfig {
  const m = /^\+?(\d+),\+?(\d+),\+?(\d+)$/.exec(text.trim());
  if (!m) {
    throw new InputError(`expected SIZE,ASSOC,LINE as three decimal integers in bytes, ways, bytes (e.g. 32768,8,64), got "${text}"`, field);
  }
  const [sizeBytes, ways, lineBytes] = [m[1], m[2], m[3]].map((s) => (s.length > 15 ? Infinity : Number(s)));
  for (const v of [sizeBytes, ways, lineBytes]) {
    if (v > INT_MAX) throw new InputError(`"${text}": one of the cache parameters is too large and overflows cachegrind's 32-bit field (max ${INT_MAX})`, field);
  }
  return validateCacheConfig({ sizeBytes, ways, lineBytes }, field);
}

export function formatCacheConfig(c: CacheConfig): string {
  return `${c.sizeBytes} B, ${c.ways === 1 ? 'direct-mapped' : `${c.ways}-way`}, ${c.lineBytes} B lines`;
}
