// DRAM latency under load: what one core's memory traffic does to another
// core's misses, the interference `umbra compare` puts a service through.
//
// A dependent pointer chase over a working set far beyond the LLC runs pinned
// on one core, alone and then while a streaming copy runs pinned on another
// core (loaded-latency-worker.mjs, native kernels). The ratio loaded / alone
// (the inflation) and the copy's bandwidth meanwhile tell the DRAM fit
// (dram-fit.ts) how close to saturation that traffic brings the host's
// memory: a single core's copy is limited by the misses it keeps in flight,
// not necessarily by the channels, so its bandwidth alone cannot say where
// the peak is. Alone and loaded runs alternate; other load on the host can
// only add latency, so each figure is the best of the repetitions, and the
// host's CPU use by other processes is recorded with each loaded run.
import { join } from 'node:path';
import { nativeAddon, nativeStatus } from '../../native/addon.js';
import { repoRoot } from '../repo-root.js';
import { cpuLoadBetween, readCpuTimes } from '../probe/cpu-load.js';
import { MAX_BACKGROUND_CORES } from './core-interference.js';
import { startPinnedWorkers } from './pinned-workers.js';

export interface LoadedLatency {
  chaseCore: number;
  copyCore: number;
  workingSetBytes: number;
  /** Chase alone and with the copy running, ns per dependent load (best of the repetitions). */
  aloneNs: number;
  loadedNs: number;
  /** loadedNs / aloneNs. */
  inflation: number;
  /** The copy's bandwidth (bytes read + written per second) during the loaded run kept. */
  copyBytesPerSec: number;
  repeats: number;
  /** Other processes' CPU use (cores) during the loaded run kept. */
  backgroundCores: number;
  /** Every loaded run had other processes above MAX_BACKGROUND_CORES. */
  disturbed: boolean;
}

export interface LoadedLatencyOptions {
  chaseCore: number;
  copyCore: number;
  /** Chase working set (default 256 MiB: beyond any LLC). */
  workingSetBytes?: number;
  /** Copy working set (default 256 MiB). */
  copyBytes?: number;
  repeats?: number;
  quick?: boolean;
}

interface RunResult {
  nsPerAccess: number;
  copyBytesPerSec: number | null;
  otherCores: number;
}

async function runOnce(addonPath: string, o: Required<Omit<LoadedLatencyOptions, 'quick'>> & { accesses: number }, withCopy: boolean, seed: number): Promise<RunResult> {
  const script = join(repoRoot(), 'runner', 'calibrate', 'loaded-latency-worker.mjs');
  const data: Record<string, unknown>[] = [{ addonPath, core: o.chaseCore, role: 'chase', workingSetBytes: o.workingSetBytes, accesses: o.accesses, seed }];
  if (withCopy) data.push({ addonPath, core: o.copyCore, role: 'copy', workingSetBytes: o.copyBytes });
  // slot 2: the copy stops when set
  const pool = startPinnedWorkers<{ nsPerAccess?: number; bytesPerSec?: number }>(script, data, 1, 'loaded-latency worker');
  try {
    await pool.ready();
    const cpu0 = readCpuTimes();
    const t0 = process.hrtime.bigint();
    pool.go();
    const chase = await pool.results[0];
    Atomics.store(pool.ctrl, 2, 1);
    const copy = withCopy ? await pool.results[1] : null;
    const wallNs = Number(process.hrtime.bigint() - t0);
    const cpu1 = readCpuTimes();
    // our threads were busy the whole run; the rest of the busy time is someone else's
    const otherCores = cpu0 && cpu1 ? Math.max(0, cpuLoadBetween(cpu0, cpu1, wallNs).busyCores - data.length) : 0;
    return { nsPerAccess: chase.nsPerAccess!, copyBytesPerSec: copy?.bytesPerSec ?? null, otherCores };
  } finally {
    await pool.terminate();
  }
}

/** Measure the chase alone and next to the copy; { unavailable } with the reason when it cannot be done here. */
export async function measureLoadedLatency(o: LoadedLatencyOptions): Promise<LoadedLatency | { unavailable: string }> {
  if (!nativeAddon()) return { unavailable: `needs the native addon to pin threads to cores (${nativeStatus().reason})` };
  if (o.chaseCore === o.copyCore) return { unavailable: 'needs two cores (the chase and the copy on different cores)' };
  const addonPath = nativeStatus().path;
  const full = {
    chaseCore: o.chaseCore,
    copyCore: o.copyCore,
    workingSetBytes: o.workingSetBytes ?? 256 << 20,
    copyBytes: o.copyBytes ?? 256 << 20,
    repeats: o.repeats ?? (o.quick ? 1 : 3),
    accesses: o.quick ? 500_000 : 2_000_000,
  };
  let aloneNs = Infinity;
  let best: RunResult | null = null;
  let bestQuiet: RunResult | null = null;
  for (let r = 0; r < full.repeats; r++) {
    const alone = await runOnce(addonPath, full, false, 1000 + r);
    aloneNs = Math.min(aloneNs, alone.nsPerAccess);
    const loaded = await runOnce(addonPath, full, true, 2000 + r);
    if (!best || loaded.nsPerAccess < best.nsPerAccess) best = loaded;
    if (loaded.otherCores <= MAX_BACKGROUND_CORES && (!bestQuiet || loaded.nsPerAccess < bestQuiet.nsPerAccess)) bestQuiet = loaded;
  }
  const kept = bestQuiet ?? best!;
  return {
    chaseCore: full.chaseCore,
    copyCore: full.copyCore,
    workingSetBytes: full.workingSetBytes,
    aloneNs,
    loadedNs: kept.nsPerAccess,
    inflation: kept.nsPerAccess / aloneNs,
    copyBytesPerSec: kept.copyBytesPerSec ?? 0,
    repeats: full.repeats,
    backgroundCores: kept.otherCores,
    disturbed: bestQuiet === null,
  };
}
