// From `umbra calibrate`'s measurements to a machine description the
// simulator loads (sim/machine/machine-description.ts), field by field:
//
//   cores.count        the cores this process may use on the host
//   cores.freqGHz      /proc/cpuinfo "cpu MHz" when present (the clock the
//                      kernels' CPIs are counted in); otherwise the measured
//                      compute rate at one multiply-add per cycle (the eight
//                      independent 64-bit chains are bound by the multiplier's
//                      throughput of one per cycle). Both are reported.
//   llc.*              size, ways and line of the last-level cache from sysfs
//                      (the measured curve cannot tell ways, and on a VM or
//                      with 4 KiB pages its steps mix cache and TLB reach);
//                      cross-checked with the measured levels, any mismatch
//                      noted. Without sysfs: the last measured level, 16 ways.
//                      The size is rounded to whole sets.
//   llc.hitLatencyCycles  the measured latency of the level nearest the LLC's size
//   dram               fitDram(): channels for the latency under a copy's
//                      load on another core when measured (else for the
//                      streaming bandwidth), extra tCL cycles for the
//                      pointer-chase DRAM latency
//   memory.capacityBytes  MemTotal
//   cores.interference groups of cores whose compute kernels slowed each other
//                      by more than GROUP_THRESHOLD when run together, and
//                      their mean slowdown (core-interference.ts); left out
//                      (off) when no pair did, or when pairs were not measured
// Everything else (core activation time, MBA steps, IO device) is not
// measured and keeps the simulator's default; the notes say so.
import { z } from 'zod';
import { stringify } from 'yaml';
import { InputError } from '../../util/errors.js';
import { describeZodError } from '../../util/zod-errors.js';
import { parseMachineDescription, type MachineDescription } from '../../sim/machine/machine-description.js';
import { fitDram, type DramFit } from './dram-fit.js';
import { isotonic, median3 } from './cache-levels.js';
import type { HostCalibration } from './calibrate-host.js';

const positive = z.number().positive();

/** What the mapping reads from a calibration file (other fields are kept but not needed). */
export const hostCalibrationSchema = z
  .object({
    schema: z.literal('umbra-host-calibration/1', { error: 'expected "umbra-host-calibration/1" (a file written by umbra calibrate --out)' }),
    cores: z.number().int().positive().max(256),
    cacheLevels: z.array(z.object({ sizeBytes: positive, latencyNs: positive }).passthrough()),
    dramLatencyNs: positive,
    streamBandwidthBytesPerSec: positive,
    computeOpsPerSecPerCore: positive,
    sysfsCaches: z.array(
      z.object({ level: z.number().int().nonnegative(), type: z.string(), sizeBytes: z.number().nonnegative(), ways: z.number().int().nonnegative(), lineBytes: z.number().int().nonnegative() }).passthrough(),
    ),
    cpuinfoMHz: positive.optional(),
    memTotalBytes: positive.optional(),
    curve: z.array(z.object({ workingSetBytes: positive, latencyNs: positive }).passthrough()).optional(),
    coreIds: z.array(z.number().int().nonnegative()).optional(),
    coreInterference: z
      .union([
        z.object({ unavailable: z.string() }).passthrough(),
        z
          .object({
            groups: z.array(z.array(z.number().int().nonnegative())),
            computeSlowdown: z.number().min(0),
            pairs: z.array(z.object({ cores: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]), slowdown: z.number() }).passthrough()),
            thresholdSlowdown: z.number().min(0),
            disturbed: z.boolean().optional(),
            backgroundCores: z.number().min(0).optional(),
          })
          .passthrough(),
      ])
      .optional(),
    streamStressor: z.union([z.object({ unavailable: z.string() }).passthrough(), z.object({ bytesPerSec: positive, core: z.number().int().nonnegative() }).passthrough()]).optional(),
    wakeupCost: z.union([z.object({ unavailable: z.string() }).passthrough(), z.object({ costNs: z.number().min(0), core: z.number().int().nonnegative(), rateHz: positive, realtime: z.boolean(), pairs: z.array(z.object({ aloneBytesPerSec: positive, withWakerBytesPerSec: positive, wakeupsPerSec: z.number().min(0), wakerCpuShare: z.number().min(0), costNs: z.number().min(0) }).passthrough()).min(1) }).passthrough()]).optional(),
    loadedLatency: z
      .union([
        z.object({ unavailable: z.string() }).passthrough(),
        z.object({ chaseCore: z.number().int().nonnegative(), copyCore: z.number().int().nonnegative(), aloneNs: positive, loadedNs: positive, inflation: positive, copyBytesPerSec: positive, disturbed: z.boolean().optional(), backgroundCores: z.number().min(0).optional() }).passthrough(),
      ])
      .optional(),
  })
  .passthrough();

export type CalibrationInput = Pick<
  HostCalibration,
  'cores' | 'cacheLevels' | 'dramLatencyNs' | 'streamBandwidthBytesPerSec' | 'computeOpsPerSecPerCore' | 'sysfsCaches' | 'cpuinfoMHz' | 'memTotalBytes' | 'coreIds' | 'coreInterference' | 'streamStressor' | 'loadedLatency' | 'wakeupCost'
> & { curve?: HostCalibration['curve'] };

/** Validate parsed calibration JSON; `where` names the file. */
export function parseCalibration(raw: unknown, where: string): CalibrationInput {
  const res = hostCalibrationSchema.safeParse(raw);
  if (!res.success) throw new InputError(describeZodError(res.error), where);
  return res.data as CalibrationInput;
}

export interface MachineMapping {
  /** The description as written (only what differs from the defaults, plus what was measured). */
  description: Record<string, unknown>;
  /** The same, validated and with defaults filled in: what the simulator will load. */
  machine: MachineDescription;
  dram: DramFit;
  /** One line per field: where it came from, and anything that did not match. */
  notes: string[];
}

export interface MachineMappingOptions {
  name?: string;
  /**
   * LLC size from sysfs (default), or the measured effective size: the end of
   * the chase's last cache plateau, the largest working set it ran at no more
   * than a quarter of the DRAM latency (on a VM whose LLC is shared with
   * other tenants, or partitioned by the hypervisor, that is what a task can
   * count on); the hit latency is then the chase's latency there.
   */
  llcSize?: 'sysfs' | 'measured';
}

/**
 * Share of the DRAM latency below which the chase still hits a cache. A
 * quarter keeps to the plateau: past the last cache's end the latency climbs
 * steeply (on this development VM 16 ns at 4 MiB, 70-80 ns at 6-8 MiB, 133 ns
 * at 12 MiB, DRAM 155-176 ns), and a threshold of half the DRAM latency
 * lands inside that climb, moving between 3 and 8 MiB from run to run.
 */
export const EFFECTIVE_CACHE_LATENCY_SHARE = 0.25;

/** Largest working set whose (monotone-fitted) chase latency is at most EFFECTIVE_CACHE_LATENCY_SHARE of the DRAM latency, and that latency. */
export function effectiveCache(cal: Pick<CalibrationInput, 'dramLatencyNs'> & { curve?: { workingSetBytes: number; latencyNs: number }[] }): { sizeBytes: number; latencyNs: number } | undefined {
  const pts = [...(cal.curve ?? [])].sort((a, b) => a.workingSetBytes - b.workingSetBytes);
  if (pts.length === 0) return undefined;
  const fit = isotonic(median3(pts.map((p) => p.latencyNs)));
  let best: { sizeBytes: number; latencyNs: number } | undefined;
  for (let i = 0; i < pts.length; i++) if (fit[i] <= cal.dramLatencyNs * EFFECTIVE_CACHE_LATENCY_SHARE) best = { sizeBytes: pts[i].workingSetBytes, latencyNs: fit[i] };
  return best;
}

export function effectiveCacheBytes(cal: Parameters<typeof effectiveCache>[0]): number | undefined {
  return effectiveCache(cal)?.sizeBytes;
}

const MAX_WAYS = 32;

function mib(b: number): string {
  return b >= 1 << 20 ? `${+(b / (1 << 20)).toFixed(2)} MiB` : `${+(b / 1024).toFixed(1)} KiB`;
}

export function machineFromCalibration(cal: CalibrationInput, opts: MachineMappingOptions = {}): MachineMapping {
  const notes: string[] = [];
  // cores and clock
  const computeGHz = cal.computeOpsPerSecPerCore / 1e9;
  let freqGHz: number;
  if (cal.cpuinfoMHz !== undefined) {
    freqGHz = cal.cpuinfoMHz / 1000;
    const ratio = computeGHz / freqGHz;
    notes.push(
      `cores.freqGHz ${round(freqGHz, 3)} from /proc/cpuinfo; the compute kernel ran ${round(computeGHz, 3)} G multiply-adds/s per core (${round(ratio, 2)} per cycle` +
        (Math.abs(ratio - 1) > 0.2 ? `: the core delivered ${ratio < 1 ? 'less' : 'more'} than one per nominal cycle (a shared or throttled vCPU, or turbo)` : '') +
        ')',
    );
  } else {
    freqGHz = computeGHz;
    notes.push(`cores.freqGHz ${round(freqGHz, 3)} from the compute rate (no clock in /proc/cpuinfo), at one multiply-add per cycle`);
  }
  freqGHz = Math.min(10, Math.max(0.1, round(freqGHz, 4)));
  notes.push(`cores.count ${cal.cores}: the cores this process may use`);
  const interference = coreInterferenceSection(cal, notes);

  // last-level cache
  const data = cal.sysfsCaches.filter((c) => c.type !== 'Instruction' && c.sizeBytes > 0);
  const top = data.length ? Math.max(...data.map((c) => c.level)) : -1;
  const sysLlc = data.find((c) => c.level === top);
  const measuredLast = cal.cacheLevels.length ? cal.cacheLevels[cal.cacheLevels.length - 1] : undefined;
  let sizeBytes: number;
  let ways: number;
  let lineBytes: number;
  if (sysLlc) {
    sizeBytes = sysLlc.sizeBytes;
    ways = sysLlc.ways > 0 ? sysLlc.ways : 16;
    lineBytes = sysLlc.lineBytes > 0 && (sysLlc.lineBytes & (sysLlc.lineBytes - 1)) === 0 ? sysLlc.lineBytes : 64;
    let line = `llc ${mib(sizeBytes)}, ${ways} ways, ${lineBytes} B lines from sysfs (L${sysLlc.level})`;
    if (measuredLast) {
      const r = measuredLast.sizeBytes / sizeBytes;
      if (r < 0.5) line += `; the latency curve's last cache level ends at ${mib(measuredLast.sizeBytes)} (${round(measuredLast.latencyNs, 1)} ns): beyond that the chase misses the TLB (4 KiB pages) or the LLC is shared with other tenants, so the effective LLC is smaller than sysfs says`;
      else if (r > 2) line += `; the latency curve's last cache level ends at ${mib(measuredLast.sizeBytes)}, larger than sysfs says`;
      else line += `; matches the curve's last cache level (${mib(measuredLast.sizeBytes)})`;
    }
    notes.push(line);
  } else if (measuredLast) {
    sizeBytes = measuredLast.sizeBytes;
    ways = 16;
    lineBytes = 64;
    notes.push(`llc ${mib(sizeBytes)} from the latency curve's last cache level (no sysfs cache information); ways (16) and line (64 B) are not measurable this way and are assumed`);
  } else {
    sizeBytes = 32 * 1024 * 1024;
    ways = 16;
    lineBytes = 64;
    notes.push('llc: neither sysfs nor the latency curve showed a cache; the default 32 MiB, 16 ways is kept');
  }
  const eff = effectiveCache(cal);
  let effectiveHitNs: number | undefined;
  if (eff !== undefined) {
    notes.push(`effective cache (the chase at most a quarter of DRAM's latency): up to ${mib(eff.sizeBytes)} (${round(eff.latencyNs, 1)} ns there)`);
    if (opts.llcSize === 'measured' && eff.sizeBytes < sizeBytes) {
      notes.push(`llc.sizeBytes set to the effective ${mib(eff.sizeBytes)} (--llc measured) instead of ${mib(sizeBytes)}`);
      sizeBytes = eff.sizeBytes;
      effectiveHitNs = eff.latencyNs;
    }
  } else if (opts.llcSize === 'measured') notes.push('--llc measured: the calibration has no latency curve; the size above stands');
  if (ways > MAX_WAYS) {
    notes.push(`llc.ways ${ways} is more than the simulator's ${MAX_WAYS}-bit way masks: modelled as ${MAX_WAYS} ways of the same total size`);
    ways = MAX_WAYS;
  }
  const sets = Math.max(1, Math.round(sizeBytes / (ways * lineBytes)));
  if (sets * ways * lineBytes !== sizeBytes) notes.push(`llc.sizeBytes rounded from ${sizeBytes} to ${sets * ways * lineBytes} (whole sets of ${ways} x ${lineBytes} B)`);
  sizeBytes = sets * ways * lineBytes;
  const llcLevel = effectiveHitNs !== undefined ? undefined : nearestLevel(cal.cacheLevels, sizeBytes);
  const hitNs = effectiveHitNs ?? llcLevel?.latencyNs;
  const hitLatencyCycles = hitNs !== undefined ? Math.max(1, Math.round(hitNs * freqGHz)) : undefined;
  if (effectiveHitNs !== undefined) notes.push(`llc.hitLatencyCycles ${hitLatencyCycles}: the chase's ${round(effectiveHitNs, 1)} ns at the effective size`);
  else if (llcLevel) notes.push(`llc.hitLatencyCycles ${hitLatencyCycles}: the measured ${round(llcLevel.latencyNs, 1)} ns of the level ending at ${mib(llcLevel.sizeBytes)}`);

  // DRAM
  // the latency under load places the peak when it was measured on a quiet host
  const ll = cal.loadedLatency;
  const loaded = ll && 'inflation' in ll && !ll.disturbed ? { inflation: ll.inflation, copyBytesPerSec: ll.copyBytesPerSec } : undefined;
  if (ll && 'unavailable' in ll) notes.push(`DRAM latency under load not measured (${ll.unavailable}): channels fitted to the copy bandwidth`);
  else if (ll && 'inflation' in ll && ll.disturbed) notes.push(`DRAM latency under load left out: other processes were busy during every loaded run (${round(ll.backgroundCores ?? 0, 2)} cores): channels fitted to the copy bandwidth`);
  const dram = fitDram({ latencyNs: cal.dramLatencyNs, bandwidthBytesPerSec: cal.streamBandwidthBytesPerSec, ...(loaded ? { loaded } : {}) });
  const channelsWhy =
    dram.rule === 'loaded-latency' && ll && 'inflation' in ll
      ? `channels chosen by latency under load: a chase on core ${ll.chaseCore} took ${round(ll.aloneNs, 1)} ns alone and ${round(ll.loadedNs, 1)} ns (x${round(ll.inflation, 3)}) while a copy on core ${ll.copyCore} moved ${round(ll.copyBytesPerSec / 1e9, 2)} GB/s; simulated x${round(dram.simLoadedInflation!, 3)} under the same traffic`
      : `channels chosen by copy bandwidth${dram.ruleNote ? ` (${dram.ruleNote})` : ''}`;
  notes.push(
    `dram: ${dram.preset} with ${dram.channels} channel(s) and tCL ${dram.tCL} (${dram.extraReadCycles >= 0 ? '+' : ''}${dram.extraReadCycles} cycles for the path from core to controller): ` +
      `simulated unloaded latency ${round(dram.simUnloadedLatencyNs, 1)} ns vs measured ${round(cal.dramLatencyNs, 1)} ns (${signed(dram.latencyErrorPct)}%; the preset alone gives ${round(dram.presetUnloadedLatencyNs, 1)} ns), ` +
      `simulated copy bandwidth ${round(dram.simCopyBytesPerSec / 1e9, 2)} GB/s vs measured ${round(cal.streamBandwidthBytesPerSec / 1e9, 2)} GB/s (${signed(dram.bandwidthErrorPct)}%); ${channelsWhy}`,
  );

  const wc = cal.wakeupCost;
  let wakeupCostNs: number | undefined;
  if (wc && 'costNs' in wc) {
    wakeupCostNs = Math.round(wc.costNs);
    notes.push(
      `cores.wakeupCostNs ${wakeupCostNs}: the built-in stream stressor on core ${wc.core} next to a thread waking ${wc.rateHz} times a second on that core${wc.realtime ? ' at SCHED_FIFO 1' : ''}, in ${wc.pairs.length} alternating pairs (their median): ` +
        `what it lost beyond the waker's own CPU time, per wake-up, as the simulator charges it (runner/calibrate/wakeup-cost.ts)`,
    );
  } else if (wc) notes.push(`cores.wakeupCostNs left off (wake-ups cost nothing beyond their CPU in the simulator): ${wc.unavailable}`);
  else notes.push('cores.wakeupCostNs left off: not measured (an older calibration file)');
  const description: Record<string, unknown> = {
    name: opts.name ?? `calibrated-${cal.cores}c`,
    cores: { count: cal.cores, freqGHz, ...(interference ? { interference } : {}), ...(wakeupCostNs !== undefined ? { wakeupCostNs } : {}) },
    llc: { sizeBytes, ways, lineBytes, ...(hitLatencyCycles ? { hitLatencyCycles } : {}), minWaysPerMask: 1 },
    dram: dram.section,
  };
  if (cal.memTotalBytes !== undefined) {
    description.memory = { capacityBytes: cal.memTotalBytes };
    notes.push(`memory.capacityBytes ${cal.memTotalBytes} from MemTotal`);
  }
  const ss = cal.streamStressor;
  if (ss && 'bytesPerSec' in ss) {
    notes.push(
      `the built-in stream stressor (what umbra compare runs for a second-class stream job) moved ${round(ss.bytesPerSec / 1e9, 2)} GB/s alone on core ${ss.core} ` +
        `(the native copy above: ${round(cal.streamBandwidthBytesPerSec / 1e9, 2)} GB/s); not a machine field: compare fits the simulated kernel's memory intensity to its own alone runs`,
    );
  } else if (ss) notes.push(`the built-in stream stressor was not measured: ${ss.unavailable}`);
  notes.push('not measured, simulator defaults kept: cores.activationUs, memory MBA steps, io bandwidth and weights');
  const machine = parseMachineDescription(description, 'calibrated machine description');
  return { description, machine, dram, notes };
}

/** cores.interference from the pair measurement (host core ids -> machine core indices), noting why when left out. */
function coreInterferenceSection(cal: CalibrationInput, notes: string[]): { groups: number[][]; computeSlowdown: number } | undefined {
  const ci = cal.coreInterference;
  if (!ci) {
    notes.push('cores.interference: pairs of cores not measured (an older calibration file); left off');
    return undefined;
  }
  if ('unavailable' in ci) {
    notes.push(`cores.interference: not measured (${ci.unavailable}); left off`);
    return undefined;
  }
  const ids = cal.coreIds ?? Array.from({ length: cal.cores }, (_, i) => i);
  const index = new Map(ids.map((c, i) => [c, i]));
  const worst = [...ci.pairs].sort((a, b) => b.slowdown - a.slowdown)[0];
  const worstText = worst ? `; the largest pair slowdown ${pct(worst.slowdown)} on host cores ${worst.cores.join(',')}` : '';
  if (ci.disturbed) {
    notes.push(
      `cores.interference left off: other processes kept the host busy during the pair measurement (at least ${round(ci.backgroundCores ?? 0, 2)} cores in every try), so a pair's slowdown cannot be told from theirs${worstText}; calibrate again on a quiet host`,
    );
    return undefined;
  }
  const groups = ci.groups.map((g) => g.map((c) => index.get(c)).filter((c): c is number => c !== undefined)).filter((g) => g.length >= 2);
  if (groups.length === 0 || !(ci.computeSlowdown > 0)) {
    notes.push(`cores.interference left off: no pair of cores slowed the compute kernel by more than ${pct(ci.thresholdSlowdown)} when both ran it (${ci.pairs.length} pair(s)${worstText}), so the cores do not share an execution engine`);
    return undefined;
  }
  const computeSlowdown = round(ci.computeSlowdown, 3);
  notes.push(
    `cores.interference groups ${JSON.stringify(groups)} (host cores ${JSON.stringify(ci.groups)}), computeSlowdown ${computeSlowdown}: the compute kernel lost that much (mean over the grouped pairs, CPI +${pct(ci.computeSlowdown)}) when a group member ran it too; pairs above ${pct(ci.thresholdSlowdown)} are grouped${worstText}. ` +
      'The kernel (independent multiply-adds) contends for the multiplier as well as issue slots: code with a mix of instructions may lose less to a sibling',
  );
  return { groups, computeSlowdown };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

function nearestLevel(levels: { sizeBytes: number; latencyNs: number }[], sizeBytes: number) {
  let best: { sizeBytes: number; latencyNs: number } | undefined;
  let d = Infinity;
  for (const l of levels) {
    const x = Math.abs(Math.log(l.sizeBytes / sizeBytes));
    if (x < d) {
      d = x;
      best = l;
    }
  }
  return best;
}

function round(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
}

/**
 * The description as YAML, headed by comments holding the measurements it
 * came from and the notes, so the file says how it was made.
 */
export function machineDescriptionYaml(m: MachineMapping, cal: CalibrationInput): string {
  const head = [
    '# Machine description from `umbra calibrate` (loads with loadMachineDescription).',
    `# measured: ${cal.cores} cores; DRAM latency ${round(cal.dramLatencyNs, 1)} ns; copy bandwidth ${round(cal.streamBandwidthBytesPerSec / 1e9, 2)} GB/s; compute ${round(cal.computeOpsPerSecPerCore / 1e9, 3)} G ops/s per core` +
      (cal.cpuinfoMHz !== undefined ? `; cpu MHz ${cal.cpuinfoMHz}` : ''),
    ...(cal.coreInterference && 'pairs' in cal.coreInterference
      ? [`# core pairs (compute kernel together / alone, CPI increase): ${cal.coreInterference.pairs.map((p) => `${p.cores.join('+')} ${pct(p.slowdown)}`).join(', ') || 'none'}`]
      : []),
    ...(cal.streamStressor && 'bytesPerSec' in cal.streamStressor ? [`# built-in stream stressor alone on core ${cal.streamStressor.core}: ${round(cal.streamStressor.bytesPerSec / 1e9, 2)} GB/s`] : []),
    ...(cal.wakeupCost && 'costNs' in cal.wakeupCost
      ? [`# the same next to ${cal.wakeupCost.rateHz} wake-ups/s on its core, per pair (bandwidth ratio, waker CPU share, ns per wake-up): ${cal.wakeupCost.pairs.map((p) => `${round(p.withWakerBytesPerSec / p.aloneBytesPerSec, 3)}/${round(p.wakerCpuShare, 3)}/${Math.round(p.costNs)}`).join(', ')}`]
      : []),
    ...(cal.loadedLatency && 'inflation' in cal.loadedLatency
      ? [`# DRAM latency under load (chase on core ${cal.loadedLatency.chaseCore}, copy on core ${cal.loadedLatency.copyCore}): ${round(cal.loadedLatency.aloneNs, 1)} ns alone, ${round(cal.loadedLatency.loadedNs, 1)} ns loaded, copy ${round(cal.loadedLatency.copyBytesPerSec / 1e9, 2)} GB/s`]
      : []),
    `# cache levels (latency curve): ${cal.cacheLevels.map((l) => `${mib(l.sizeBytes)} ${round(l.latencyNs, 1)} ns`).join(', ') || 'none found'}`,
    '# mapping:',
    ...m.notes.map((n) => `#  - ${n}`),
  ];
  return head.join('\n') + '\n' + stringify(m.description);
}
