// Fitting the simulator's DRAM to what `umbra calibrate` measured on a host.
//
// The simulator charges every LLC miss the latency its analytic DRAM model
// (sim/dram) answers, so the simulated miss penalty must match the host's
// measured pointer-chase latency beyond the last cache level, and the
// simulated memory system must move about as many bytes per second as the
// host's streaming copy did. Two knobs of the DDR4 preset do it:
//
//  - channels (a power of two) set the peak: each doubles the data buses.
//    When the latency under load was measured (loaded-latency.ts: a chase
//    next to a copy on another core), the channel count is the one whose
//    simulated latency inflation under the same copy traffic (its measured
//    bandwidth, demanded of the simulated memory) is nearest the measured
//    inflation, among those that carry that traffic at all: what a
//    co-located service feels from a neighbour's traffic is the quantity
//    that matters, and one core's copy bandwidth alone cannot place the peak
//    (the core's misses in flight may limit it first; fitting the peak to it
//    made a fitted copy saturate the simulated memory where the host's did
//    not). Without that measurement: the channel count whose simulated
//    bandwidth of a copy (an open stream, row-buffer friendly like the
//    stream kernel, half reads and half writes) is nearest the measured copy
//    bandwidth on a log scale.
//  - extra read-latency cycles on tCL. A dependent load on a real host pays
//    more than the DRAM device's tRCD + tCL + burst: the miss walks the cache
//    hierarchy, crosses the interconnect, waits in the memory controller and,
//    with 4 KiB pages and a working set beyond the TLB's reach, walks the page
//    table too. The preset's device timing does not include that path; adding
//    it to the read latency (tCL) is where it belongs in a model that counts
//    from issue to data. It leaves the bank occupancy alone, and through
//    Little's law lowers what a stream with a bounded number of misses in
//    flight can move, as on the host.
// The latency is fitted first for every channel count (integer cycles,
// bisection: the unloaded latency grows with tCL), then the channel count
// whose bandwidth is nearest is taken. Whatever the preset cannot reach is
// reported as a relative error, not hidden.
import { solveDram, type DramStreamDemand } from '../../sim/dram/dram-analytic-model.js';
import { DRAM_PRESETS, parseDramConfig, type DramConfig } from '../../sim/dram/dram-config.js';

/** The preset the fit starts from: one channel of DDR4-3200 8 Gb x8, two ranks. */
export const DRAM_FIT_PRESET = 'ddr4-3200-8gb-x8';
export const DRAM_FIT_CHANNELS = [1, 2, 4, 8] as const;
/** Largest extra read latency tried, in DRAM clocks (2.5 us at DDR4-3200: far beyond any host). */
const MAX_EXTRA_CYCLES = 4000;

/** A lone dependent chase: one miss in flight, no row reuse, light load. */
export const UNLOADED_PROBE: DramStreamDemand = { id: 'chase', requestsPerSec: 1e5, rowHitRate: 0, readFraction: 1, colours: null, maxOutstanding: 1 };
/** A streaming copy: open (as many misses in flight as it likes), row-buffer friendly, half reads and half writes. */
export const COPY_PROBE: DramStreamDemand = { id: 'copy', requestsPerSec: 1e11, rowHitRate: 0.9, readFraction: 0.5, colours: null, maxOutstanding: 10_000 };

export interface DramFit {
  preset: string;
  channels: number;
  /** Cycles added to the preset's tCL (negative: taken off, never below 1). */
  extraReadCycles: number;
  tCL: number;
  /** The machine description's `dram` section. */
  section: { preset: string; channels: number; timingCycles: { tCL: number } };
  config: DramConfig;
  presetUnloadedLatencyNs: number;
  simUnloadedLatencyNs: number;
  simCopyBytesPerSec: number;
  /** Relative errors, percent: 100 x (simulated - measured) / measured. */
  latencyErrorPct: number;
  bandwidthErrorPct: number;
  /** How the channel count was chosen. */
  rule: 'loaded-latency' | 'copy-bandwidth';
  /** With the loaded-latency rule: the simulated and the measured inflation (loaded / alone). */
  simLoadedInflation?: number;
  hostLoadedInflation?: number;
  /** Why the loaded-latency rule was not used although a measurement was given. */
  ruleNote?: string;
}

/** What the latency under load measured (LoadedLatency's inflation and copy bandwidth). */
export interface LoadedTarget {
  inflation: number;
  copyBytesPerSec: number;
}

/** A config carries the copy when it moves at least this share of what is demanded. */
const CARRY_SHARE = 0.95;

/** The chase's latency next to a copy demanding `copyBytesPerSec`, over its latency alone; null when the config cannot carry the copy. */
export function loadedInflation(config: DramConfig, copyBytesPerSec: number): number | null {
  const bytesPerRequest = (config.busWidthBits / 8) * config.burstLength;
  const alone = unloadedLatencyNs(config);
  const demanded = copyBytesPerSec / bytesPerRequest;
  const s = solveDram(config, [{ ...UNLOADED_PROBE, requestsPerSec: 1e9 / alone }, { ...COPY_PROBE, requestsPerSec: demanded }]).streams;
  if (s[1].achievedRequestsPerSec < CARRY_SHARE * demanded) return null;
  return s[0].avgLatencyNs / alone;
}

export function unloadedLatencyNs(config: DramConfig): number {
  return solveDram(config, [UNLOADED_PROBE]).streams[0].avgLatencyNs;
}

export function copyBytesPerSec(config: DramConfig): number {
  const bytesPerRequest = (config.busWidthBits / 8) * config.burstLength;
  return solveDram(config, [COPY_PROBE]).streams[0].achievedRequestsPerSec * bytesPerRequest;
}

function withTiming(base: DramConfig, channels: number, tCL: number): DramConfig {
  return parseDramConfig({ channels, timingCycles: { tCL } }, 'dram fit', base);
}

/** The integer tCL whose unloaded latency is nearest `targetNs` for this channel count. */
function fitTcl(base: DramConfig, channels: number, targetNs: number): { tCL: number; latencyNs: number } {
  const at = new Map<number, number>();
  const lat = (tCL: number) => {
    let v = at.get(tCL);
    if (v === undefined) at.set(tCL, (v = unloadedLatencyNs(withTiming(base, channels, tCL))));
    return v;
  };
  let lo = 1;
  let hi = base.timingCycles.tCL + MAX_EXTRA_CYCLES;
  if (lat(lo) >= targetNs) return { tCL: lo, latencyNs: lat(lo) };
  if (lat(hi) <= targetNs) return { tCL: hi, latencyNs: lat(hi) };
  // invariant: lat(lo) < target <= lat(hi)
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (lat(mid) < targetNs) lo = mid;
    else hi = mid;
  }
  const best = Math.abs(lat(lo) - targetNs) <= Math.abs(lat(hi) - targetNs) ? lo : hi;
  return { tCL: best, latencyNs: lat(best) };
}

export function fitDram(target: { latencyNs: number; bandwidthBytesPerSec: number; loaded?: LoadedTarget }, presetName = DRAM_FIT_PRESET): DramFit {
  if (!(target.latencyNs > 0) || !(target.bandwidthBytesPerSec > 0)) throw new RangeError('the DRAM fit needs a positive measured latency and bandwidth');
  const loaded = target.loaded;
  if (loaded && !(loaded.inflation > 0 && loaded.copyBytesPerSec > 0)) throw new RangeError('the DRAM fit needs a positive loaded inflation and copy bandwidth');
  const base = DRAM_PRESETS[presetName];
  if (!base) throw new RangeError(`unknown DRAM preset ${presetName}`);
  const candidates = DRAM_FIT_CHANNELS.map((channels) => {
    const { tCL, latencyNs } = fitTcl(base, channels, target.latencyNs);
    const config = withTiming(base, channels, tCL);
    return { channels, tCL, latencyNs, config, bw: copyBytesPerSec(config), inflation: loaded ? loadedInflation(config, loaded.copyBytesPerSec) : null };
  });
  const carrying = candidates.filter((c) => c.inflation !== null);
  const byLoaded = loaded !== undefined && carrying.length > 0;
  let ruleNote: string | undefined;
  if (loaded && !byLoaded) ruleNote = `no channel count up to ${DRAM_FIT_CHANNELS[DRAM_FIT_CHANNELS.length - 1]} carries the measured ${(loaded.copyBytesPerSec / 1e9).toFixed(2)} GB/s copy: channels fitted to the copy bandwidth instead`;
  let best: DramFit | null = null;
  let bestDistance = Infinity;
  for (const c of byLoaded ? carrying : candidates) {
    const { channels, tCL, latencyNs, config, bw } = c;
    // fewer channels win ties (candidates are in increasing order)
    const distance = byLoaded ? Math.abs(Math.log(c.inflation! / loaded!.inflation)) : Math.abs(Math.log(bw / target.bandwidthBytesPerSec));
    if (distance < bestDistance - 1e-12) {
      bestDistance = distance;
      best = {
        preset: presetName,
        channels,
        extraReadCycles: tCL - base.timingCycles.tCL,
        tCL,
        section: { preset: presetName, channels, timingCycles: { tCL } },
        config,
        presetUnloadedLatencyNs: unloadedLatencyNs(withTiming(base, channels, base.timingCycles.tCL)),
        simUnloadedLatencyNs: latencyNs,
        simCopyBytesPerSec: bw,
        latencyErrorPct: (100 * (latencyNs - target.latencyNs)) / target.latencyNs,
        bandwidthErrorPct: (100 * (bw - target.bandwidthBytesPerSec)) / target.bandwidthBytesPerSec,
        rule: byLoaded ? 'loaded-latency' : 'copy-bandwidth',
        ...(byLoaded ? { simLoadedInflation: c.inflation!, hostLoadedInflation: loaded!.inflation } : {}),
        ...(ruleNote ? { ruleNote } : {}),
      };
    }
  }
  return best!;
}
