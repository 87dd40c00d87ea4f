// The report's figures, built from the results and the cells' recordings:
// latency over time against the SLO, allocation over time per resource,
// forecast vs actual with the upper quantile, the policy comparison with 95%
// intervals, the ablation bars and the utilisation-violation trade-off.
import type { ChartConfiguration } from 'chart.js';
import type { Recording } from '../loop/recording.js';
import { METRICS, type MetricName } from '../metrics/definitions.js';
import { ABLATIONS } from '../spec/schema.js';
import type { PolicyResult } from '../sweep/aggregate.js';
import { colour } from './charts.js';

export interface FigureSpec {
  name: string;
  title: string;
  caption: string;
  config: ChartConfiguration;
  width?: number;
  height?: number;
}

const axisTitle = (text: string) => ({ display: true, text });

function baseOptions(title: string, xTitle: string, yTitle: string, extra: Record<string, unknown> = {}, yExtra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    plugins: { title: { display: true, text: title, font: { size: 14 } }, legend: { position: 'bottom' } },
    scales: { x: { type: 'linear', title: axisTitle(xTitle) }, y: { title: axisTitle(yTitle), ...yExtra } },
    layout: { padding: { right: 24, top: 4 } },
    ...extra,
  };
}

export interface RecordingRef {
  policy: string;
  recording: Recording;
}

/** p99 per window of one first-class service under each policy, log scale, with the SLO. */
export function latencyFigure(task: string, runs: RecordingRef[], seed: number): FigureSpec | null {
  const datasets: Record<string, unknown>[] = [];
  let slo = 0;
  let tMax = 0;
  runs.forEach((r, i) => {
    const t = r.recording.tasks.find((x) => x.id === task);
    if (!t) return;
    slo = t.sloP99Ns / 1e6;
    const data = r.recording.tNs.map((ns, w) => ({ x: ns / 1e6, y: t.requests[w] > 0 ? t.p99Ns[w] / 1e6 : null }));
    tMax = Math.max(tMax, r.recording.tNs.at(-1)! / 1e6);
    datasets.push({ label: r.policy, data, borderColor: colour(i), backgroundColor: colour(i), pointRadius: 0, borderWidth: 1.5, spanGaps: false });
  });
  if (datasets.length === 0) return null;
  datasets.push({ label: 'SLO (p99)', data: [{ x: 0, y: slo }, { x: tMax, y: slo }], borderColor: '#000000', borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 });
  return {
    name: `latency-${task}`,
    title: `p99 latency of ${task} over time`,
    caption: `Window p99 latency of first-class service ${task} (seed ${seed}), one line per policy, against its SLO (dashed). Log scale; gaps are windows in which no request completed.`,
    config: { type: 'line', data: { datasets }, options: baseOptions(`p99 latency of ${task} (seed ${seed})`, 'time (ms)', 'p99 latency (ms, log)', { scales: { x: { type: 'linear', title: axisTitle('time (ms)') }, y: { type: 'logarithmic', title: axisTitle('p99 latency (ms, log)') } } }) } as unknown as ChartConfiguration,
  };
}

/** Cores or ways of every task over time under one policy; first-class reservations dashed. */
export function allocationFigure(resource: 'cores' | 'ways', run: RecordingRef, seed: number): FigureSpec | null {
  const rec = run.recording;
  if (resource === 'ways' && rec.totalWays === 0) return null;
  const datasets: Record<string, unknown>[] = [];
  rec.tasks.forEach((t, i) => {
    const alloc = resource === 'cores' ? t.allocCores : t.allocWays;
    const res = resource === 'cores' ? t.warmingCores : t.warmingWays;
    datasets.push({ label: `${t.id} (${t.cls === 'first' ? 'first' : 'second'}-class) allocated`, data: rec.tNs.map((ns, w) => ({ x: ns / 1e6, y: alloc[w] })), borderColor: colour(i), backgroundColor: colour(i), pointRadius: 0, borderWidth: 1.5, stepped: true });
    if (t.cls === 'first' && res.some((x) => x > 0)) {
      datasets.push({ label: `${t.id} reserved (warm-up)`, data: rec.tNs.map((ns, w) => ({ x: ns / 1e6, y: res[w] })), borderColor: colour(i), borderDash: [5, 4], pointRadius: 0, borderWidth: 1.2, stepped: true });
    }
  });
  const unit = resource === 'cores' ? 'cores' : 'LLC ways';
  return {
    name: `allocation-${resource}`,
    title: `${unit} per task over time (${run.policy})`,
    caption: `${unit[0].toUpperCase()}${unit.slice(1)} allocated to each task over time under ${run.policy} (seed ${seed}); dashed: units reserved ahead for a first-class service and not yet in its allocation (warm-up). An unrestricted way mask counts as every way not reserved by another task.`,
    config: { type: 'line', data: { datasets }, options: baseOptions(`${unit} per task (${run.policy}, seed ${seed})`, 'time (ms)', unit, {}, { beginAtZero: true, ticks: { precision: 0 } }) } as unknown as ChartConfiguration,
  };
}

/** Cores held for first-class work (allocated + reserved) under each policy, against the cores the offered load needs. */
export function heldCoresFigure(runs: RecordingRef[], seed: number): FigureSpec | null {
  if (runs.length === 0) return null;
  const datasets: Record<string, unknown>[] = [];
  const ref = runs[0].recording;
  const fcIdx = ref.tasks.map((t, i) => (t.cls === 'first' ? i : -1)).filter((i) => i >= 0);
  if (fcIdx.length === 0) return null;
  // core demand: offered rate x CPU per completed request (over the run), summed over services
  const demand = ref.tNs.map(() => 0);
  for (const i of fcIdx) {
    const t = ref.tasks[i];
    let cpu = 0;
    let done = 0;
    for (let w = 0; w < ref.tNs.length; w++) {
      cpu += t.cpuCores[w] * ref.windowNs[w];
      done += t.completedRps[w] * ref.windowNs[w];
    }
    const perReq = done > 0 ? cpu / done : 0;
    for (let w = 0; w < ref.tNs.length; w++) demand[w] += t.offeredRps[w] * perReq;
  }
  runs.forEach((r, k) => {
    const rec = r.recording;
    const held = rec.tNs.map((_, w) => rec.tasks.reduce((s, t) => (t.cls === 'first' ? s + t.heldCores[w] : s), 0));
    datasets.push({ label: `${r.policy}: held`, data: rec.tNs.map((ns, w) => ({ x: ns / 1e6, y: held[w] })), borderColor: colour(k), backgroundColor: colour(k), pointRadius: 0, borderWidth: 1.5, stepped: true });
  });
  datasets.push({ label: 'core demand of the offered load', data: ref.tNs.map((ns, w) => ({ x: ns / 1e6, y: demand[w] })), borderColor: '#000000', borderDash: [3, 3], pointRadius: 0, borderWidth: 1.2 });
  return {
    name: 'allocation-cores-by-policy',
    title: 'cores held for first-class services, by policy',
    caption: `Cores held for first-class services (allocated or reserved) under each policy (seed ${seed}), against the cores their offered load needs (offered rate x CPU time per request, dotted). Held above the dotted line ahead of a rise is lead time; far above it is hoarding.`,
    config: { type: 'line', data: { datasets }, options: baseOptions(`cores held for first-class work (seed ${seed})`, 'time (ms)', 'cores', {}, { beginAtZero: true }) } as unknown as ChartConfiguration,
  };
}

/** A policy's forecasts of one demand against what happened, with its upper quantile. */
export function forecastFigure(run: RecordingRef, seed: number): FigureSpec | null {
  const rec = run.recording;
  const fcIds = new Set(rec.tasks.filter((t) => t.cls === 'first').map((t) => t.id));
  const pref = ['cpu', 'rps', 'memBw', 'llcOccupancy', 'llcMissRate', 'io'];
  const tracks = rec.forecasts
    .filter((f) => f.mean.length > 0)
    .sort((a, b) => Number(fcIds.has(b.task)) - Number(fcIds.has(a.task)) || pref.indexOf(a.demand) - pref.indexOf(b.demand) || b.horizonNs - a.horizonNs);
  const f = tracks[0];
  if (!f) return null;
  const x = f.madeAtNs.map((m) => (m + f.horizonNs) / 1e6);
  const unit = f.demand === 'cpu' ? 'cores' : f.demand === 'rps' ? 'requests/s' : f.demand === 'memBw' ? 'bytes/s' : f.demand;
  const datasets = [
    { label: 'actual', data: x.map((t, i) => ({ x: t, y: f.actual[i] })), borderColor: '#000000', backgroundColor: '#000000', pointRadius: 0, borderWidth: 1.5 },
    { label: 'forecast (mean)', data: x.map((t, i) => ({ x: t, y: f.mean[i] })), borderColor: colour(0), backgroundColor: colour(0), pointRadius: 0, borderWidth: 1.5 },
    { label: 'forecast (upper quantile)', data: x.map((t, i) => ({ x: t, y: f.upper[i] })), borderColor: colour(1), backgroundColor: 'rgba(209,73,91,0.15)', borderDash: [5, 4], pointRadius: 0, borderWidth: 1.2, fill: '-1' },
  ];
  return {
    name: `forecast-${f.task}`,
    title: `forecast vs actual: ${f.task} ${f.demand}`,
    caption: `${run.policy}'s forecasts of ${f.task}'s ${f.demand} demand ${f.horizonNs / 1e6} ms ahead (seed ${seed}), plotted at the time they were for, against the demand observed then; the shaded band reaches the upper quantile the reservations are sized on.`,
    config: { type: 'line', data: { datasets }, options: baseOptions(`${run.policy}: ${f.task} ${f.demand}, ${f.horizonNs / 1e6} ms ahead (seed ${seed})`, 'time (ms)', unit) } as unknown as ChartConfiguration,
  };
}

/** One metric across policies (bars per policy; one dataset per sweep point), with 95% intervals. */
export function comparisonFigure(metric: MetricName, results: PolicyResult[], points: { index: number; label: string }[]): FigureSpec | null {
  const def = METRICS[metric];
  const labels = [...new Set(results.map((r) => r.name))];
  if (!results.some((r) => r.metrics[metric]?.mean !== null && r.metrics[metric]?.mean !== undefined)) return null;
  const datasets = points.map((p, k) => {
    const rows = labels.map((l) => results.find((r) => r.name === l && r.point === p.index)?.metrics[metric] ?? null);
    return {
      label: p.label || def.title,
      data: rows.map((m) => m?.mean ?? null),
      errorLo: rows.map((m) => m?.lo ?? null),
      errorHi: rows.map((m) => m?.hi ?? null),
      backgroundColor: points.length > 1 ? colour(k) : labels.map((_, i) => colour(i)),
    };
  });
  const unit = def.unit === 'x' ? 'ratio' : def.unit;
  return {
    name: `comparison-${metric}`,
    title: `${def.title} by policy`,
    caption: `${def.title} (${unit}; ${def.better} is better) by policy: mean over seeds with 95% confidence intervals. ${def.description[0].toUpperCase()}${def.description.slice(1)}.`,
    config: {
      type: 'bar',
      data: { labels, datasets },
      options: {
        plugins: { title: { display: true, text: `${def.title} (${unit}, ${def.better} is better)`, font: { size: 14 } }, legend: { display: points.length > 1, position: 'bottom' } },
        scales: { x: { title: axisTitle('policy') }, y: { title: axisTitle(`${def.title} (${unit})`), beginAtZero: true } },
      },
    } as unknown as ChartConfiguration,
  };
}

/** The full engine next to each one-mechanism-off ablation: SLO violations (left axis) and EMU (right axis). */
export function ablationFigure(results: PolicyResult[], point: number): FigureSpec | null {
  const names = ['shadow', ...Object.values(ABLATIONS)];
  const rows = names.map((n) => results.find((r) => r.name === n && r.point === point)).filter((r): r is PolicyResult => !!r);
  if (rows.length < 2 || rows[0].name !== 'shadow') return null;
  const ds = (m: MetricName, k: number, axis: string) => ({
    label: `${METRICS[m].title} (${METRICS[m].unit}, ${METRICS[m].better} is better)`,
    data: rows.map((r) => r.metrics[m]?.mean ?? null),
    errorLo: rows.map((r) => r.metrics[m]?.lo ?? null),
    errorHi: rows.map((r) => r.metrics[m]?.hi ?? null),
    backgroundColor: colour(k),
    yAxisID: axis,
  });
  return {
    name: 'ablation',
    title: 'ablations of the shadowing engine',
    caption: 'The full shadowing engine and each ablation (one mechanism switched off: warm-up, echo, dynamic weighting, quarantine; or the formula interference predictor instead of the learned one): SLO violations (left axis) and effective machine utilisation (right axis), mean over seeds with 95% intervals.',
    config: {
      type: 'bar',
      data: { labels: rows.map((r) => r.name), datasets: [ds('sloViolationPct', 1, 'y'), ds('emuPct', 0, 'y1')] },
      options: {
        plugins: { title: { display: true, text: 'ablations: SLO violations and EMU', font: { size: 14 } }, legend: { position: 'bottom' } },
        scales: {
          x: { title: axisTitle('policy') },
          y: { position: 'left', beginAtZero: true, title: axisTitle('SLO violations (%)') },
          y1: { position: 'right', beginAtZero: true, title: axisTitle('EMU (%)'), grid: { drawOnChartArea: false } },
        },
      },
    } as unknown as ChartConfiguration,
    width: 860,
  };
}

/** EMU against SLO violations per policy (and sweep point), with the Pareto frontier. */
export function tradeoffFigure(results: PolicyResult[]): FigureSpec | null {
  const pts = results
    .map((r) => ({ r, x: r.metrics.sloViolationPct?.mean ?? null, y: r.metrics.emuPct?.mean ?? null }))
    .filter((p): p is { r: PolicyResult; x: number; y: number } => p.x !== null && p.y !== null);
  if (pts.length === 0) return null;
  const byPolicy = [...new Set(pts.map((p) => p.r.name))];
  const datasets: Record<string, unknown>[] = byPolicy.map((name, i) => {
    const mine = pts.filter((p) => p.r.name === name).sort((a, b) => a.r.point - b.r.point);
    return {
      type: mine.length > 1 ? 'line' : 'scatter',
      label: name,
      data: mine.map((p) => ({ x: p.x, y: p.y })),
      pointLabels: mine.map((p) => (mine.length > 1 ? p.r.pointLabel : name)),
      borderColor: colour(i),
      backgroundColor: colour(i),
      pointRadius: 5,
      showLine: mine.length > 1,
    };
  });
  // Pareto frontier: no other point has fewer violations and more EMU
  const front = pts.filter((p) => !pts.some((q) => q !== p && q.x <= p.x && q.y >= p.y && (q.x < p.x || q.y > p.y))).sort((a, b) => a.x - b.x);
  if (front.length > 1) datasets.push({ type: 'line', label: 'Pareto frontier', data: front.map((p) => ({ x: p.x, y: p.y })), borderColor: '#888888', borderDash: [4, 4], pointRadius: 0, borderWidth: 1 });
  return {
    name: 'tradeoff',
    title: 'utilisation against SLO violations',
    caption: 'Effective machine utilisation against the share of windows violating the SLO, one point per policy (a line per policy across sweep points), mean over seeds; the dashed line joins the policies no other beats on both. Up and to the left is better.',
    config: { type: 'scatter', data: { datasets }, options: baseOptions('EMU vs SLO violations (up-left is better)', 'SLO violations (%)', 'EMU (%)', { layout: { padding: { right: Math.min(220, 20 + 7 * Math.max(0, ...pts.map((p) => (p.r.pointLabel || p.r.name).length))), top: 16 } } }) } as unknown as ChartConfiguration,
  };
}
