// Echo (seed 001 "workload echo"): ask the platform to run a short burst of a
// first-class task ahead of time and use what it measures as ground truth
// for the shadow (the shadow overrides its forecast inside the echo's window).
// An echo costs CPU, so it is asked for only when it is worth it:
//   - the forecast is uncertain (relative spread at the lead horizon above
//     uncertaintyThreshold), or
//   - the task is departing from its history (the blend has moved at least
//     departureWeight of its weight to real-time models), or
//   - a large reservation is about to be made (the lead-time demand exceeds
//     what the task holds by two units or more),
// and only within a budget: at most one outstanding echo per task, at least
// minIntervalNs between echoes of a task, and the echoes' CPU cost over the
// last second at most budgetPct of one core (cost estimated from the cost
// the platform reported for past echoes).
import type { DemandKind, EchoResult, TaskId } from '../platform.js';
import type { TaskShadow } from '../shadow/shadow.js';
import type { EchoRequest } from '../common/plan.js';

export interface EchoOptions {
  minIntervalNs: number;
  maxDurationNs: number;
  budgetPct: number;
  uncertaintyThreshold: number;
  departureWeight: number;
}

export interface EchoTriggerInput {
  nowNs: number;
  task: TaskId;
  shadow: TaskShadow;
  primary: DemandKind;
  leadNs: number;
  durationNs: number;
  /** Units the lead-time demand wants beyond what the task holds (cores). */
  reservationJump: number;
}

export class EchoPlanner {
  private readonly lastAt = new Map<TaskId, number>();
  private readonly pendingUntil = new Map<TaskId, number>();
  private readonly costs: { t: number; ns: number }[] = [];
  private readonly estimate = new Map<TaskId, number>();
  /** Cost per ns of echo duration, learned from results (the simulator's bursts sample a share of the window). */
  private costPerNs = 0.1;
  requested = 0;
  received = 0;
  costCpuNs = 0;

  constructor(private readonly o: () => EchoOptions) {}

  onResult(e: EchoResult, nowNs: number): void {
    this.received++;
    this.pendingUntil.delete(e.task);
    this.costCpuNs += e.costCpuNs;
    // replace the estimate booked at request time by the reported cost
    const est = this.estimate.get(e.task) ?? 0;
    this.estimate.delete(e.task);
    this.costs.push({ t: nowNs, ns: e.costCpuNs - est });
    if (e.durationNs > 0) this.costPerNs += 0.3 * (e.costCpuNs / e.durationNs - this.costPerNs);
  }

  private spentLastSecond(now: number): number {
    while (this.costs.length && this.costs[0].t <= now - 1e9) this.costs.shift();
    let s = 0;
    for (const c of this.costs) s += c.ns;
    return s;
  }

  decide(inp: EchoTriggerInput): EchoRequest | null {
    const o = this.o();
    const now = inp.nowNs;
    const pend = this.pendingUntil.get(inp.task);
    if (pend !== undefined && now < pend) return null;
    const last = this.lastAt.get(inp.task);
    if (last !== undefined && now - last < o.minIntervalNs) return null;
    const why: string[] = [];
    const u = inp.shadow.uncertainty(inp.primary, inp.leadNs);
    if (u > o.uncertaintyThreshold) why.push(`uncertain (spread ${u.toFixed(2)})`);
    const rt = inp.shadow.realtimeWeight(inp.primary, inp.leadNs);
    if (rt !== undefined && rt >= o.departureWeight) why.push(`departing from history (real-time weight ${rt.toFixed(2)})`);
    if (inp.reservationJump >= 2) why.push(`large reservation ahead (+${inp.reservationJump})`);
    if (why.length === 0) return null;
    const duration = Math.min(o.maxDurationNs, Math.max(1, Math.round(inp.durationNs)));
    const cost = duration * this.costPerNs;
    if (this.spentLastSecond(now) + cost > (o.budgetPct / 100) * 1e9) return null;
    this.lastAt.set(inp.task, now);
    this.pendingUntil.set(inp.task, now + 2 * duration + o.minIntervalNs);
    this.requested++;
    // book the estimate until the real cost is reported
    this.costs.push({ t: now, ns: cost });
    this.estimate.set(inp.task, cost);
    return { task: inp.task, durationNs: duration, reason: `echo: ${why.join('; ')}` };
  }
}
