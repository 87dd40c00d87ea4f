// The comparison as data (compare.json) and as a Markdown table (compare.md):
// per policy and first-class service, the host's and the simulator's figures
// (means over seeds, and per seed in the JSON) and the simulator's error.
import type { MachineDescription } from '../../sim/machine/machine-description.js';
import type { MemoryFit } from './fit-memory-intensity.js';
import { footprintLine, type ServiceFootprintFit } from './fit-service-footprint.js';
import { meanFigures, sideFigures, simErrors, SIDE_FIGURES, type RunFigures, type SideFigures } from './compare-figures.js';
import { SERVICE_FIT_TOLERANCE, withinServiceFitTolerance } from './fit-service-demand.js';

/** The issue's target: simulated slowdown within this many percent of the measured one. */
export const SLOWDOWN_TARGET_PCT = 15;

/** The fit stopped at its last run without reaching the tolerance. */
function fitMissed(f: { hostCpuUsPerRequest: number | null; simFittedCpuUsPerRequest: number | null }): boolean {
  if (f.hostCpuUsPerRequest === null || f.simFittedCpuUsPerRequest === null || f.hostCpuUsPerRequest <= 0 || f.simFittedCpuUsPerRequest <= 0) return false;
  return !withinServiceFitTolerance(f.simFittedCpuUsPerRequest, f.hostCpuUsPerRequest);
}

export interface ServiceFit {
  task: string;
  presetInstrPerRequest: number;
  fittedInstrPerRequest: number | null;
  hostCpuUsPerRequest: number | null;
  simPresetCpuUsPerRequest: number | null;
  /** Simulated CPU per request with the fitted instructions (the last correction step's run). */
  simFittedCpuUsPerRequest: number | null;
  /** Simulated alone runs the fit took after the preset's. */
  steps: number;
}

/** The host's measurement path per service and seed: host alone minus simulated alone, added to that seed's simulated latencies. */
export interface PathFit {
  task: string;
  seed: number;
  p99Ns: number;
  meanNs: number | null;
  hostAloneP99Ns: number;
  simAloneP99Ns: number;
}

export interface CompareRunRecord {
  side: 'host' | 'sim';
  /** Policy label, or alone-<task>. */
  label: string;
  seed: number;
  /** The figures compared (simulated runs: with the measurement path added, when fitted). */
  figures: RunFigures;
  /** Simulated runs with the measurement path added: the figures without it. */
  figuresWithoutPath?: RunFigures;
  sloViolationPct: number | null;
  churnPerSec: number;
  appliedByKind: Record<string, number>;
  refusedByReason: Record<string, number>;
  /** Host runs: what ran each task. */
  hostMapping: string[];
  /**
   * Host runs: the machine's CPU use over the run in cores: all of it, the
   * run's tasks, this process (control loop, load generator), and everything
   * else (other tenants of a shared host); VM steal separately.
   */
  /** runnerWakeupsPerSec: how often umbra's own threads woke (voluntary context switches); absent in older files. */
  hostLoad: { busyCores: number; taskCores: number; runnerCores: number; runnerWakeupsPerSec?: number; otherCores: number; stealCores: number } | null;
}

export type Errors = Record<keyof SideFigures, number | null>;

export interface ComparisonRow {
  policy: string;
  task: string;
  host: SideFigures;
  sim: SideFigures;
  error: Errors;
  /** |error of slowdownP99| <= SLOWDOWN_TARGET_PCT; null when either slowdown is missing. */
  slowdownWithinTarget: boolean | null;
  /** The simulated p99 slowdown without the measurement path (mean over seeds), and its error; null when no path was added. */
  simSlowdownP99WithoutPath: number | null;
  errorSlowdownP99WithoutPath: number | null;
  perSeed: { seed: number; host: SideFigures; sim: SideFigures; error: Errors; simSlowdownP99WithoutPath: number | null }[];
}

export interface Comparison {
  schema: 'umbra-compare/1';
  name: string;
  spec: string;
  umbra: string;
  machine: { name: string; cores: number; freqGHz: number; llcBytes: number; llcWays: number; dramChannels: number; dramTclCycles: number };
  machineSource: string;
  machineNotes: string[];
  seeds: number[];
  policies: string[];
  durationMs: number;
  warmupMs: number;
  controlPeriodMs: number;
  stressors: string;
  fits: ServiceFit[];
  /** First-class services' LLC accesses per request measured on the host (empty with --no-fit-footprint). */
  footprints: ServiceFootprintFit[];
  /** Second-class kernels' memory intensity fitted to the host's alone bandwidth (empty with --no-fit-memory). */
  memoryFits: MemoryFit[];
  /** The measurement path added to simulated latencies (empty with --no-fit-path). */
  paths: PathFit[];
  notes: string[];
  rows: ComparisonRow[];
  runs: CompareRunRecord[];
}

export interface ComparisonInput extends Omit<Comparison, 'schema' | 'umbra' | 'spec' | 'machine' | 'rows' | 'memoryFits' | 'paths' | 'footprints'> {
  memoryFits?: MemoryFit[];
  footprints?: ServiceFootprintFit[];
  paths?: PathFit[];
  specPath: string;
  version: string;
  machine: MachineDescription;
  fcIds: string[];
  beIds: string[];
}

function find(runs: CompareRunRecord[], side: 'host' | 'sim', label: string, seed: number, withoutPath = false): RunFigures | undefined {
  const r = runs.find((x) => x.side === side && x.label === label && x.seed === seed);
  return withoutPath ? (r?.figuresWithoutPath ?? r?.figures) : r?.figures;
}

export function buildComparison(i: ComparisonInput): Comparison {
  const rows: ComparisonRow[] = [];
  for (const policy of i.policies) {
    for (const task of i.fcIds) {
      const perSeed: ComparisonRow['perSeed'] = [];
      for (const seed of i.seeds) {
        const sides = (['host', 'sim'] as const).map((side) => {
          const alone = find(i.runs, side, `alone-${task}`, seed);
          const coloc = find(i.runs, side, policy, seed);
          if (!alone || !coloc) return null;
          const beAlone: Record<string, number> = {};
          for (const b of i.beIds) {
            const f = find(i.runs, side, `alone-${b}`, seed);
            if (f?.be[b]) beAlone[b] = f.be[b].progressPerSec;
          }
          return sideFigures(task, alone, coloc, beAlone);
        });
        if (!sides[0] || !sides[1]) continue;
        const rawAlone = find(i.runs, 'sim', `alone-${task}`, seed, true);
        const rawColoc = find(i.runs, 'sim', policy, seed, true);
        const pathAdded = i.runs.some((r) => r.side === 'sim' && r.seed === seed && (r.label === policy || r.label === `alone-${task}`) && r.figuresWithoutPath);
        const raw = pathAdded && rawAlone && rawColoc ? sideFigures(task, rawAlone, rawColoc, {}).slowdownP99 : null;
        perSeed.push({ seed, host: sides[0], sim: sides[1], error: simErrors(sides[0], sides[1]), simSlowdownP99WithoutPath: raw });
      }
      const host = meanFigures(perSeed.map((p) => p.host));
      const sim = meanFigures(perSeed.map((p) => p.sim));
      const error = simErrors(host, sim);
      const raws = perSeed.map((p) => p.simSlowdownP99WithoutPath).filter((v): v is number => v !== null);
      const rawMean = raws.length ? raws.reduce((a, b) => a + b, 0) / raws.length : null;
      rows.push({
        policy,
        task,
        host,
        sim,
        error,
        slowdownWithinTarget: error.slowdownP99 === null ? null : Math.abs(error.slowdownP99) * 100 <= SLOWDOWN_TARGET_PCT,
        simSlowdownP99WithoutPath: rawMean,
        errorSlowdownP99WithoutPath: rawMean !== null && host.slowdownP99 ? (rawMean - host.slowdownP99) / host.slowdownP99 : null,
        perSeed,
      });
    }
  }
  const m = i.machine;
  return {
    schema: 'umbra-compare/1',
    name: i.name,
    spec: i.specPath,
    umbra: i.version,
    machine: { name: m.name, cores: m.cores.count, freqGHz: m.cores.freqGHz, llcBytes: m.llc.sizeBytes, llcWays: m.llc.ways, dramChannels: m.dram.channels, dramTclCycles: m.dram.timingCycles.tCL },
    machineSource: i.machineSource,
    machineNotes: i.machineNotes,
    seeds: i.seeds,
    policies: i.policies,
    durationMs: i.durationMs,
    warmupMs: i.warmupMs,
    controlPeriodMs: i.controlPeriodMs,
    stressors: i.stressors,
    fits: i.fits,
    footprints: i.footprints ?? [],
    memoryFits: i.memoryFits ?? [],
    paths: i.paths ?? [],
    notes: i.notes,
    rows,
    runs: i.runs,
  };
}

const us = (ns: number | null) => (ns === null ? 'n/a' : (ns / 1e3).toFixed(ns < 1e5 ? 1 : 0));
const x = (v: number | null) => (v === null ? 'n/a' : v.toFixed(2));
const pct = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(1)}`);
const err = (v: number | null) => (v === null ? 'n/a' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(0)}%`);
const pts = (v: number | null) => (v === null ? 'n/a' : `${v >= 0 ? '+' : ''}${v.toFixed(1)} pt`);

/** host / sim (error) in one cell. */
function cell(h: string, s: string, e: string): string {
  return `${h} / ${s} (${e})`;
}

export function comparisonMarkdown(c: Comparison): string {
  const L: string[] = [];
  L.push(`# umbra compare: ${c.name}`);
  L.push('');
  L.push(
    `Each cell is **host / simulator (simulator's error)**; means over seeds ${c.seeds.join(', ')}; ${c.durationMs} ms per run, the first ${c.warmupMs} ms left out, ${c.controlPeriodMs} ms windows. ` +
      'Latencies in microseconds: the mean over windows of the window p99 (and the request-weighted mean latency); slowdown = co-located / alone on the same initial cores; ' +
      'second-class throughput = co-located / alone progress. Errors are (sim - host) / host, and for SLO violations the difference in percentage points.',
  );
  L.push('');
  const withPath = c.rows.some((r) => r.simSlowdownP99WithoutPath !== null);
  L.push(`| policy | service | p99 alone (us) | p99 co-located (us) | p99 slowdown | mean slowdown | SLO violations (%) | 2nd-class throughput | slowdown within 15%? |${withPath ? ' sim p99 slowdown without the path (error) |' : ''}`);
  L.push(`|---|---|---|---|---|---|---|---|---|${withPath ? '---|' : ''}`);
  for (const r of c.rows) {
    const rawCell = withPath ? ` ${x(r.simSlowdownP99WithoutPath)} (${err(r.errorSlowdownP99WithoutPath)}) |` : '';
    L.push(
      `| ${r.policy} | ${r.task} | ${cell(us(r.host.p99AloneNs), us(r.sim.p99AloneNs), err(r.error.p99AloneNs))} | ${cell(us(r.host.p99ColocNs), us(r.sim.p99ColocNs), err(r.error.p99ColocNs))} | ` +
        `${cell(x(r.host.slowdownP99), x(r.sim.slowdownP99), err(r.error.slowdownP99))} | ${cell(x(r.host.slowdownMean), x(r.sim.slowdownMean), err(r.error.slowdownMean))} | ` +
        `${cell(pct(r.host.sloViolationPct), pct(r.sim.sloViolationPct), pts(r.error.sloViolationPct))} | ${cell(x(r.host.beThroughputRel), x(r.sim.beThroughputRel), err(r.error.beThroughputRel))} | ` +
        `${r.slowdownWithinTarget === null ? 'n/a' : r.slowdownWithinTarget ? 'yes' : 'no'} |` +
        rawCell,
    );
  }
  L.push('');
  L.push('## Per seed');
  L.push('');
  L.push(`| policy | service | seed | p99 slowdown host / sim (error) | p99 co-located (us) | 2nd-class throughput |${withPath ? ' sim p99 slowdown without the path |' : ''}`);
  L.push(`|---|---|---|---|---|---|${withPath ? '---|' : ''}`);
  for (const r of c.rows) {
    for (const p of r.perSeed) {
      L.push(
        `| ${r.policy} | ${r.task} | ${p.seed} | ${cell(x(p.host.slowdownP99), x(p.sim.slowdownP99), err(p.error.slowdownP99))} | ${cell(us(p.host.p99ColocNs), us(p.sim.p99ColocNs), err(p.error.p99ColocNs))} | ${cell(x(p.host.beThroughputRel), x(p.sim.beThroughputRel), err(p.error.beThroughputRel))} |` +
          (withPath ? ` ${x(p.simSlowdownP99WithoutPath)} |` : ''),
      );
    }
  }
  L.push('');
  L.push('## Setup');
  L.push('');
  const m = c.machine;
  L.push(`- Simulated machine \`${m.name}\`: ${m.cores} cores at ${m.freqGHz} GHz, LLC ${(m.llcBytes / 2 ** 20).toFixed(1)} MiB ${m.llcWays}-way, DDR4 ${m.dramChannels} channel(s), tCL ${m.dramTclCycles} cycles; from ${c.machineSource}.`);
  for (const n of c.machineNotes) L.push(`  - ${n}`);
  L.push(`- Second-class work on the host: ${c.stressors === 'builtin' ? 'the built-in microbenchmarks (they report progress)' : `${c.stressors} (stress-ng reports no progress while it runs: no host throughput)`}.`);
  for (const f of c.fits) {
    L.push(
      f.fittedInstrPerRequest === null
        ? `- Service demand of ${f.task}: not fitted (preset ${f.presetInstrPerRequest} instructions per request).`
        : `- Service demand of ${f.task}: ${f.hostCpuUsPerRequest!.toFixed(1)} us of CPU per request on the host alone, ${f.simPresetCpuUsPerRequest!.toFixed(1)} us in the simulator with the preset's ${f.presetInstrPerRequest} instructions: simulated with ${f.fittedInstrPerRequest} instructions per request (${f.simFittedCpuUsPerRequest === null ? 'n/a' : f.simFittedCpuUsPerRequest.toFixed(1)} us, ${f.steps} correction run(s)${fitMissed(f) ? `; not within ${SERVICE_FIT_TOLERANCE * 100}% of the host's when the runs ran out` : ''}).`,
    );
  }
  for (const f of c.footprints) L.push(`- ${footprintLine(f)}.`);
  const gbs = (b: number | null) => (b === null ? 'n/a' : `${(b / 1e9).toFixed(2)} GB/s`);
  for (const f of c.memoryFits) {
    L.push(
      f.intensity === null
        ? `- Memory intensity of ${f.task} (${f.kernel}): not fitted: ${f.note ?? 'no figures'}.`
        : `- Memory intensity of ${f.task} (${f.kernel}): ${gbs(f.hostBytesPerSec)} alone on the host (${f.hostSource}), ${gbs(f.simPresetBytesPerSec)} simulated with the preset (apki ${f.presetApki}, mlp ${f.presetMlp}): ` +
            `apki and mlp x${f.intensity.toFixed(2)} (apki ${+f.apki!.toFixed(1)}, mlp ${+f.mlp!.toFixed(1)}) simulate ${gbs(f.simFittedBytesPerSec)} alone (${f.steps} fitting run(s))${f.note ? `; ${f.note}` : ''}.`,
    );
  }
  for (const task of [...new Set(c.paths.map((p) => p.task))]) {
    const ps = c.paths.filter((p) => p.task === task);
    L.push(
      `- Measurement path of ${task} (load generator, socket, event loops; the simulator has none), host alone window p99 - simulated, per seed: ` +
        ps.map((p) => `seed ${p.seed}: ${us(p.hostAloneP99Ns)} - ${us(p.simAloneP99Ns)} = ${us(p.p99Ns)} us` + (p.meanNs !== null ? ` (mean latency ${us(p.meanNs)} us)` : '')).join('; ') +
        ". Each is added to every simulated window of its seed (p50 left as simulated); the last column of the table is the simulated slowdown without it.",
    );
  }
  for (const n of c.notes) L.push(`- ${n}`);
  const hostRuns = c.runs.filter((r) => r.side === 'host' && r.hostMapping.length);
  if (hostRuns.length) {
    L.push('- Host mapping (first co-located run):');
    const co = hostRuns.find((r) => !r.label.startsWith('alone-')) ?? hostRuns[0];
    for (const n of co.hostMapping) L.push(`  - ${n}`);
  }
  const loads = c.runs.filter((r) => r.side === 'host' && r.hostLoad).map((r) => r.hostLoad!);
  if (loads.length) {
    const avg = (f: (l: (typeof loads)[number]) => number) => loads.reduce((a, l) => a + f(l), 0) / loads.length;
    const max = Math.max(...loads.map((l) => l.otherCores));
    L.push(
      `- Host CPU during the host runs (cores, mean over ${loads.length} runs): the runs' tasks ${avg((l) => l.taskCores).toFixed(2)}, umbra itself (control loop, load generator) ${avg((l) => l.runnerCores).toFixed(2)}, ` +
        `other processes ${avg((l) => l.otherCores).toFixed(2)} (max ${max.toFixed(2)}), VM steal ${avg((l) => l.stealCores).toFixed(2)}.`,
    );
  }
  L.push('- Host figures are measurements: not byte-reproducible (timing, scheduling, other tenants); the simulated ones are, for the same inputs.');
  L.push('');
  return L.join('\n');
}

/** Figures named for the JSON reader. */
export const FIGURE_NAMES = SIDE_FIGURES;
