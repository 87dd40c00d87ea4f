// Metrics of one run from its recording. Windows ending at or before the
// warm-up are left out. Second-class throughput and first-class served load
// are kept raw here; they become emuPct / beThroughputPct once divided by the
// alone baselines (final-metrics.ts). Definitions: definitions.ts.
import type { Recording, TaskTrack } from '../loop/recording.js';

export interface RawRunMetrics {
  sloViolationPct: number | null;
  p99OverSlo: number | null;
  hoardedPct: number | null;
  leadTimeMs: number | null;
  forecastSmape: number | null;
  churnPerSec: number;
  /** Mean completed requests/s of each first-class service over the measured windows. */
  servedRps: Record<string, number>;
  /** Mean progress/s of each second-class job over the measured windows. */
  beProgress: Record<string, number>;
  /** How many windows and forecast pairs the numbers rest on. */
  windows: number;
  forecastPairs: number;
  leadEvents: number;
}

/** Windows a demand level must not have been needed in for a rise to count. */
export const LEAD_LOOKBACK_WINDOWS = 10;

export function measuredWindows(rec: Recording, warmupNs: number): number[] {
  const out: number[] = [];
  for (let w = 0; w < rec.tNs.length; w++) if (rec.tNs[w] > warmupNs) out.push(w);
  return out;
}

export function runMetrics(rec: Recording, opts: { warmupNs: number; leadCapMs: number }): RawRunMetrics {
  const ws = measuredWindows(rec, opts.warmupNs);
  const fc = rec.tasks.filter((t) => t.cls === 'first');
  const be = rec.tasks.filter((t) => t.cls === 'second');
  const measuredSec = ws.reduce((s, w) => s + rec.windowNs[w], 0) / 1e9;

  let counted = 0;
  let violated = 0;
  let ratioSum = 0;
  let ratioN = 0;
  for (const t of fc) {
    for (const w of ws) {
      const busy = t.requests[w] > 0 || t.queueLength[w] > 0 || t.offeredRps[w] > 0;
      if (!busy) continue;
      counted++;
      if (t.requests[w] > 0) {
        if (t.p99Ns[w] > t.sloP99Ns) violated++;
        ratioSum += t.p99Ns[w] / t.sloP99Ns;
        ratioN++;
      } else if (t.queueLength[w] > 0) {
        violated++; // requests waited a whole window and none completed
      }
    }
  }

  const servedRps: Record<string, number> = {};
  for (const t of fc) servedRps[t.id] = mean(ws.map((w) => t.completedRps[w]));
  const beProgress: Record<string, number> = {};
  for (const t of be) beProgress[t.id] = mean(ws.map((w) => t.progressPerSec[w]));

  const lead = leadTimes(rec, fc, ws, opts.leadCapMs);
  const smape = forecastSmape(rec, opts.warmupNs);
  const changes = ws.reduce((s, w) => s + rec.changes[w], 0);
  return {
    sloViolationPct: counted > 0 ? (100 * violated) / counted : null,
    p99OverSlo: ratioN > 0 ? ratioSum / ratioN : null,
    hoardedPct: hoarded(rec, fc, ws),
    leadTimeMs: lead.events > 0 ? lead.sumMs / lead.events : null,
    forecastSmape: smape.pairs > 0 ? smape.value : null,
    churnPerSec: measuredSec > 0 ? changes / measuredSec : 0,
    servedRps,
    beProgress,
    windows: ws.length,
    forecastPairs: smape.pairs,
    leadEvents: lead.events,
  };
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

/** Unused share of the cores and ways held exclusively for first-class services, each weighted by its share of the machine. */
function hoarded(rec: Recording, fc: TaskTrack[], ws: number[]): number | null {
  let held = 0;
  let unused = 0;
  for (const t of fc) {
    for (const w of ws) {
      const dt = rec.windowNs[w];
      const c = t.exclusiveCores[w] / rec.coreCount;
      const cUsed = Math.min(t.exclusiveCores[w], t.cpuCores[w]) / rec.coreCount;
      held += c * dt;
      unused += (c - cUsed) * dt;
      if (rec.totalWays > 0) {
        const k = t.exclusiveWays[w] / rec.totalWays;
        const kUsed = Math.min(t.exclusiveWays[w], t.occupancyWays[w]) / rec.totalWays;
        held += k * dt;
        unused += (k - kUsed) * dt;
      }
    }
  }
  return held > 0 ? (100 * unused) / held : null;
}

/**
 * Demand rises and how early the cores for them were held. Core demand of a
 * service in a window = offered rate x CPU seconds per completed request (over
 * the whole run, so it is not capped by the cores it was given).
 */
function leadTimes(rec: Recording, fc: TaskTrack[], ws: number[], capMs: number): { sumMs: number; events: number } {
  let sumMs = 0;
  let events = 0;
  for (const t of fc) {
    let cpuSec = 0;
    let done = 0;
    for (let w = 0; w < rec.tNs.length; w++) {
      cpuSec += (t.cpuCores[w] * rec.windowNs[w]) / 1e9;
      done += (t.completedRps[w] * rec.windowNs[w]) / 1e9;
    }
    if (done <= 0) continue;
    const cpuPerRequest = cpuSec / done;
    const level = rec.tNs.map((_, w) => Math.ceil(t.offeredRps[w] * cpuPerRequest - 1e-9));
    const held = t.heldCores;
    for (const w of ws) {
      const k = level[w];
      if (k < 1) continue;
      let prevMax = 0;
      for (let j = Math.max(0, w - LEAD_LOOKBACK_WINDOWS); j < w; j++) prevMax = Math.max(prevMax, level[j]);
      if (w === 0 || k <= prevMax) continue;
      events++;
      if (held[w] >= k) {
        // how long before the end of window w the service has held k cores without a break
        let j = w;
        while (j - 1 >= 0 && held[j - 1] >= k) j--;
        const sinceNs = rec.tNs[w] - rec.windowNs[w] - (rec.tNs[j] - rec.windowNs[j]);
        sumMs += Math.min(capMs, sinceNs / 1e6);
      } else {
        let j = w;
        while (j < rec.tNs.length && held[j] < k) j++;
        const lateNs = j < rec.tNs.length ? rec.tNs[j] - rec.windowNs[j] - (rec.tNs[w] - rec.windowNs[w]) : capMs * 1e6;
        sumMs -= Math.min(capMs, lateNs / 1e6);
      }
    }
  }
  return { sumMs, events };
}

/** sMAPE (percent) of forecast means against what happened, over forecasts made after the warm-up. */
function forecastSmape(rec: Recording, warmupNs: number): { value: number; pairs: number } {
  let sum = 0;
  let pairs = 0;
  for (const f of rec.forecasts) {
    for (let i = 0; i < f.mean.length; i++) {
      if (f.madeAtNs[i] < warmupNs) continue;
      const a = f.actual[i];
      const m = f.mean[i];
      const den = Math.abs(a) + Math.abs(m);
      pairs++;
      if (den > 0) sum += (2 * Math.abs(m - a)) / den;
    }
  }
  return { value: pairs > 0 ? (100 * sum) / pairs : 0, pairs };
}
