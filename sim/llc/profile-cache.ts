// Profiles are a property of (access pattern, LLC geometry), measured from a
// fixed profiling seed so that they do not depend on the run's seed; they are
// computed once per process and shared by every task running the same kernel.
import { rngFor } from '../../util/rng.js';
import { makePattern, patternKey, type PatternSpec } from '../workloads/kernel.js';
import { profilePattern, type CacheProfile } from './cache-profile.js';

const PROFILE_SEED = 'umbra-profile';
const cache = new Map<string, CacheProfile>();

export function profileFor(pattern: PatternSpec, lineBytes: number, sets: number, ways: number): CacheProfile {
  const key = `${patternKey(pattern, lineBytes)}|${lineBytes}|${sets}|${ways}`;
  let p = cache.get(key);
  if (!p) {
    p = profilePattern(makePattern(pattern, lineBytes, rngFor(PROFILE_SEED, key)), sets, ways);
    cache.set(key, p);
  }
  return p;
}

export function profileCacheSize(): number {
  return cache.size;
}
