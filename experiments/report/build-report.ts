// `umbra report DIR`: from a finished run folder to report.md, a
// self-contained report.html, figures/ (SVG and PNG) and tables/ (CSV and
// LaTeX). Every number in the text is read from results.json (and the
// wall-clock ones from timing.json); nothing is typed in by hand.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { InputError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import type { Recording } from '../loop/recording.js';
import { METRICS, METRIC_NAMES, type MetricName } from '../metrics/definitions.js';
import { resolveFor } from '../platforms/sim.js';
import type { PreparedExperiment } from '../spec/prepare.js';
import { ABLATIONS } from '../spec/schema.js';
import type { MetricSummary, PolicyResult, ResultsJson } from '../sweep/aggregate.js';
import { allJobs } from '../sweep/jobs.js';
import type { CellFile } from '../sweep/run-job.js';
import { EXPERIMENT_FILE } from '../sweep/run-sweep.js';
import { renderFigure } from './charts.js';
import { toHtml, toMarkdown, type Block } from './document.js';
import { ablationFigure, allocationFigure, comparisonFigure, forecastFigure, heldCoresFigure, latencyFigure, tradeoffFigure, type FigureSpec, type RecordingRef } from './figures.js';
import { fmt, fmtInterval } from './format.js';
import { tableCsv, tableLatex, type ResultTable } from './tables.js';

export interface ReportSummary {
  dir: string;
  files: string[];
  figures: string[];
  tables: string[];
}

interface TimingJson {
  policies: PolicyResult[];
}

const PREFERRED = ['shadow', 'oracle', 'static', 'reactive', 'percentile'];
const BASELINES = ['static', 'reactive', 'percentile', 'oracle'];

function readJson<T>(path: string): T | null {
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export async function buildReport(dirArg: string): Promise<ReportSummary> {
  const dir = resolve(dirArg);
  const results = readJson<ResultsJson>(join(dir, 'results.json'));
  if (!results) {
    const run = readJson<{ jobs?: unknown[] }>(join(dir, 'run.json'));
    throw new InputError(
      run ? 'no results.json: the run is not complete; rerun the same `umbra run` command to finish it (it resumes), or `umbra merge` the shards' : 'no results.json here: give the --out folder of `umbra run` or `umbra demo`',
      dir,
    );
  }
  const exp = readJson<PreparedExperiment>(join(dir, EXPERIMENT_FILE));
  if (!exp) throw new InputError(`no ${EXPERIMENT_FILE} beside results.json`, dir);
  const timing = readJson<TimingJson>(join(dir, 'timing.json'));
  const spec = exp.spec;
  const wanted = (spec.metrics ?? METRIC_NAMES) as MetricName[];
  const det = wanted.filter((m) => !METRICS[m].wallClock);
  const wall = wanted.filter((m) => METRICS[m].wallClock);
  const figPoint = Math.min(spec.report?.figurePoint ?? 0, exp.points.length - 1);
  const figSeed = spec.report?.figureSeed !== undefined && exp.seeds.includes(spec.report.figureSeed) ? spec.report.figureSeed : exp.seeds[0];
  const point = exp.points[figPoint];
  const labels = point.policies.map((p) => p.label);
  const figPolicies = spec.report?.figurePolicies?.filter((p) => labels.includes(p)) ?? (labels.some((l) => PREFERRED.includes(l)) ? PREFERRED.filter((p) => labels.includes(p)) : labels.slice(0, 4));
  const mainPolicy = labels.includes('shadow') ? 'shadow' : labels[0];

  // recordings of the figure point and seed
  const jobs = allJobs(exp);
  const recs = new Map<string, Recording>();
  for (const j of jobs) {
    if (j.kind !== 'cell' || j.point !== figPoint || j.seed !== figSeed) continue;
    const c = readJson<CellFile>(join(dir, j.file));
    if (c) recs.set(j.policy, c.recording);
  }
  const ref = (p: string): RecordingRef | null => (recs.has(p) ? { policy: p, recording: recs.get(p)! } : null);
  const figRuns = figPolicies.map(ref).filter((r): r is RecordingRef => r !== null);

  // ------------------------------------------------------------- tables
  const allResults: PolicyResult[] = results.policies.map((r) => {
    const t = timing?.policies.find((x) => x.name === r.name && x.point === r.point);
    return { ...r, metrics: { ...r.metrics, ...(t?.metrics ?? {}) } };
  });
  const columns = [...det, ...wall].map((m) => ({ key: m, title: METRICS[m].title, unit: METRICS[m].unit, better: METRICS[m].better }));
  const tables: { table: ResultTable; files: string[] }[] = [];
  const files: string[] = [];
  const writeTable = (t: ResultTable) => {
    const csv = `tables/${t.name}.csv`;
    const tex = `tables/${t.name}.tex`;
    writeFileAtomic(join(dir, csv), tableCsv(t));
    writeFileAtomic(join(dir, tex), tableLatex(t));
    files.push(csv, tex);
    tables.push({ table: t, files: [tex, csv] });
  };
  for (const p of exp.points) {
    const rows = allResults.filter((r) => r.point === p.index);
    writeTable({
      name: exp.points.length > 1 ? `summary-p${p.index}` : 'summary',
      caption: `Metrics per policy${p.label ? ` at ${p.label}` : ''}: mean over ${exp.seeds.length} seed(s) with 95% confidence interval; best in bold.`,
      rowHeader: 'policy',
      columns,
      rows: rows.map((r) => ({ label: r.name, cells: columns.map((c) => r.metrics[c.key as MetricName] ?? null) })),
    });
  }
  const ablRows = ['shadow', ...Object.values(ABLATIONS)].map((n) => allResults.find((r) => r.name === n && r.point === figPoint)).filter((r): r is PolicyResult => !!r);
  if (ablRows.length > 1 && ablRows[0].name === 'shadow') {
    const ablCols = columns.filter((c) => ['sloViolationPct', 'p99OverSlo', 'emuPct', 'beThroughputPct', 'hoardedPct', 'leadTimeMs', 'forecastSmape'].includes(c.key));
    writeTable({ name: 'ablation', caption: 'The shadowing engine with one mechanism switched off at a time; mean over seeds with 95% interval; best in bold.', rowHeader: 'variant', columns: ablCols, rows: ablRows.map((r) => ({ label: r.name, cells: ablCols.map((c) => r.metrics[c.key as MetricName] ?? null) })) });
  }

  // ------------------------------------------------------------- figures
  const specs: FigureSpec[] = [];
  const fcTasks = point.scenario.tasks.filter((t) => t.class === 'first').map((t) => t.id);
  for (const t of fcTasks) {
    const f = latencyFigure(t, figRuns, figSeed);
    if (f) specs.push(f);
  }
  const main = ref(mainPolicy);
  if (main) {
    for (const r of ['cores', 'ways'] as const) {
      const f = allocationFigure(r, main, figSeed);
      if (f) specs.push(f);
    }
  }
  const held = heldCoresFigure(figRuns, figSeed);
  if (held) specs.push(held);
  for (const p of [mainPolicy, ...labels]) {
    const r = ref(p);
    const f = r ? forecastFigure(r, figSeed) : null;
    if (f) {
      specs.push(f);
      break;
    }
  }
  const pointsMeta = exp.points.map((p) => ({ index: p.index, label: p.label }));
  for (const m of [...det, ...wall]) {
    const f = comparisonFigure(m, allResults, pointsMeta);
    if (f) specs.push(f);
  }
  const abl = ablationFigure(allResults, figPoint);
  if (abl) specs.push(abl);
  const trade = tradeoffFigure(allResults);
  if (trade) specs.push(trade);
  const figures: Block[] = [];
  for (const s of specs) {
    const r = await renderFigure(s.config, s.width, s.height);
    const svg = `figures/${s.name}.svg`;
    const png = `figures/${s.name}.png`;
    writeFileAtomic(join(dir, svg), r.svg);
    writeFileAtomic(join(dir, png), r.png);
    files.push(svg, png);
    figures.push({ kind: 'figure', name: s.name, title: s.title, caption: s.caption, svg: r.svg, files: [svg, png] });
  }

  // ------------------------------------------------------------- text
  const blocks: Block[] = [];
  const title = spec.report?.title ?? `umbra: ${results.name}`;
  blocks.push({ kind: 'h', level: 1, text: title });
  if (spec.description) blocks.push({ kind: 'p', text: spec.description.trim() });
  blocks.push({ kind: 'p', text: `Generated by umbra ${results.umbra} from \`results.json\` (spec hash ${results.specHash.slice(0, 12)}). Every number in this report is read from \`results.json\`, except decide() times, which are wall-clock measurements read from \`timing.json\`.` });
  blocks.push({ kind: 'h', level: 2, text: 'Setup' });
  blocks.push({ kind: 'list', items: await setupItems(exp, results) });
  blocks.push({ kind: 'h', level: 2, text: 'Findings' });
  blocks.push({ kind: 'list', items: findings(exp, allResults, figPoint) });
  blocks.push({ kind: 'h', level: 2, text: 'Results' });
  for (const t of tables) blocks.push({ kind: 'table', ...t });
  blocks.push({ kind: 'h', level: 2, text: 'Figures' });
  blocks.push(...figures);
  blocks.push({ kind: 'h', level: 2, text: 'Metrics' });
  blocks.push({ kind: 'list', items: [...det, ...wall].map((m) => `\`${m}\` (${METRICS[m].unit}, ${METRICS[m].better} is better): ${METRICS[m].description}.`) });
  blocks.push({ kind: 'h', level: 2, text: 'Reproduce' });
  const specName = exp.specPath ? basename(exp.specPath) : 'SPEC';
  blocks.push({ kind: 'code', text: `umbra run ${specName} --out ${basename(dir)} --seeds ${exp.seeds.length} --duration ${spec.durationMs}\numbra report ${basename(dir)}` });

  const md = toMarkdown(blocks);
  const html = toHtml(title, blocks);
  writeFileAtomic(join(dir, 'report.md'), md);
  writeFileAtomic(join(dir, 'report.html'), html);
  files.push('report.md', 'report.html');
  return { dir, files, figures: specs.map((s) => s.name), tables: tables.map((t) => t.table.name) };
}

async function setupItems(exp: PreparedExperiment, results: ResultsJson): Promise<string[]> {
  const s = exp.spec;
  const items: string[] = [];
  items.push(`Platform: ${s.platform === 'sim' ? 'the umbra simulator' : 'a real host'}${s.llcMode ? ` (LLC model: ${s.llcMode})` : ''}.`);
  try {
    const r = await resolveFor(exp.points[0].scenario, exp.baseDir, exp.seeds[0]);
    const m = r.machine;
    items.push(`Machine: ${m.name}, ${m.cores.count} cores at ${m.cores.freqGHz} GHz, ${m.llc.sizeBytes / 1048576} MiB ${m.llc.ways}-way LLC, DRAM ${m.dram.channels} channel(s) x ${m.dram.ranks} rank(s).`);
  } catch {
    // the traces may have moved since the run; the rest of the report does not need the machine
  }
  for (const t of exp.points[0].scenario.tasks) {
    const load = t.load ? ('constant' in t.load ? `constant ${t.load.constant}` : 'phases' in t.load ? `${t.load.phases.length} phases` : `trace ${basename(t.load.trace)} scaled to [${t.load.scaleTo.join(', ')}], one sample per ${t.load.sampleMs} ms`) : 'constant 1';
    const alone = results.alone.filter((a) => a.task === t.id && a.point === 0).map((a) => a.value);
    const aloneText = alone.length ? `; alone: ${t.class === 'first' ? 'peak' : 'throughput'} ${fmt(alone.reduce((a, b) => a + b, 0) / alone.length)} ${t.class === 'first' ? 'requests/s' : 'progress/s'} (mean over seeds)` : '';
    items.push(`\`${t.id}\`: ${t.class}-class, kernel ${t.kernel}, ${t.class === 'first' ? 'request rate' : 'runnable share'} ${load}${t.sloP99Ms ? `, SLO p99 ${t.sloP99Ms} ms` : ''}, starts on cores ${Array.isArray(t.cores) ? t.cores.join(',') : t.cores}${aloneText}.`);
  }
  items.push(`Runs: ${s.durationMs} ms simulated each, first ${s.warmupMs} ms left out as warm-up, control period ${s.controlPeriodMs} ms, seeds ${exp.seeds.join(', ')}${exp.points.length > 1 ? `, ${exp.points.length} parameter points (${Object.keys(s.sweep ?? {}).join(', ')})` : ''}.`);
  const pol = exp.points[0].policies.map((p) => `\`${p.label}\`${p.label !== p.name ? ` (${p.name})` : ''}${Object.keys(p.knobs).length ? ` with ${JSON.stringify(p.knobs)}` : ''}`);
  items.push(`Policies: ${pol.join(', ')}.`);
  return items;
}

function val(r: PolicyResult | undefined, m: MetricName): MetricSummary | null {
  return r?.metrics[m] ?? null;
}

function show(s: MetricSummary | null, unit: string): string {
  if (!s || s.mean === null) return 'n/a';
  return `${fmtInterval(s.mean, s.lo, s.hi)}${unit === 'x' ? '' : ` ${unit}`}`;
}

function overlap(a: MetricSummary | null, b: MetricSummary | null): boolean {
  if (!a || !b || a.lo === null || a.hi === null || b.lo === null || b.hi === null) return true;
  return a.lo <= b.hi && b.lo <= a.hi;
}

/** Sentences comparing the policies, built only from the results. */
function findings(exp: PreparedExperiment, all: PolicyResult[], point: number): string[] {
  const rows = all.filter((r) => r.point === point);
  const out: string[] = [];
  const p = exp.points[point];
  if (p.label) out.push(`At parameter point ${p.label}:`);
  /** The policies with the best mean (ties, as displayed, all named). */
  const best = (m: MetricName): PolicyResult[] => {
    const have = rows.filter((r) => r.metrics[m]?.mean !== null && r.metrics[m]?.mean !== undefined);
    if (have.length === 0) return [];
    const vals = have.map((r) => r.metrics[m]!.mean!);
    const top = fmt(METRICS[m].better === 'lower' ? Math.min(...vals) : Math.max(...vals));
    return have.filter((r) => fmt(r.metrics[m]!.mean!) === top);
  };
  for (const m of ['sloViolationPct', 'emuPct', 'beThroughputPct', 'hoardedPct'] as MetricName[]) {
    const b = best(m);
    if (b.length === 0) continue;
    const who = b.length === 1 ? `**${b[0].name}**, ${show(val(b[0], m), METRICS[m].unit)}` : `${b.map((r) => `**${r.name}**`).join(', ')} (tied at ${show({ mean: val(b[0], m)!.mean, lo: null, hi: null, n: 0 }, METRICS[m].unit)})`;
    out.push(`${METRICS[m].better === 'lower' ? 'Lowest' : 'Highest'} ${METRICS[m].title}: ${who}.`);
  }
  const shadow = rows.find((r) => r.name === 'shadow');
  if (shadow) {
    for (const base of BASELINES) {
      const b = rows.find((r) => r.name === base);
      if (!b) continue;
      const parts = (['sloViolationPct', 'emuPct', 'hoardedPct'] as MetricName[]).map((m) => {
        const a = val(shadow, m);
        const c = val(b, m);
        if (!a || !c || a.mean === null || c.mean === null) return null;
        return `${METRICS[m].title} ${show(a, METRICS[m].unit)} vs ${show(c, METRICS[m].unit)} (${overlap(a, c) ? 'intervals overlap' : 'intervals do not overlap'})`;
      });
      const text = parts.filter(Boolean).join('; ');
      if (text) out.push(`shadow vs ${base}: ${text}.`);
    }
    for (const [mech, name] of Object.entries(ABLATIONS)) {
      const a = rows.find((r) => r.name === name);
      if (!a) continue;
      const dv = (m: MetricName) => {
        const x = val(a, m)?.mean;
        const y = val(shadow, m)?.mean;
        return x === null || x === undefined || y === null || y === undefined ? null : x - y;
      };
      const v = dv('sloViolationPct');
      const e = dv('emuPct');
      if (v === null && e === null) continue;
      const sign = (x: number) => (x > 0 ? `+${fmt(x)}` : fmt(x));
      out.push(`Without ${mech === 'interference' ? 'the learned interference model (formula instead)' : mech} (${name}): SLO violations ${v === null ? 'n/a' : `${sign(v)} points`}, EMU ${e === null ? 'n/a' : `${sign(e)} points`} relative to the full engine.`);
    }
  }
  const seeds = exp.seeds.length;
  if (seeds < 5) out.push(`With ${seeds} seed(s) the 95% intervals are wide; run more seeds (\`--seeds\`) before drawing conclusions from overlapping intervals.`);
  return out;
}
