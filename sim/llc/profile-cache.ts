// Profiles are a property of (access pattern, LLC geometry), measured from a
// fixed profiling seed so that they do not depend on the run's seed. They are
// computed once per process and shared by every task running the same kernel,
// and kept on disk (node_modules/.cache/umbra/profiles, or UMBRA_CACHE_DIR) so
// worker threads and later runs skip the few seconds a profile takes. The
// file is keyed by a hash of the pattern, the geometry and PROFILE_VERSION, so
// a change to the profiler never reads a stale profile.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rngFor } from '../../util/rng.js';
import { packageRoot } from '../../util/paths.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { makePattern, patternKey, type PatternSpec } from '../workloads/kernel.js';
import { profilePattern, type CacheProfile } from './cache-profile.js';

const PROFILE_SEED = 'umbra-profile';
/** Bump when the profiler's output changes. */
const PROFILE_VERSION = 4;
const memory = new Map<string, CacheProfile>();

function cacheDir(): string | null {
  if (process.env.UMBRA_CACHE_DIR === '') return null;
  return process.env.UMBRA_CACHE_DIR ?? join(packageRoot(), 'node_modules', '.cache', 'umbra', 'profiles');
}

const FLOAT_FIELDS = ['missRatioByWays', 'nGrid', 'occupancyAt', 'reuseMissAt'] as const;

function fromJson(text: string): CacheProfile {
  const raw = JSON.parse(text) as Record<string, unknown>;
  const p = { ...raw } as unknown as CacheProfile;
  for (const f of FLOAT_FIELDS) (p as unknown as Record<string, unknown>)[f] = Float64Array.from(raw[f] as number[]);
  return p;
}

function toJson(p: CacheProfile): string {
  const o: Record<string, unknown> = { ...p };
  for (const f of FLOAT_FIELDS) o[f] = Array.from(p[f]);
  return JSON.stringify(o);
}

export function profileFor(pattern: PatternSpec, lineBytes: number, sets: number, ways: number): CacheProfile {
  const key = `${patternKey(pattern, lineBytes)}|${lineBytes}|${sets}|${ways}`;
  let p = memory.get(key);
  if (p) return p;
  const dir = cacheDir();
  const file = dir ? join(dir, `${createHash('sha256').update(`v${PROFILE_VERSION}|${key}`).digest('hex').slice(0, 24)}.json`) : null;
  if (file && existsSync(file)) {
    try {
      p = fromJson(readFileSync(file, 'utf8'));
    } catch {
      p = undefined; // unreadable cache entry: recompute and overwrite
    }
  }
  if (!p) {
    p = profilePattern(makePattern(pattern, lineBytes, rngFor(PROFILE_SEED, key)), sets, ways);
    if (file) {
      try {
        mkdirSync(dir!, { recursive: true });
        writeFileAtomic(file, toJson(p));
      } catch {
        // a read-only install still works, just without the disk cache
      }
    }
  }
  memory.set(key, p);
  return p;
}

export function profileCacheSize(): number {
  return memory.size;
}
