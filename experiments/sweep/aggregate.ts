// From the job files to the results: per-run metrics (emuPct and
// beThroughputPct divided by the alone baselines), then per point and policy
// the mean and 95% interval over seeds. results.json and results.csv depend
// only on the job files, so they are byte-identical however the jobs were
// spread over workers, shards and machines. Wall-clock figures (decide()
// times) go to timing.json / timing.csv, which are not.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { roundSig } from '../common/canonical-json.js';
import { METRICS, METRIC_NAMES, type MetricName } from '../metrics/definitions.js';
import { meanInterval, type Interval } from '../metrics/stats.js';
import type { PreparedExperiment } from '../spec/prepare.js';
import type { AloneFile, CellFile, TimingFile } from './run-job.js';
import { aloneKey, type CellJob, type Job } from './jobs.js';
import type { RawRunMetrics } from '../metrics/run-metrics.js';

export type RunMetrics = Record<MetricName, number | null>;

export interface MetricSummary {
  mean: number | null;
  lo: number | null;
  hi: number | null;
  /** Seeds the value rests on (a metric can be undefined for some runs). */
  n: number;
}

export interface PolicyResult {
  name: string;
  /** Registry name (differs from name for labelled entries). */
  policy: string;
  point: number;
  pointLabel: string;
  metrics: Partial<Record<MetricName, MetricSummary>>;
}

export interface ResultsJson {
  umbra: string;
  name: string;
  specHash: string;
  spec: Record<string, unknown>;
  seeds: number[];
  points: { index: number; label: string; values: Record<string, unknown> }[];
  metrics: { name: MetricName; unit: string; better: 'lower' | 'higher'; description: string }[];
  /** Per policy (and point): mean and 95% interval over seeds. */
  policies: PolicyResult[];
  /** Alone baselines per seed: second-class throughput (progress/s) and first-class peak (requests/s). */
  alone: { role: 'be' | 'fc'; task: string; seed: number; point: number; value: number; fromSpec?: boolean }[];
  wallClock: { file: string; metrics: MetricName[] };
}

function readJson<T>(path: string): T | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null; // a truncated file from an interrupted run counts as not done
  }
}

/** Whether a job's file is there and was made from the same inputs. */
export function jobDone(outDir: string, job: Job): boolean {
  const f = readJson<{ hash?: string }>(join(outDir, job.file));
  return f?.hash === job.hash;
}

export function readCell(outDir: string, job: CellJob): CellFile {
  const f = readJson<CellFile>(join(outDir, job.file));
  if (!f || f.hash !== job.hash) throw new Error(`cell ${job.file} is missing or stale`);
  return f;
}

export interface CellRun {
  job: CellJob;
  cell: CellFile;
  metrics: RunMetrics;
  timing: TimingFile | null;
}

/** Final metrics of one run, with the alone baselines of its seed. */
export function finalMetrics(raw: RawRunMetrics, fcPeak: Record<string, number>, beAlone: Record<string, number>, timing: TimingFile | null): RunMetrics {
  const beShares = Object.entries(raw.beProgress)
    .filter(([id]) => (beAlone[id] ?? 0) > 0)
    .map(([id, v]) => v / beAlone[id]);
  const fcShares = Object.entries(raw.servedRps)
    .filter(([id]) => (fcPeak[id] ?? 0) > 0)
    .map(([id, v]) => v / fcPeak[id]);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const be = beShares.length ? avg(beShares) : null;
  const fc = fcShares.length ? avg(fcShares) : null;
  return {
    sloViolationPct: raw.sloViolationPct,
    p99OverSlo: raw.p99OverSlo,
    emuPct: be === null && fc === null ? null : 100 * ((fc ?? 0) + (be ?? 0)),
    beThroughputPct: be === null ? null : 100 * be,
    hoardedPct: raw.hoardedPct,
    leadTimeMs: raw.leadTimeMs,
    forecastSmape: raw.forecastSmape,
    churnPerSec: raw.churnPerSec,
    decideUsP99: timing ? timing.decideUsP99 : null,
  };
}

/** Every cell with its final metrics; throws if a job file is missing. */
export function collectRuns(exp: PreparedExperiment, jobs: Job[], outDir: string): { runs: CellRun[]; alone: ResultsJson['alone'] } {
  const alone: ResultsJson['alone'] = [];
  const aloneBy = new Map<string, number>();
  for (const j of jobs) {
    if (j.kind !== 'alone') continue;
    const f = readJson<AloneFile>(join(outDir, j.file));
    if (!f || f.hash !== j.hash) throw new Error(`alone baseline ${j.file} is missing or stale`);
    aloneBy.set(j.hash, f.value);
  }
  // alone jobs are shared between points whose task, machine and timing agree: found by their key
  const lookup = (point: number, role: 'be' | 'fc', task: string, seed: number): number | undefined => {
    const p = exp.points[point];
    if (role === 'fc' && p.peakRps[task] !== undefined) return p.peakRps[task];
    return aloneBy.get(aloneKey(p, role, task, seed));
  };
  for (const p of exp.points) {
    for (const seed of exp.seeds) {
      for (const t of p.scenario.tasks) {
        const role = t.class === 'second' ? 'be' : 'fc';
        const v = lookup(p.index, role, t.id, seed);
        if (v !== undefined) alone.push({ role, task: t.id, seed, point: p.index, value: roundSig(v), ...(role === 'fc' && p.peakRps[t.id] !== undefined ? { fromSpec: true } : {}) });
      }
    }
  }
  const runs: CellRun[] = [];
  for (const j of jobs) {
    if (j.kind !== 'cell') continue;
    const cell = readCell(outDir, j);
    const timing = readJson<TimingFile>(join(outDir, j.timingFile));
    const fc: Record<string, number> = {};
    const be: Record<string, number> = {};
    for (const t of exp.points[j.point].scenario.tasks) {
      const role = t.class === 'second' ? 'be' : 'fc';
      const v = lookup(j.point, role, t.id, j.seed);
      if (v !== undefined) (role === 'fc' ? fc : be)[t.id] = v;
    }
    runs.push({ job: j, cell, metrics: finalMetrics(cell.metrics, fc, be, timing && timing.hash === j.hash ? timing : null), timing });
  }
  return { runs, alone };
}

function summary(i: Interval | null, range: [number, number]): MetricSummary {
  if (!i) return { mean: null, lo: null, hi: null, n: 0 };
  const clip = (x: number) => Math.min(range[1], Math.max(range[0], x));
  return { mean: roundSig(i.mean), lo: roundSig(clip(i.lo)), hi: roundSig(clip(i.hi)), n: i.n };
}

export function summarise(exp: PreparedExperiment, runs: CellRun[], which: 'deterministic' | 'wallClock'): PolicyResult[] {
  const names = METRIC_NAMES.filter((m) => METRICS[m].wallClock === (which === 'wallClock'));
  const out: PolicyResult[] = [];
  for (const p of exp.points) {
    for (const pol of p.policies) {
      const mine = runs.filter((r) => r.job.point === p.index && r.job.policy === pol.label);
      const metrics: Partial<Record<MetricName, MetricSummary>> = {};
      for (const m of names) {
        const range: [number, number] = m === 'leadTimeMs' ? [-p.spec.leadCapMs, p.spec.leadCapMs] : METRICS[m].range;
        metrics[m] = summary(meanInterval(mine.map((r) => r.metrics[m]).filter((x): x is number => x !== null)), range);
      }
      out.push({ name: pol.label, policy: pol.name, point: p.index, pointLabel: p.label, metrics });
    }
  }
  return out;
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(roundSig(v));
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function writeResults(exp: PreparedExperiment, jobs: Job[], outDir: string, version: string): ResultsJson {
  const { runs, alone } = collectRuns(exp, jobs, outDir);
  const sweepPaths = Object.keys(exp.spec.sweep ?? {});
  const det = METRIC_NAMES.filter((m) => !METRICS[m].wallClock);
  const wall = METRIC_NAMES.filter((m) => METRICS[m].wallClock);

  const rows = [['point', 'pointLabel', ...sweepPaths, 'policy', 'seed', ...det].map(csvCell).join(',')];
  for (const r of runs) {
    const p = exp.points[r.job.point];
    rows.push([p.index, p.label, ...sweepPaths.map((k) => p.values[k]), r.job.policy, r.job.seed, ...det.map((m) => r.metrics[m])].map(csvCell).join(','));
  }
  const timingRows = [['point', 'policy', 'seed', 'decideCalls', 'decideUsP50', 'decideUsP99', 'decideUsMax', 'wallMs'].join(',')];
  for (const r of runs) {
    const t = r.timing;
    timingRows.push([r.job.point, r.job.policy, r.job.seed, t?.decideCalls, t?.decideUsP50, t?.decideUsP99, t?.decideUsMax, t?.wallMs].map(csvCell).join(','));
  }
  const results: ResultsJson = {
    umbra: version,
    name: exp.name,
    specHash: exp.specHash,
    spec: exp.effectiveSpec,
    seeds: exp.seeds,
    points: exp.points.map((p) => ({ index: p.index, label: p.label, values: p.values })),
    metrics: det.map((m) => ({ name: m, unit: METRICS[m].unit, better: METRICS[m].better, description: METRICS[m].description })),
    policies: summarise(exp, runs, 'deterministic'),
    alone,
    wallClock: { file: 'timing.json', metrics: wall },
  };
  const timing = {
    umbra: version,
    name: exp.name,
    specHash: exp.specHash,
    note: 'wall-clock measurements: they vary from run to run and machine to machine, so they are kept out of results.json',
    metrics: wall.map((m) => ({ name: m, unit: METRICS[m].unit, better: METRICS[m].better, description: METRICS[m].description })),
    policies: summarise(exp, runs, 'wallClock'),
  };
  writeFileAtomic(join(outDir, 'results.csv'), rows.join('\n') + '\n');
  writeFileAtomic(join(outDir, 'timing.csv'), timingRows.join('\n') + '\n');
  writeFileAtomic(join(outDir, 'timing.json'), JSON.stringify(timing, null, 2) + '\n');
  // results.json last: its presence means the sweep is complete
  writeFileAtomic(join(outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  return results;
}
