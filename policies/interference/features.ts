// Access profiles as feature vectors, shared by both interference predictors,
// the dataset format and the shadow workload. Every feature is in [0, 1]:
//
//   cpu        cores' worth of CPU / cores on the machine
//   memBw      DRAM bandwidth / peak bandwidth
//   llcOcc     LLC occupancy / LLC size
//   llcAccess  LLC access traffic (accesses x 64 B) / peak bandwidth: how hard it churns the cache
//   missRatio  LLC misses / LLC accesses
//   io         log10(1 + IO bytes/s / 1 MB/s) / 4 (1 at 10 GB/s; IO spans decades)
//   readFrac   DRAM reads / (reads + writes)             (0.5 when unknown)
//   seq        sequential (streaming) vs random (dependent) access: DRAM
//              bandwidth per busy core relative to twice the machine's
//              per-core share of peak; a pointer chase pulls a line per
//              miss latency, a stream many (0.5 when the task barely misses)
//
// `sharing` says how much of each resource the pair actually shares under the
// current (planned) allocation: cpu = fraction of the first-class task's cores
// the other may run on; llc = fraction of its ways the other may fill; memBw =
// 1, or 0.5 when their DRAM bank colours are disjoint (channels still shared);
// io = 1 (one device).
import type { Capabilities } from '../platform.js';
import { clamp01 } from '../common/masks.js';

export const PROFILE_FEATURES = ['cpu', 'memBw', 'llcOcc', 'llcAccess', 'missRatio', 'io', 'readFrac', 'seq'] as const;
export const PROFILE_LEN = PROFILE_FEATURES.length;
export const F_CPU = 0;
export const F_MEMBW = 1;
export const F_LLCOCC = 2;
export const F_LLCACCESS = 3;
export const F_MISSRATIO = 4;
export const F_IO = 5;
export const F_READ = 6;
export const F_SEQ = 7;

export type InterferenceReason = 'cpu' | 'llc' | 'memBw' | 'io';
export const REASONS: readonly InterferenceReason[] = ['cpu', 'llc', 'memBw', 'io'];
/** Profile features that load each resource (for attributing a reason). */
export const REASON_FEATURES: Record<InterferenceReason, readonly number[]> = {
  cpu: [F_CPU],
  llc: [F_LLCOCC, F_LLCACCESS],
  memBw: [F_MEMBW],
  io: [F_IO],
};

export type ProfileVector = Float64Array;

export interface InterferenceInput {
  /** The first-class task's (predicted) profile: the victim. */
  first: ProfileVector;
  /** A second-class profile, or the aggregate of several. */
  second: ProfileVector;
  /** System load in [0, 1]: max of CPU and bandwidth utilisation. */
  load: number;
  /** [cpu, llc, memBw, io] shared fractions. */
  sharing: Float64Array;
  /** Priority levels the first-class task stands above the other (formula only; default 1). */
  priorityGap?: number;
  /** Slowdown the first-class task can absorb now (learned model: interference = more than this; default: the configured one). */
  tolerableSlowdown?: number;
}

/** Model input: first (8), second (8), load (1), sharing (4). */
export const MODEL_INPUTS = 2 * PROFILE_LEN + 1 + REASONS.length;
export const MODEL_FEATURE_NAMES: readonly string[] = [
  ...PROFILE_FEATURES.map((f) => `first.${f}`),
  ...PROFILE_FEATURES.map((f) => `second.${f}`),
  'load',
  ...REASONS.map((r) => `sharing.${r}`),
];

/** Sharing once cores and ways are partitioned: LLC-isolated, DRAM and IO shared. */
export const PARTITIONED_SHARING = Float64Array.from([0, 0, 1, 1]);

export function modelInput(inp: InterferenceInput, out: Float64Array = new Float64Array(MODEL_INPUTS)): Float64Array {
  out.set(inp.first, 0);
  out.set(inp.second, PROFILE_LEN);
  out[2 * PROFILE_LEN] = clamp01(inp.load);
  out.set(inp.sharing, 2 * PROFILE_LEN + 1);
  return out;
}

/** Raw demand figures of one task (observed or predicted). */
export interface DemandFigures {
  cpuCores?: number;
  memBwBytesPerSec?: number;
  llcOccupancyBytes?: number;
  llcAccessesPerSec?: number;
  missRatio?: number;
  ioBytesPerSec?: number;
  readFraction?: number;
}

export interface ProfileScale {
  coreCount: number;
  peakBytesPerSec: number;
  llcBytes: number;
  lineBytes: number;
}

/** Normalisers from the capabilities; documented stand-ins where the platform has no such resource. */
export function profileScale(caps: Capabilities): ProfileScale {
  return {
    coreCount: Math.max(1, caps.coreIds.length),
    // DDR4-3200, one channel, when the platform reports no MBA peak
    peakBytesPerSec: caps.memBandwidth?.peakBytesPerSec ?? 25.6e9,
    llcBytes: caps.cacheWays ? caps.cacheWays.totalWays * caps.cacheWays.wayBytes : 32 * 1024 * 1024,
    lineBytes: 64,
  };
}

export function ioFeature(bytesPerSec: number): number {
  return clamp01(Math.log10(1 + Math.max(0, bytesPerSec) / 1e6) / 4);
}

export function buildProfile(d: DemandFigures, s: ProfileScale, out: ProfileVector = new Float64Array(PROFILE_LEN)): ProfileVector {
  const cpu = Math.max(0, d.cpuCores ?? 0);
  const bw = Math.max(0, d.memBwBytesPerSec ?? 0);
  out[F_CPU] = clamp01(cpu / s.coreCount);
  out[F_MEMBW] = clamp01(bw / s.peakBytesPerSec);
  out[F_LLCOCC] = clamp01((d.llcOccupancyBytes ?? 0) / s.llcBytes);
  out[F_LLCACCESS] = clamp01(((d.llcAccessesPerSec ?? 0) * s.lineBytes) / s.peakBytesPerSec);
  out[F_MISSRATIO] = clamp01(d.missRatio ?? 0);
  out[F_IO] = ioFeature(d.ioBytesPerSec ?? 0);
  out[F_READ] = d.readFraction === undefined ? 0.5 : clamp01(d.readFraction);
  const perCoreShare = s.peakBytesPerSec / s.coreCount;
  out[F_SEQ] = cpu > 1e-3 && out[F_MEMBW] > 1e-3 ? clamp01(bw / cpu / (2 * perCoreShare)) : 0.5;
  return out;
}

/** Several second-class profiles as one co-runner: intensities add (capped at 1), patterns average by memory traffic. */
export function aggregateProfiles(items: readonly { p: ProfileVector; scale: number }[], out: ProfileVector = new Float64Array(PROFILE_LEN)): ProfileVector {
  out.fill(0);
  let wSum = 0;
  let miss = 0;
  let read = 0;
  let seq = 0;
  for (const { p, scale } of items) {
    if (scale <= 0) continue;
    out[F_CPU] += p[F_CPU] * scale;
    out[F_MEMBW] += p[F_MEMBW] * scale;
    out[F_LLCOCC] += p[F_LLCOCC] * scale;
    out[F_LLCACCESS] += p[F_LLCACCESS] * scale;
    out[F_IO] += p[F_IO] * scale;
    const w = (p[F_MEMBW] + p[F_LLCACCESS] + 1e-6) * scale;
    wSum += w;
    miss += w * p[F_MISSRATIO];
    read += w * p[F_READ];
    seq += w * p[F_SEQ];
  }
  for (const i of [F_CPU, F_MEMBW, F_LLCOCC, F_LLCACCESS, F_IO]) out[i] = clamp01(out[i]);
  out[F_MISSRATIO] = wSum > 0 ? miss / wSum : 0;
  out[F_READ] = wSum > 0 ? read / wSum : 0.5;
  out[F_SEQ] = wSum > 0 ? seq / wSum : 0.5;
  return out;
}

/** A copy of p with the features of one resource scaled (quarantine caps), or all of them (throttle/pause). */
export function scaleProfile(p: ProfileVector, factor: number, only?: InterferenceReason): ProfileVector {
  const out = Float64Array.from(p);
  const idx = only ? REASON_FEATURES[only] : [F_CPU, F_MEMBW, F_LLCOCC, F_LLCACCESS, F_IO];
  for (const i of idx) out[i] *= factor;
  return out;
}

/** aggregateProfiles kept incrementally: add or remove one profile in O(1), read the aggregate in O(1). */
export class ProfileAggregate {
  private readonly sum = new Float64Array(PROFILE_LEN);
  private wSum = 0;

  add(p: ProfileVector, sign: 1 | -1 = 1): void {
    for (const i of [F_CPU, F_MEMBW, F_LLCOCC, F_LLCACCESS, F_IO]) this.sum[i] += sign * p[i];
    const w = p[F_MEMBW] + p[F_LLCACCESS] + 1e-6;
    this.wSum += sign * w;
    this.sum[F_MISSRATIO] += sign * w * p[F_MISSRATIO];
    this.sum[F_READ] += sign * w * p[F_READ];
    this.sum[F_SEQ] += sign * w * p[F_SEQ];
  }

  read(out: ProfileVector): ProfileVector {
    for (const i of [F_CPU, F_MEMBW, F_LLCOCC, F_LLCACCESS, F_IO]) out[i] = clamp01(this.sum[i]);
    const w = this.wSum > 1e-12 ? this.wSum : 0;
    out[F_MISSRATIO] = w > 0 ? clamp01(this.sum[F_MISSRATIO] / w) : 0;
    out[F_READ] = w > 0 ? clamp01(this.sum[F_READ] / w) : 0.5;
    out[F_SEQ] = w > 0 ? clamp01(this.sum[F_SEQ] / w) : 0.5;
    return out;
  }
}
