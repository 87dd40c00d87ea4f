// The control loop every experiment runs, on any Platform:
//   observe -> decide -> apply -> advance(now + period)
// recording every window (latency, allocation, reservations, what was applied
// and refused), the wall-clock time of each decide(), and each forecast the
// policy exposes next to the demand that then happened.
import type { Platform, Policy, Snapshot } from '../../policies/platform.js';
import { roundSig } from '../common/canonical-json.js';
import { forecastsOf } from './introspection.js';
import { ALLOCATION_ACTIONS, emptyRecording, observedDemand, recordWindow, type ForecastTrack, type Recording } from './recording.js';

export interface LoopOptions {
  durationNs: number;
  periodNs: number;
  /** Called after each window (progress reporting). */
  onWindow?: (snap: Snapshot) => void;
}

export interface LoopResult {
  recording: Recording;
  /** Wall-clock ns of each decide() call (not deterministic: kept apart from the results). */
  decideNs: number[];
  /** Snapshot time of each decide() call (to leave the warm-up's out). */
  decideAtNs: number[];
}

interface PendingForecast {
  track: ForecastTrack;
  targetNs: number;
  madeAtNs: number;
  mean: number;
  upper: number;
}

export async function runControlLoop(platform: Platform, policy: Policy, opts: LoopOptions): Promise<LoopResult> {
  const caps = platform.capabilities();
  const decideNs: number[] = [];
  const decideAtNs: number[] = [];
  let rec: Recording | null = null;
  const tracks = new Map<string, ForecastTrack>();
  let pending: PendingForecast[] = [];
  const start = platform.now();
  const end = start + opts.durationNs;
  let lastChanges = 0;
  let lastRefused = 0;
  for (let step = 0; ; step++) {
    const snap = platform.observe();
    if (!rec) {
      rec = emptyRecording(caps, opts.periodNs, snap);
      policy.init?.(caps, snap);
    }
    if (snap.windowNs > 0) {
      recordWindow(rec, snap);
      rec.changes.push(lastChanges);
      rec.refused.push(lastRefused);
      // score the forecasts whose target time falls in this window
      const still: PendingForecast[] = [];
      for (const p of pending) {
        if (p.targetNs > snap.timeNs) {
          still.push(p);
          continue;
        }
        const actual = observedDemand(snap, p.track.task, p.track.demand);
        if (actual === null) continue;
        p.track.madeAtNs.push(p.madeAtNs);
        p.track.mean.push(roundSig(p.mean));
        p.track.upper.push(roundSig(p.upper));
        p.track.actual.push(roundSig(actual));
      }
      pending = still;
      opts.onWindow?.(snap);
    }
    if (snap.timeNs >= end) break;
    const t0 = process.hrtime.bigint();
    const actions = policy.decide(snap);
    decideNs.push(Number(process.hrtime.bigint() - t0));
    decideAtNs.push(snap.timeNs);
    for (const f of forecastsOf(policy, snap) ?? []) {
      if (!Number.isFinite(f.mean) || !(f.horizonNs > 0)) continue;
      const key = `${f.task}|${f.demand}|${f.horizonNs}`;
      let track = tracks.get(key);
      if (!track) {
        track = { task: f.task, demand: f.demand, horizonNs: f.horizonNs, madeAtNs: [], mean: [], upper: [], actual: [] };
        tracks.set(key, track);
      }
      pending.push({ track, targetNs: snap.timeNs + f.horizonNs, madeAtNs: snap.timeNs, mean: f.mean, upper: Number.isFinite(f.upper) ? f.upper : f.mean });
    }
    const result = platform.apply(actions);
    policy.onApplied?.(result);
    lastChanges = 0;
    for (const a of result.applied) {
      rec.appliedByKind[a.kind] = (rec.appliedByKind[a.kind] ?? 0) + 1;
      if (ALLOCATION_ACTIONS.has(a.kind)) lastChanges++;
    }
    lastRefused = result.refused.length;
    for (const r of result.refused) {
      const reason = `${r.action.kind}: ${r.reason.replace(/\d+/g, 'N')}`;
      rec.refusedByReason[reason] = (rec.refusedByReason[reason] ?? 0) + 1;
    }
    await platform.advance(Math.min(end, snap.timeNs + opts.periodNs));
  }
  rec!.forecasts = [...tracks.values()].sort((a, b) => (a.task < b.task ? -1 : a.task > b.task ? 1 : a.demand < b.demand ? -1 : a.demand > b.demand ? 1 : a.horizonNs - b.horizonNs));
  return { recording: rec!, decideNs, decideAtNs };
}
