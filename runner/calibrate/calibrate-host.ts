// `umbra calibrate`: measure this host with microbenchmarks so the simulator
// can be given a matching machine description. This writes plain named
// measurements; machine-from-calibration.ts maps them onto sim/machine.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { UmbraNative } from '../../native/addon.js';
import { nativeAddon } from '../../native/addon.js';
import { tryReadText } from '../fs/host-fs.js';
import { NodeHostFs } from '../fs/impl/node-fs.js';
import { hostPaths, type HostPaths } from '../host-paths.js';
import { lastLevelCache, readTopology, type CacheInfo } from '../probe/topology.js';
import { findCacheLevels, type CacheLevelEstimate, type CurvePoint } from './cache-levels.js';
import { computeOpsPerSec, pointerChaseNs, streamBytesPerSec, type KernelImpl } from './kernels.js';
import { measureCoreInterference, type CoreInterferenceMeasurement } from './core-interference.js';
import { measureStreamStressor, type StressorBandwidth } from './stressor-bandwidth.js';
import { measureLoadedLatency, type LoadedLatency } from './loaded-latency.js';
import { measureWakeupCost, type WakeupCost } from './wakeup-cost.js';

export interface HostCalibration {
  schema: 'umbra-host-calibration/1';
  cores: number;
  cacheLevels: CacheLevelEstimate[];
  dramLatencyNs: number;
  streamBandwidthBytesPerSec: number;
  computeOpsPerSecPerCore: number;
  /** Which implementation measured each quantity. */
  method: { pointerChase: KernelImpl; stream: KernelImpl; compute: KernelImpl };
  /** The latency curve the levels were read from. */
  curve: CurvePoint[];
  /** What sysfs says, for comparison with the measured levels. */
  sysfsCaches: Pick<CacheInfo, 'level' | 'type' | 'sizeBytes' | 'ways' | 'lineBytes'>[];
  /** Clock of the first core as /proc/cpuinfo reports it ("cpu MHz"), when it does. */
  cpuinfoMHz?: number;
  /** MemTotal from /proc/meminfo, when readable. */
  memTotalBytes?: number;
  /** Host core ids measured (the cores this process may use), in the order the machine description numbers them. */
  coreIds?: number[];
  /** Compute kernel alone and in pairs of cores (core-interference.ts), or why it was not measured. */
  coreInterference?: CoreInterferenceMeasurement | { unavailable: string };
  /** The built-in streaming stressor alone on one core (stressor-bandwidth.ts), or why it was not measured. */
  streamStressor?: StressorBandwidth | { unavailable: string };
  /** DRAM latency alone and next to a streaming copy on another core (loaded-latency.ts), or why it was not measured. */
  loadedLatency?: LoadedLatency | { unavailable: string };
  /** What the stream stressor loses to each wake-up of a thread on its core (wakeup-cost.ts), or why it was not measured. */
  wakeupCost?: WakeupCost | { unavailable: string };
  seed: number | string;
}

export interface CalibrateOptions {
  seed?: number | string;
  /** Largest working set for the chase (default: 4x the LLC, at least 64 MiB, at most 512 MiB). */
  maxBytes?: number;
  /** Smallest working set (default 4 KiB). */
  minBytes?: number;
  /** Force the JavaScript kernels. */
  js?: boolean;
  /** Fewer points and shorter runs (for tests and quick looks). */
  quick?: boolean;
  paths?: Partial<HostPaths>;
}

export function workingSetSizes(minBytes: number, maxBytes: number, quick: boolean): number[] {
  const out: number[] = [];
  for (let s = minBytes; s <= maxBytes; s *= 2) {
    out.push(s);
    // Half-steps between powers of two locate the edges more finely.
    if (!quick && s * 1.5 <= maxBytes) out.push(Math.round(s * 1.5 / 64) * 64);
  }
  return out;
}

export function calibrateHost(o: CalibrateOptions = {}): HostCalibration {
  const addon: UmbraNative | null = o.js ? null : nativeAddon();
  const impl: KernelImpl = addon ? 'native' : 'js';
  const seed = o.seed ?? 1;
  const quick = o.quick ?? false;
  const paths = hostPaths(o.paths);
  const topo = readTopology(new NodeHostFs(), paths.sysRoot, paths.procRoot);
  const llc = lastLevelCache(topo);
  const maxBytes = o.maxBytes ?? Math.min(512 << 20, Math.max(64 << 20, 4 * (llc?.sizeBytes ?? 0)));
  const minBytes = o.minBytes ?? 4096;
  const curve: CurvePoint[] = [];
  // Interference from other work on the host can only add latency, so the
  // best of a few repetitions is the estimate of the host's own latency.
  const repeats = quick ? 1 : 3;
  for (const ws of workingSetSizes(minBytes, maxBytes, quick)) {
    // Enough dependent loads to run a few ms even when every one hits L1.
    const accesses = quick ? 200_000 : 1_000_000;
    let best = Infinity;
    for (let r = 0; r < repeats; r++) best = Math.min(best, pointerChaseNs(addon, ws, accesses, seed));
    curve.push({ workingSetBytes: ws, latencyNs: best });
  }
  // With half-steps a real level spans at least two points; one point is a ramp.
  const { levels, dramLatencyNs } = findCacheLevels(curve, { minPlateauPoints: quick ? 1 : 2 });
  const streamBytes = Math.max(32 << 20, 2 * (llc?.sizeBytes ?? 0));
  const stream = streamBytesPerSec(addon, streamBytes, quick ? 2 : 8);
  const compute = computeOpsPerSec(addon, quick ? 5_000_000 : 50_000_000);
  const fs = new NodeHostFs();
  const cpuinfo = tryReadText(fs, join(paths.procRoot, 'cpuinfo')) ?? '';
  const mhz = /^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo);
  const meminfo = tryReadText(fs, join(paths.procRoot, 'meminfo')) ?? '';
  const memKb = /^MemTotal:\s*(\d+)\s*kB/m.exec(meminfo);
  const coreIds = topo.allowedCpus.length ? [...topo.allowedCpus].sort((a, b) => a - b) : Array.from({ length: availableParallelism() }, (_, i) => i);
  return {
    schema: 'umbra-host-calibration/1',
    cores: coreIds.length,
    coreIds,
    cacheLevels: levels,
    dramLatencyNs,
    streamBandwidthBytesPerSec: stream,
    computeOpsPerSecPerCore: compute,
    method: { pointerChase: impl, stream: impl, compute: impl },
    curve,
    sysfsCaches: topo.caches.map(({ level, type, sizeBytes, ways, lineBytes }) => ({ level, type, sizeBytes, ways, lineBytes })),
    ...(mhz && Number(mhz[1]) > 0 ? { cpuinfoMHz: Number(mhz[1]) } : {}),
    ...(memKb ? { memTotalBytes: Number(memKb[1]) * 1024 } : {}),
    seed,
  };
}

/** Working set of the stream stressor measurement: the simulated stream kernel's 256 MiB, as compare's host runs use. */
export const STREAM_STRESSOR_BYTES = 256 * 1024 * 1024;

/**
 * calibrateHost plus the measurements that need threads or processes of
 * their own: core interference (the compute kernel alone and in pairs of
 * cores), DRAM latency next to a copy on another core, the built-in
 * stream stressor's bandwidth alone on one core, and what it loses to each
 * wake-up of another thread on that core.
 */
export async function calibrateHostAll(o: CalibrateOptions = {}): Promise<HostCalibration> {
  const cal = calibrateHost(o);
  const cores = cal.coreIds ?? Array.from({ length: cal.cores }, (_, i) => i);
  if (cores.length < 2) cal.coreInterference = { unavailable: 'one core: no pairs to measure' };
  else {
    try {
      cal.coreInterference = await measureCoreInterference({ cores, quick: o.quick });
    } catch (err) {
      cal.coreInterference = { unavailable: (err as Error).message };
    }
  }
  if (cores.length < 2) cal.loadedLatency = { unavailable: 'one core: no second core for the copy' };
  else {
    try {
      cal.loadedLatency = await measureLoadedLatency({ chaseCore: cores[0], copyCore: cores[1], quick: o.quick });
    } catch (err) {
      cal.loadedLatency = { unavailable: (err as Error).message };
    }
  }
  try {
    cal.streamStressor = await measureStreamStressor({ core: cores[0], workingSetBytes: STREAM_STRESSOR_BYTES, seconds: o.quick ? 0.8 : 1.5 });
  } catch (err) {
    cal.streamStressor = { unavailable: (err as Error).message };
  }
  try {
    // 8000 wake-ups a second: what the load generator makes at 4000 requests a second
    cal.wakeupCost = await measureWakeupCost({ core: cores[0], rateHz: 8000, workingSetBytes: STREAM_STRESSOR_BYTES, seconds: o.quick ? 0.6 : 1.5, pairs: o.quick ? 3 : 5 });
  } catch (err) {
    cal.wakeupCost = { unavailable: (err as Error).message };
  }
  return cal;
}
