// Microbenchmark of the analytical DRAM model (solveDram) on the inputs the
// machine simulator's fast mode gives it: 32 streams (one per task), light to
// overloaded demand, every task on all colours or a quarter of them confined
// to colour partitions; each scenario timed cold (no warm start, demand
// nudged per call) and warm (demand drifting a few per cent between calls,
// started from the previous answer, as sim/machine/contention.ts does).
// Reports the median over several repetitions of wall-clock and CPU time per
// call, since the machine is shared and wall time alone includes preemption,
// after a warm-up long enough for V8 to optimise every path.
import type { DramConfig } from './dram-config.js';
import { ddr4PeakBytesPerSec, requestBytes } from './dram-config.js';
import { lastSolveIterations, solveDram, type DramSolution, type DramStreamDemand } from './dram-analytic-model.js';
import { bankColourCount } from './page-colouring.js';
import { rngFor } from '../../util/rng.js';

export interface AnalyticBenchRow {
  scenario: string;
  load: number;
  colours: 'all' | 'mixed';
  warm: boolean;
  streams: number;
  /** Median over repetitions of wall-clock µs per call. */
  microsPerCall: number;
  /** Median over repetitions of process CPU µs per call (user + system). */
  cpuMicrosPerCall: number;
  /** Fastest repetition, wall-clock µs per call. */
  minMicrosPerCall: number;
  rounds: number;
}

export interface AnalyticBenchOptions {
  streams?: number;
  callsPerRepetition?: number;
  repetitions?: number;
  loads?: { name: string; load: number }[];
  seed?: string | number;
}

export const BENCH_LOADS = [
  { name: 'light', load: 0.3 },
  { name: 'moderate', load: 0.7 },
  { name: 'saturated', load: 1.0 },
  { name: 'overloaded', load: 1.5 },
];

/** The streams of one scenario: demand `load` x peak split unevenly over n streams. */
export function benchStreams(config: DramConfig, n: number, load: number, mixed: boolean): DramStreamDemand[] {
  const peakReq = ddr4PeakBytesPerSec(config) / requestBytes(config);
  const C = bankColourCount(config);
  const part = Math.max(1, Math.floor(C / 8));
  return Array.from({ length: n }, (_, i) => ({
    id: `task${i}`,
    requestsPerSec: ((load * peakReq) / n) * (0.5 + (i % 4) / 4) * (4 / 3.5),
    rowHitRate: [0.1, 0.5, 0.8, 0.3, 0.95, 0][i % 6],
    readFraction: [1, 0.7, 0.85, 1][i % 4],
    colours: mixed && i % 4 === 3 ? Array.from({ length: part }, (_, k) => (((i >> 2) % 8) * part + k) % C) : null,
    maxOutstanding: [10, 6, 16, 10, 8][i % 5],
  }));
}

export function benchAnalyticModel(config: DramConfig, opts: AnalyticBenchOptions = {}): AnalyticBenchRow[] {
  const n = opts.streams ?? 32;
  const calls = opts.callsPerRepetition ?? 400;
  const reps = opts.repetitions ?? 7;
  const rows: AnalyticBenchRow[] = [];
  // V8 optimises the solver's functions only after a few hundred calls: warm
  // every path up first (the machine simulator makes thousands of calls)
  const loads = opts.loads ?? BENCH_LOADS;
  for (let i = 0; i < 1500; i++) {
    const { load } = loads[i % loads.length];
    solveDram(config, benchStreams(config, n, load * (1 + 0.01 * (i % 7)), (i >> 2) % 2 === 1));
  }
  for (const { name, load } of loads) {
    for (const mixed of [false, true]) {
      for (const warm of [false, true]) {
        const rng = rngFor(opts.seed ?? 1, `dram-bench/${name}/${mixed}/${warm}`);
        const base = benchStreams(config, n, load, mixed);
        // Inputs prepared up front so the timed loop only solves.
        const inputs: DramStreamDemand[][] = [];
        for (let c = 0; c < calls; c++) {
          inputs.push(
            base.map((s, i) => ({
              ...s,
              // cold: a tiny nudge of one stream; warm: every stream drifts up to +-3%
              requestsPerSec: warm ? s.requestsPerSec * (1 + 0.06 * (rng.next() - 0.5)) : i === c % n ? s.requestsPerSec * (1 + 1e-4 * c) : s.requestsPerSec,
            })),
          );
        }
        let prev: DramSolution | undefined;
        for (let c = 0; c < Math.min(calls, 100); c++) prev = solveDram(config, inputs[c], warm && prev ? { warmStart: prev } : {}); // JIT warm-up
        const wall: number[] = [];
        const cpu: number[] = [];
        let rounds = 0;
        for (let r = 0; r < reps; r++) {
          const c0 = process.cpuUsage();
          const t0 = process.hrtime.bigint();
          for (let c = 0; c < calls; c++) {
            prev = solveDram(config, inputs[c], warm && prev ? { warmStart: prev } : {});
            rounds += lastSolveIterations();
          }
          const t1 = process.hrtime.bigint();
          const dc = process.cpuUsage(c0);
          wall.push(Number(t1 - t0) / 1e3 / calls);
          cpu.push((dc.user + dc.system) / calls);
        }
        rows.push({
          scenario: `${name}${mixed ? ', mixed colours' : ', all colours'}${warm ? ', warm' : ', cold'}`,
          load,
          colours: mixed ? 'mixed' : 'all',
          warm,
          streams: n,
          microsPerCall: median(wall),
          cpuMicrosPerCall: median(cpu),
          minMicrosPerCall: Math.min(...wall),
          rounds: rounds / (reps * calls),
        });
      }
    }
  }
  return rows;
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
}

/**
 * Run as a script: `node dist/sim/dram/analytic-bench.js [--channels N]
 * [--calls N] [--repetitions N] [--json]` (the machine's default DRAM, 2
 * channels, unless --channels says otherwise).
 */
async function main(argv: string[]): Promise<void> {
  const { MACHINE_DEFAULT_DRAM, parseDramConfig } = await import('./dram-config.js');
  const value = (name: string): number | undefined => {
    const i = argv.indexOf(name);
    if (i < 0) return undefined;
    const v = Number(argv[i + 1]);
    if (!Number.isInteger(v) || v < 1) {
      process.stderr.write(`analytic-bench: ${name} expects a positive integer, got ${argv[i + 1]}\n`);
      process.exit(2);
    }
    return v;
  };
  const channels = value('--channels');
  const config = channels === undefined ? MACHINE_DEFAULT_DRAM : parseDramConfig({ ...MACHINE_DEFAULT_DRAM, channels }, '--channels');
  const rows = benchAnalyticModel(config, { callsPerRepetition: value('--calls'), repetitions: value('--repetitions') });
  const os = await import('node:os');
  if (argv.includes('--json')) {
    process.stdout.write(JSON.stringify({ channels: config.channels, loadAverage: os.loadavg(), rows }, null, 2) + '\n');
    return;
  }
  process.stdout.write(`solveDram, ${config.channels} channel(s), 32 streams; load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}\n`);
  process.stdout.write('scenario                                   µs/call (median)  CPU µs/call  fastest  rounds\n');
  for (const r of rows) process.stdout.write(`${r.scenario.padEnd(42)} ${r.microsPerCall.toFixed(1).padStart(16)} ${r.cpuMicrosPerCall.toFixed(1).padStart(12)} ${r.minMicrosPerCall.toFixed(1).padStart(8)} ${r.rounds.toFixed(1).padStart(7)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2));
