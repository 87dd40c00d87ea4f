// The figures `umbra compare` sets side by side, computed the same way from
// either platform's windows (snapshots after the warm-up):
//
//   per first-class service and run
//     p99Ns, p50Ns   mean over windows with completions of the window's p99 / p50
//                    (the same statistic the metrics' p99OverSlo averages)
//     meanNs         request-weighted mean of the windows' mean latency, where
//                    the platform reports one (LatencySample.meanNs; the
//                    simulator does not yet)
//     sloViolationPct  share of windows over the SLO, or waiting with none done
//     completedRps, cpuCores   means over the windows
//   per second-class job and run
//     progressPerSec  mean over the windows (platform units: instructions/s
//                     on the simulator, kernel work units/s on the host)
//     memBandwidthBytesPerSec  mean over the windows that report it (the
//                     simulator always; a host with resctrl MBM), else absent
//
//   per (policy, seed, service): slowdown = co-located / alone (p99 and mean),
//   second-class throughput = co-located progress / alone progress (mean over
//   the jobs), and for each figure the simulator's relative error
//   (sim - host) / host; for SLO violations, a percentage already, the
//   difference in points.
import type { Snapshot } from '../../policies/platform.js';

export interface ServiceFigures {
  p99Ns: number | null;
  p50Ns: number | null;
  meanNs: number | null;
  sloViolationPct: number | null;
  completedRps: number;
  offeredRps: number;
  cpuCores: number;
  windows: number;
}

export interface RunFigures {
  fc: Record<string, ServiceFigures>;
  be: Record<string, { progressPerSec: number; cpuCores: number; memBandwidthBytesPerSec?: number }>;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** A constant added to a service's latencies (the host's measurement path, on simulated runs): window p99 and mean. */
export interface LatencyOffset {
  p99Ns: number;
  meanNs: number | null;
}

/**
 * Figures of one run from its snapshots; windows ending at or before warmupNs
 * are left out. `offsets` (per service) are added to every window's p99 (so
 * to the SLO test too) and mean; p50 is left as measured.
 */
export function runFigures(snaps: readonly Snapshot[], warmupNs: number, offsets: Record<string, LatencyOffset> = {}): RunFigures {
  const ws = snaps.filter((s) => s.windowNs > 0 && s.timeNs > warmupNs);
  const fc: RunFigures['fc'] = {};
  const be: RunFigures['be'] = {};
  const ids = ws.length ? ws[0].tasks.map((t) => ({ id: t.id, cls: t.class })) : [];
  for (const { id, cls } of ids) {
    const samples = ws.map((s) => s.tasks.find((t) => t.id === id)!).filter(Boolean);
    if (cls === 'first') {
      const off = offsets[id];
      const lat = samples
        .filter((t) => t.latency)
        .map((t) => (off ? { ...t.latency!, p99Ns: t.latency!.p99Ns + off.p99Ns, ...(t.latency!.meanNs !== undefined && off.meanNs !== null ? { meanNs: t.latency!.meanNs + off.meanNs } : {}) } : t.latency!));
      const done = lat.filter((l) => l.requests > 0);
      let counted = 0;
      let violated = 0;
      for (const l of lat) {
        if (l.requests === 0 && l.queueLength === 0 && l.offeredRps === 0) continue;
        counted++;
        if (l.requests > 0 ? l.p99Ns > l.sloP99Ns : l.queueLength > 0) violated++;
      }
      const withMean = done.filter((l) => l.meanNs !== undefined);
      const reqs = withMean.reduce((a, l) => a + l.requests, 0);
      fc[id] = {
        p99Ns: done.length ? mean(done.map((l) => l.p99Ns)) : null,
        p50Ns: done.length ? mean(done.map((l) => l.p50Ns)) : null,
        meanNs: withMean.length && withMean.length === done.length && reqs > 0 ? withMean.reduce((a, l) => a + l.meanNs! * l.requests, 0) / reqs : null,
        sloViolationPct: counted ? (100 * violated) / counted : null,
        completedRps: mean(lat.map((l) => l.completedRps)),
        offeredRps: mean(lat.map((l) => l.offeredRps)),
        cpuCores: mean(samples.map((t) => t.cpuCores)),
        windows: lat.length,
      };
    } else {
      be[id] = { progressPerSec: mean(samples.map((t) => t.progressPerSec ?? 0)), cpuCores: mean(samples.map((t) => t.cpuCores)) };
      const bw = samples.map((t) => t.memBandwidthBytesPerSec).filter((x): x is number => x !== undefined);
      if (bw.length) be[id].memBandwidthBytesPerSec = mean(bw);
    }
  }
  return { fc, be };
}

/** What one platform measured for one (policy, seed, service). */
export interface SideFigures {
  p99AloneNs: number | null;
  p99ColocNs: number | null;
  slowdownP99: number | null;
  meanAloneNs: number | null;
  meanColocNs: number | null;
  slowdownMean: number | null;
  sloViolationPct: number | null;
  /** Co-located second-class throughput relative to alone (mean over the jobs); null without progress. */
  beThroughputRel: number | null;
}

export const SIDE_FIGURES: readonly (keyof SideFigures)[] = ['p99AloneNs', 'p99ColocNs', 'slowdownP99', 'meanAloneNs', 'meanColocNs', 'slowdownMean', 'sloViolationPct', 'beThroughputRel'];

const ratio = (a: number | null | undefined, b: number | null | undefined): number | null => (a != null && b != null && b > 0 ? a / b : null);

export function sideFigures(task: string, alone: RunFigures, coloc: RunFigures, beAlone: Record<string, number>): SideFigures {
  const a = alone.fc[task];
  const c = coloc.fc[task];
  const rel = Object.entries(coloc.be)
    .map(([id, v]) => ratio(v.progressPerSec, beAlone[id]))
    .filter((x): x is number => x !== null);
  return {
    p99AloneNs: a?.p99Ns ?? null,
    p99ColocNs: c?.p99Ns ?? null,
    slowdownP99: ratio(c?.p99Ns, a?.p99Ns),
    meanAloneNs: a?.meanNs ?? null,
    meanColocNs: c?.meanNs ?? null,
    slowdownMean: ratio(c?.meanNs, a?.meanNs),
    sloViolationPct: c?.sloViolationPct ?? null,
    beThroughputRel: rel.length ? mean(rel) : null,
  };
}

/** The simulator's error per figure: relative (sim - host) / host, except SLO violations: sim - host in points. */
export function simErrors(host: SideFigures, sim: SideFigures): Record<keyof SideFigures, number | null> {
  const out = {} as Record<keyof SideFigures, number | null>;
  for (const k of SIDE_FIGURES) {
    const h = host[k];
    const s = sim[k];
    if (h === null || s === null) out[k] = null;
    else if (k === 'sloViolationPct') out[k] = s - h;
    else out[k] = h !== 0 ? (s - h) / h : null;
  }
  return out;
}

/** Mean of each figure over seeds (nulls left out; null when none). */
export function meanFigures(xs: SideFigures[]): SideFigures {
  const out = {} as SideFigures;
  for (const k of SIDE_FIGURES) {
    const v = xs.map((x) => x[k]).filter((x): x is number => x !== null);
    out[k] = v.length ? mean(v) : null;
  }
  return out;
}
