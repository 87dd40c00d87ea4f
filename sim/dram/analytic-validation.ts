// Validation of the analytical model (solveDram) against the cycle-level
// controller driven by the same streams (multi-stream-driver.ts), on a grid of
// synthetic mixes: light to saturating load, row locality from none to high,
// reads and writes, colour restrictions, streams sharing banks. Plus a timing
// of solveDram itself.
import type { DramConfig } from './dram-config.js';
import { ddr4PeakBytesPerSec, requestBytes } from './dram-config.js';
import { lastSolveIterations, solveDram, type DramStreamDemand } from './dram-analytic-model.js';
import { rngFor } from '../../util/rng.js';
import { runStreams } from './multi-stream-driver.js';
import { bankColourCount } from './page-colouring.js';

export interface ValidationRow {
  mix: string;
  stream: string;
  offeredBytesPerSec: number;
  simBytesPerSec: number;
  modelBytesPerSec: number;
  bandwidthErrorPct: number;
  simLatencyNs: number;
  modelLatencyNs: number;
  latencyErrorPct: number;
  simRowHitRate: number;
  modelRowHitRate: number;
}

export interface ValidationMix {
  name: string;
  streams: DramStreamDemand[];
}

/** The grid: loads are fractions of the memory system's peak request rate. */
export function validationMixes(config: DramConfig): ValidationMix[] {
  const peakReq = ddr4PeakBytesPerSec(config) / requestBytes(config);
  const colours = bankColourCount(config);
  const mixes: ValidationMix[] = [];
  const st = (id: string, load: number, h: number, rf: number, cols: number[] | null, m: number): DramStreamDemand => ({
    id,
    requestsPerSec: load * peakReq,
    rowHitRate: h,
    readFraction: rf,
    colours: cols,
    maxOutstanding: m,
  });
  // one stream, all banks
  for (const h of [0, 0.5, 0.9]) {
    for (const load of [0.1, 0.3, 0.5, 0.7, 0.9, 1.2]) mixes.push({ name: `1 stream h=${h} load=${load}`, streams: [st('s0', load, h, 1, null, 32)] });
  }
  // eight cores, mixed locality, reads and writes
  for (const load of [0.1, 0.3, 0.5, 0.7, 0.9, 1.2]) {
    mixes.push({ name: `8 streams h=0.2..0.9 rw load=${load}`, streams: Array.from({ length: 8 }, (_, i) => st(`c${i}`, load / 8, 0.2 + 0.1 * i, i % 2 ? 0.7 : 1, null, 10)) });
  }
  // a sequential and a random stream sharing every bank
  for (const load of [0.2, 0.5, 0.8]) {
    mixes.push({ name: `seq+random load=${load}`, streams: [st('seq', load / 2, 0.95, 1, null, 16), st('rand', load / 2, 0, 1, null, 16)] });
  }
  // colour restrictions: a stream confined to few colours next to one with all
  const few = (k: number) => Array.from({ length: k }, (_, i) => i);
  for (const k of [1, 2, 4, Math.max(1, colours / 4)]) {
    for (const load of [0.05, 0.15, 0.3]) {
      mixes.push({ name: `confined to ${k} colour(s) load=${load} + free stream`, streams: [st('conf', load, 0.5, 1, few(k), 10), st('free', 0.3, 0.5, 1, null, 10)] });
    }
  }
  // two streams sharing the same two colours (row interference)
  for (const load of [0.05, 0.1, 0.2]) {
    mixes.push({ name: `2 seq streams on 2 shared colours load=${load}`, streams: [st('a', load / 2, 0.95, 1, few(2), 10), st('b', load / 2, 0.95, 1, few(2), 10)] });
  }
  // disjoint colour partitions (isolated)
  const half = colours / 2;
  mixes.push({
    name: 'two streams on disjoint halves load=0.6',
    streams: [st('lo', 0.3, 0.7, 0.8, few(half), 12), st('hi', 0.3, 0.7, 0.8, Array.from({ length: half }, (_, i) => half + i), 12)],
  });
  return mixes;
}

export function validateAnalyticModel(config: DramConfig, opts: { seed?: number | string; measureCycles?: number; mixes?: ValidationMix[] } = {}): ValidationRow[] {
  const seed = opts.seed ?? 1;
  const measureCycles = opts.measureCycles ?? 200_000;
  const rows: ValidationRow[] = [];
  const bytes = requestBytes(config);
  for (const mix of opts.mixes ?? validationMixes(config)) {
    const sim = runStreams(config, mix.streams, { seed, warmupCycles: 20_000, measureCycles });
    const model = solveDram(config, mix.streams);
    mix.streams.forEach((s, i) => {
      const a = sim.streams[i];
      const b = model.streams[i];
      rows.push({
        mix: mix.name,
        stream: s.id,
        offeredBytesPerSec: s.requestsPerSec * bytes,
        simBytesPerSec: a.achievedRequestsPerSec * bytes,
        modelBytesPerSec: b.achievedRequestsPerSec * bytes,
        bandwidthErrorPct: a.achievedRequestsPerSec > 0 ? (100 * (b.achievedRequestsPerSec - a.achievedRequestsPerSec)) / a.achievedRequestsPerSec : 0,
        simLatencyNs: a.avgReadLatencyNs,
        modelLatencyNs: b.avgLatencyNs,
        latencyErrorPct: a.avgReadLatencyNs > 0 ? (100 * (b.avgLatencyNs - a.avgReadLatencyNs)) / a.avgReadLatencyNs : 0,
        simRowHitRate: a.rowHitRate,
        modelRowHitRate: b.rowHitRate,
      });
    });
  }
  return rows;
}

export interface ValidationSummary {
  streams: number;
  meanAbsBandwidthErrorPct: number;
  maxAbsBandwidthErrorPct: number;
  meanAbsLatencyErrorPct: number;
  medianAbsLatencyErrorPct: number;
  maxAbsLatencyErrorPct: number;
}

export function summariseValidation(rows: ValidationRow[]): ValidationSummary {
  const bw = rows.map((r) => Math.abs(r.bandwidthErrorPct));
  const lat = rows.map((r) => Math.abs(r.latencyErrorPct)).sort((a, b) => a - b);
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);
  return {
    streams: rows.length,
    meanAbsBandwidthErrorPct: mean(bw),
    maxAbsBandwidthErrorPct: Math.max(0, ...bw),
    meanAbsLatencyErrorPct: mean(lat),
    medianAbsLatencyErrorPct: lat.length ? lat[Math.floor(lat.length / 2)] : 0,
    maxAbsLatencyErrorPct: Math.max(0, ...lat),
  };
}

/**
 * Random mixes for checking the model on cases the grid does not contain:
 * 1-16 streams, total load 5-115% of peak, locality, write share and
 * outstanding limit drawn per stream, and (with probability `confinedShare`)
 * a run of consecutive colours instead of all of them.
 */
export function randomValidationMixes(config: DramConfig, count: number, seed: number | string, confinedShare = 0.4): ValidationMix[] {
  const rng = rngFor(seed, 'dram-validation/mixes');
  const peakReq = ddr4PeakBytesPerSec(config) / requestBytes(config);
  const C = bankColourCount(config);
  const mixes: ValidationMix[] = [];
  for (let k = 0; k < count; k++) {
    const n = 1 + rng.int(16);
    const totalLoad = 0.05 + rng.next() * 1.1;
    const weights: number[] = [];
    const streams: DramStreamDemand[] = [];
    for (let i = 0; i < n; i++) {
      weights.push(0.2 + rng.next());
      let colours: number[] | null = null;
      if (rng.next() < confinedShare) {
        const len = 1 + rng.int(Math.max(1, C / 2));
        const first = rng.int(C);
        colours = Array.from({ length: len }, (_, j) => (first + j) % C);
      }
      streams.push({
        id: `s${i}`,
        requestsPerSec: 0,
        rowHitRate: [0, 0.3, 0.6, 0.8, 0.95][rng.int(5)],
        readFraction: [1, 1, 0.8, 0.66, 0.5][rng.int(5)],
        colours,
        maxOutstanding: [4, 8, 10, 16, 32][rng.int(5)],
      });
    }
    const W = weights.reduce((a, b) => a + b, 0);
    streams.forEach((s, i) => (s.requestsPerSec = (totalLoad * peakReq * weights[i]) / W));
    mixes.push({ name: `random mix ${k} (${n} streams, load ${totalLoad.toFixed(2)})`, streams });
  }
  return mixes;
}

export interface SolveTiming {
  scenario: string;
  streams: number;
  microsPerCall: number;
  rounds: number;
}

/**
 * Time solveDram with `n` streams on scenarios the machine simulator meets:
 * every task on all colours, or three quarters on all colours and the rest
 * confined to colour partitions; light, moderate and overloaded demand.
 */
export function benchSolveDram(config: DramConfig, n: number): SolveTiming[] {
  const peakReq = ddr4PeakBytesPerSec(config) / requestBytes(config);
  const colours = bankColourCount(config);
  const part = Math.max(1, Math.floor(colours / 8));
  const out: SolveTiming[] = [];
  for (const partitioned of [false, true]) {
    for (const load of [0.3, 0.7, 1.2]) {
      const streams: DramStreamDemand[] = Array.from({ length: n }, (_, i) => ({
        id: `s${i}`,
        requestsPerSec: ((load * peakReq) / n) * (0.5 + (i % 4) / 4),
        rowHitRate: (i % 10) / 10,
        readFraction: 0.7 + 0.3 * ((i % 3) / 2),
        colours: partitioned && i >= (3 * n) / 4 ? Array.from({ length: part }, (_, k) => ((i % 4) * part + k) % colours) : null,
        maxOutstanding: 10,
      }));
      for (let i = 0; i < 20; i++) solveDram(config, streams); // warm up the JIT
      const calls = 200;
      let rounds = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) {
        streams[i % n].requestsPerSec *= 1.0001; // not quite the same input each time
        solveDram(config, streams);
        rounds += lastSolveIterations();
      }
      const us = Number(process.hrtime.bigint() - t0) / 1e3 / calls;
      out.push({ scenario: `${partitioned ? 'partitioned' : 'all colours'}, load ${load}`, streams: n, microsPerCall: us, rounds: rounds / calls });
    }
  }
  return out;
}
