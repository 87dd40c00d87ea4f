// What a policy may expose beyond the Platform contract, for the record only
// (the loop never needs it to run): its current demand forecasts. Optional and
// duck-typed, so any policy can offer it without a change to policies/platform.ts.
import type { DemandKind, Policy, Snapshot, TaskId } from '../../policies/platform.js';

/** One forecast the policy made at this step: demand of `task` in `horizonNs`. */
export interface ForecastReport {
  task: TaskId;
  demand: DemandKind;
  horizonNs: number;
  mean: number;
  /** Upper quantile (e.g. p95) the policy reserves against. */
  upper: number;
}

export interface ForecastingPolicy extends Policy {
  /** Forecasts made by the last decide(); called right after it. */
  forecasts(): ForecastReport[];
}

/**
 * The shadow engine (policies/shadow-policy.ts) does not implement forecasts()
 * yet but exposes its shadows and its timing: read the first-class shadows'
 * forecasts at the lead horizon it reserves on (the horizon it asks for
 * itself every decide, so asking again changes none of its state).
 */
interface ShadowIntrospection {
  shadowOf(task: TaskId): { predict(kind: DemandKind, horizonNs: number): { mean: number; upper: number } | undefined } | undefined;
  explain(): { timing: { leadNs: number } } | undefined;
}

const SHADOW_KINDS: DemandKind[] = ['cpu', 'rps'];

export function forecastsOf(policy: Policy, snap: Snapshot): ForecastReport[] | null {
  const f = (policy as Partial<ForecastingPolicy>).forecasts;
  if (typeof f === 'function') {
    const out = f.call(policy);
    return Array.isArray(out) ? out : null;
  }
  const sh = policy as Partial<ShadowIntrospection>;
  if (typeof sh.shadowOf !== 'function' || typeof sh.explain !== 'function') return null;
  const leadNs = sh.explain.call(policy)?.timing?.leadNs;
  if (!(typeof leadNs === 'number' && leadNs > 0)) return null;
  const out: ForecastReport[] = [];
  for (const t of snap.tasks) {
    if (t.class !== 'first') continue;
    const shadow = sh.shadowOf.call(policy, t.id);
    if (!shadow) continue;
    for (const kind of SHADOW_KINDS) {
      const p = shadow.predict(kind, leadNs);
      if (p && Number.isFinite(p.mean)) out.push({ task: t.id, demand: kind, horizonNs: leadNs, mean: p.mean, upper: p.upper });
    }
  }
  return out;
}

/** Whether the policy needs Snapshot.future (the oracle), and over which horizon. */
export function futureHorizonOf(policy: Policy): number | null {
  const p = policy as Policy & { futureHorizonNs?: number; needsFuture?: boolean };
  if (typeof p.futureHorizonNs === 'number' && p.futureHorizonNs > 0) return p.futureHorizonNs;
  if (p.needsFuture === true) return 0;
  return null;
}
