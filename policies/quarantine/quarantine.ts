// Quarantine (seed 001 "dynamic resource quarantine"): second-class tasks
// predicted to interfere with a first-class task's coming demand are confined
// before that demand arrives, and let out once the predicted interference has
// passed. Levels, each including the ones below:
//
//   1 confine   cap the resource the predictor blames: DRAM bandwidth (MBA cap),
//               IO (lowest IO weight); LLC or CPU interference when the
//               victim's ways / cores are already exclusive can only travel
//               through DRAM, so that is capped too; without a partition (or
//               without MBA) a CPU quota instead
//   2 throttle  CPU quota (throttlePct)
//   3 pause     freeze (or the lowest quota when the platform has no freezer)
//
// The manager is the state machine over time: a higher wanted level applies
// at once; a lower one only after it has been wanted for liftAfterNs
// (hysteresis against flapping). So a task whose predicted interference has
// passed (wanted level 0 from t on) is fully released at the first tick at or
// after t + liftAfterNs.
import type { TaskId } from '../platform.js';
import type { InterferenceReason } from '../interference/features.js';

export type QuarantineLevel = 0 | 1 | 2 | 3;
export const LEVEL_NAMES = ['none', 'confine', 'throttle', 'pause'] as const;

export interface QuarantineWant {
  level: QuarantineLevel;
  reasons: InterferenceReason[];
  /** Highest predicted probability of interference with any first-class task. */
  probability: number;
  /** First-class tasks it is quarantined for. */
  victims: TaskId[];
}

export interface QuarantineEntry {
  level: QuarantineLevel;
  reasons: InterferenceReason[];
  sinceNs: number;
  /** Since when a lower level has been wanted. */
  clearSinceNs: number | undefined;
  wanted: QuarantineLevel;
  victims: TaskId[];
}

export const NO_QUARANTINE: QuarantineWant = { level: 0, reasons: [], probability: 0, victims: [] };

export class QuarantineManager {
  private readonly entries = new Map<TaskId, QuarantineEntry>();
  entered = 0;
  lifted = 0;

  constructor(private readonly liftAfterNs: () => number) {}

  step(nowNs: number, live: readonly TaskId[], wants: ReadonlyMap<TaskId, QuarantineWant>): ReadonlyMap<TaskId, QuarantineEntry> {
    const alive = new Set(live);
    for (const id of [...this.entries.keys()]) if (!alive.has(id)) this.entries.delete(id);
    for (const id of live) {
      const w = wants.get(id) ?? NO_QUARANTINE;
      let e = this.entries.get(id);
      if (!e) {
        if (w.level === 0) continue;
        e = { level: 0, reasons: [], sinceNs: nowNs, clearSinceNs: undefined, wanted: 0, victims: [] };
        this.entries.set(id, e);
      }
      e.wanted = w.level;
      if (w.level > e.level) {
        if (e.level === 0) this.entered++;
        e.level = w.level;
        e.sinceNs = nowNs;
        e.reasons = union(e.reasons, w.reasons);
        e.victims = union(e.victims, w.victims);
        e.clearSinceNs = undefined;
      } else if (w.level < e.level) {
        e.clearSinceNs ??= nowNs;
        if (nowNs - e.clearSinceNs >= this.liftAfterNs()) {
          e.level = w.level;
          e.reasons = [...w.reasons];
          e.victims = [...w.victims];
          e.clearSinceNs = undefined;
          e.sinceNs = nowNs;
          if (e.level === 0) {
            this.lifted++;
            this.entries.delete(id);
          }
        }
      } else {
        e.clearSinceNs = undefined;
        if (w.level > 0) {
          if (!w.reasons.every((r) => e!.reasons.includes(r))) e.reasons = union(e.reasons, w.reasons);
          if (!w.victims.every((v) => e!.victims.includes(v))) e.victims = union(e.victims, w.victims);
        }
      }
    }
    return this.entries;
  }

  get(id: TaskId): QuarantineEntry | undefined {
    return this.entries.get(id);
  }

  all(): ReadonlyMap<TaskId, QuarantineEntry> {
    return this.entries;
  }
}

function union<T>(a: readonly T[], b: readonly T[]): T[] {
  const s = [...a];
  for (const x of b) if (!s.includes(x)) s.push(x);
  return s.sort();
}
