// Which second-class tasks to quarantine for one first-class task, and how
// hard — only as much as needed. First the aggregate of all candidates is
// scored: when the victim can absorb it (or nothing is predicted to
// interfere) nobody is quarantined and nothing more is computed. Otherwise
// every candidate is scored pairwise against the first-class task's
// predicted profile (one batched pass of the predictor); then, strongest first, candidates are quarantined until the
// predicted interference of everything left (the aggregate of the remaining
// second-class profiles, the quarantined ones scaled down by what their caps
// allow) falls to the threshold. A candidate already quarantined is held
// until the aggregate falls below threshold - hysteresis, so a task does not
// flap in and out. The level follows the pairwise probability: confine,
// throttle above throttleProbability, pause above pauseProbability when the
// first-class task is in danger (missing its SLO or short of cores).
import type { TaskId } from '../platform.js';
import { ProfileAggregate, scaleProfile, PROFILE_LEN, type InterferenceReason, type ProfileVector } from '../interference/features.js';
import type { InterferencePredictor } from '../interference/predictor.js';
import type { QuarantineLevel, QuarantineWant } from './quarantine.js';

export interface SelectionCandidate {
  task: TaskId;
  profile: ProfileVector;
  currentlyQuarantined: boolean;
}

export interface SelectionOptions {
  threshold: number;
  hysteresis: number;
  throttleProbability: number;
  pauseProbability: number;
  /** Share of its CPU a throttled task keeps. */
  throttlePct: number;
  /** Fraction of a confined resource's intensity left under its cap. */
  confineFactor: number;
  canPause: boolean;
  canThrottle: boolean;
  /** The first-class task is (predicted to be) missing its SLO: pausing is allowed. */
  danger: boolean;
  /** Fallback 'quarantine': raise the most interfering task to at least the throttle level even if the aggregate looks safe. */
  escalateWorst: boolean;
  /**
   * Slowdown the first-class task can absorb (from its SLO slack on its planned
   * cores). Nobody is quarantined while the predictor expects everything
   * together to slow it down less than this; the learned model also scores
   * interference against it.
   */
  tolerableSlowdown?: number;
}

export interface SelectionResult {
  wants: Map<TaskId, QuarantineWant>;
  /** Pairwise probability of interference per candidate (empty when the aggregate needed no ranking). */
  pairwise: Map<TaskId, number>;
  /** Predicted probability of interference of all candidates together, before and after the chosen quarantines. */
  before: number;
  after: number;
  /** The predictor's expected slowdown of the victim next to all candidates, unconfined. */
  expectedSlowdown: number;
}

export function selectQuarantine(
  first: ProfileVector,
  load: number,
  sharing: Float64Array,
  candidates: readonly SelectionCandidate[],
  predictor: InterferencePredictor,
  o: SelectionOptions,
  victim: TaskId,
): SelectionResult {
  const tol = o.tolerableSlowdown;
  const items = candidates.map((c) => ({ p: c.profile }));
  const sum = new ProfileAggregate();
  for (const it of items) sum.add(it.p);
  const agg = new Float64Array(PROFILE_LEN);
  const aggProbability = () => (items.length === 0 ? 0 : predictor.probability({ first, second: sum.read(agg), load, sharing, tolerableSlowdown: tol }));
  const before = aggProbability();
  let after = before;
  const wants = new Map<TaskId, QuarantineWant>();
  const pairwise = new Map<TaskId, number>();
  // the victim has the headroom to absorb everything together, or nothing is predicted to interfere: nothing to rank
  const expectedSlowdown = items.length > 0 ? predictor.expectedSlowdown({ first, second: sum.read(agg), load, sharing }) : 1;
  const absorbs = (tol !== undefined && expectedSlowdown <= tol) || before <= o.threshold - o.hysteresis;
  if ((absorbs && !o.escalateWorst) || items.length === 0) return { wants, pairwise, before, after: before, expectedSlowdown };
  const probs = predictor.pairwise(
    first,
    load,
    sharing,
    candidates.map((c) => c.profile),
    tol,
  );
  candidates.forEach((c, i) => pairwise.set(c.task, probs[i]));
  const order = candidates.map((_, i) => i).sort((a, b) => probs[b] - probs[a] || (candidates[a].task < candidates[b].task ? -1 : candidates[a].task > candidates[b].task ? 1 : 0));
  const reasonOf = (c: SelectionCandidate): InterferenceReason => predictor.predict({ first, second: c.profile, load, sharing, tolerableSlowdown: tol }).reason;
  const confine = (i: number, level: QuarantineLevel, reason: InterferenceReason) => {
    const c = candidates[i];
    sum.add(items[i].p, -1);
    if (level === 3) items[i].p = new Float64Array(PROFILE_LEN);
    else if (level === 2) items[i].p = scaleProfile(scaleProfile(c.profile, o.confineFactor, reason), o.throttlePct / 100);
    else items[i].p = scaleProfile(c.profile, o.confineFactor, reason);
    sum.add(items[i].p);
    wants.set(c.task, { level, reasons: [reason], probability: probs[i], victims: [victim] });
  };
  const levelFor = (p: number): QuarantineLevel => {
    if (p >= o.pauseProbability && o.danger && (o.canPause || o.canThrottle)) return 3;
    if (p >= o.throttleProbability && o.canThrottle) return 2;
    return 1;
  };
  for (const i of order) {
    const c = candidates[i];
    const limit = c.currentlyQuarantined ? o.threshold - o.hysteresis : o.threshold;
    if (after <= limit) {
      if (after <= o.threshold - o.hysteresis) break;
      continue; // only already-quarantined tasks are held in the hysteresis band
    }
    confine(i, levelFor(probs[i]), reasonOf(c));
    after = aggProbability();
  }
  if (o.escalateWorst && order.length) {
    const worst = order.find((i) => (wants.get(candidates[i].task)?.level ?? 0) < 2);
    if (worst !== undefined) {
      const level: QuarantineLevel = o.canThrottle ? 2 : o.canPause ? 3 : 1;
      confine(worst, level, wants.get(candidates[worst].task)?.reasons[0] ?? reasonOf(candidates[worst]));
      after = aggProbability();
    }
  }
  return { wants, pairwise, before, after, expectedSlowdown };
}

/** Union of per-victim selections: highest level, all reasons and victims. */
export function mergeWants(into: Map<TaskId, QuarantineWant>, from: ReadonlyMap<TaskId, QuarantineWant>): void {
  for (const [id, w] of from) {
    const cur = into.get(id);
    if (!cur) {
      into.set(id, { ...w, reasons: [...w.reasons], victims: [...w.victims] });
      continue;
    }
    cur.level = Math.max(cur.level, w.level) as QuarantineLevel;
    cur.probability = Math.max(cur.probability, w.probability);
    for (const r of w.reasons) if (!cur.reasons.includes(r)) cur.reasons.push(r);
    for (const v of w.victims) if (!cur.victims.includes(v)) cur.victims.push(v);
    cur.reasons.sort();
    cur.victims.sort();
  }
}
