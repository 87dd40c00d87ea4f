// Plan -> actions. The order matters (actions apply in order and each must be
// legal when it runs), so the batch is built in phases, stepping an
// OwnershipModel of the platform's rules as it goes:
//
//   0. first-class releases (units leaving a task's reservation)
//   1. pauses; second-class moves off units others will reserve; first-class
//      allocations shrunk to the units they keep
//   2. first-class reservations (the warm-up state begins)
//   3. first-class activation (allocation := planned active units)
//   4. releases that had to wait for activation, second-class growth and caps,
//      resumes, warm-ups, echo bursts
//
// An action the model says would be refused is not emitted; it is reported as
// Deferred so the policy can log it and retry next tick (the plan is rebuilt
// from the next snapshot, so a retry needs no extra state).
import type { Action, Capabilities, ResourceKind, Snapshot, TaskId } from '../platform.js';
import type { Deferred, Plan } from './plan.js';
import { OwnershipModel, type OwnershipLimits } from './ownership.js';
import { isContiguous, popcount, sameNumbers, sortedNumbers } from './masks.js';

export interface ReconcileResult {
  actions: Action[];
  deferred: Deferred[];
}

export function reconcile(caps: Capabilities, snapshot: Snapshot, plan: Plan, limits: OwnershipLimits, label = 'policy'): ReconcileResult {
  const m = new OwnershipModel(caps, snapshot, limits);
  const actions: Action[] = [];
  const deferred: Deferred[] = [];
  const minWays = caps.cacheWays?.minWaysPerMask ?? 1;

  const tryEmit = (a: Action): boolean => {
    if (m.check(a) !== null) return false;
    m.apply(a);
    actions.push(a);
    return true;
  };
  const emit = (a: Action, resource: Deferred['resource']): boolean => {
    const why = m.check(a);
    if (why !== null) {
      deferred.push({ task: a.task, resource, reason: `${a.kind}: ${why}` });
      return false;
    }
    m.apply(a);
    actions.push(a);
    return true;
  };

  const firsts = plan.first.filter((p) => m.get(p.task));
  const seconds = plan.second.filter((p) => m.get(p.task));
  const later: { a: Action; resource: ResourceKind }[] = [];

  // ---- 0. first-class releases
  for (const p of firsts) {
    const t = m.get(p.task)!;
    const task = p.task;
    if (p.cores) {
      const keep = new Set([...p.cores.active, ...p.cores.warm]);
      const rel = sortedNumbers([...t.rCores].filter((c) => !keep.has(c)));
      if (rel.length) {
        const a: Action = { kind: 'release', task, grant: { resource: 'cores', cores: rel }, reason: `${label}: demand stayed below the reservation` };
        if (!tryEmit(a)) later.push({ a, resource: 'cores' });
      }
    }
    if (p.ways) {
      const rel = (t.rMask & ~(p.ways.active | p.ways.warm)) >>> 0;
      if (rel) {
        const a: Action = { kind: 'release', task, grant: { resource: 'cacheWays', mask: rel }, reason: `${label}: demand stayed below the reservation` };
        if (!tryEmit(a)) later.push({ a, resource: 'cacheWays' });
      }
    }
    if (p.colours) {
      const keep = new Set([...p.colours.active, ...p.colours.warm]);
      const rel = sortedNumbers([...t.rColours].filter((c) => !keep.has(c)));
      if (rel.length) {
        const a: Action = { kind: 'release', task, grant: { resource: 'bankColours', colours: rel }, reason: `${label}: demand stayed below the reservation` };
        if (!tryEmit(a)) later.push({ a, resource: 'bankColours' });
      }
    }
    if (p.memBandwidthPct !== undefined && t.rMbaPct > p.memBandwidthPct + 1e-9) {
      emit({ kind: 'release', task, grant: { resource: 'memBandwidthPct', pct: t.rMbaPct - p.memBandwidthPct }, reason: `${label}: bandwidth demand fell` }, 'memBandwidthPct');
    }
    if (p.ioWeight !== undefined && p.ioWeight <= 0 && t.rIoWeight > 0) {
      emit({ kind: 'release', task, grant: { resource: 'ioWeight', weight: t.rIoWeight }, reason: `${label}: IO demand fell` }, 'ioWeight');
    }
  }

  // ---- 1. pauses, second-class moves, first-class shrink
  for (const p of seconds) {
    const t = m.get(p.task)!;
    if (p.paused === true && !t.paused) emit({ kind: 'pause', task: p.task, reason: p.quarantine ?? `${label}: pause` }, 'allocation');
    if (p.cores && !sameNumbers(p.cores, t.cores)) {
      const blocked = m.coresReservedByOthers(p.task);
      const now = p.cores.filter((c) => !blocked.has(c));
      if (now.length && !sameNumbers(now, t.cores)) tryEmit(coreMove(p.task, now, p.quarantine, label));
    }
    if (p.wayMask !== undefined && p.wayMask !== 0 && p.wayMask !== t.mask) {
      const now = (p.wayMask & ~m.waysReservedByOthers(p.task)) >>> 0;
      if (now && isContiguous(now) && popcount(now) >= minWays) tryEmit({ kind: 'setCacheWays', task: p.task, mask: now, reason: p.quarantine ?? `${label}: second-class ways` });
    }
    if (p.colours !== undefined && !sameNumbers(p.colours, t.colours)) {
      const blocked = m.coloursReservedByOthers(p.task);
      const now = p.colours.filter((c) => !blocked.has(c));
      if (now.length || p.colours.length === 0) tryEmit({ kind: 'setBankColours', task: p.task, colours: now, reason: p.quarantine ?? `${label}: second-class colours` });
    }
  }
  for (const p of firsts) {
    const t = m.get(p.task)!;
    if (p.cores) {
      const want = new Set(p.cores.active);
      const keep = t.cores.filter((c) => want.has(c));
      if (keep.length && keep.length < t.cores.length) tryEmit({ kind: 'setCores', task: p.task, cores: keep, reason: `${label}: give up units it no longer holds` });
    }
    if (p.ways && t.mask !== 0) {
      const keep = (t.mask & p.ways.active) >>> 0;
      if (keep !== t.mask && isContiguous(keep) && popcount(keep) >= minWays) tryEmit({ kind: 'setCacheWays', task: p.task, mask: keep, reason: `${label}: give up ways it no longer holds` });
    }
    if (p.colours && t.colours.length) {
      const want = new Set(p.colours.active);
      const keep = t.colours.filter((c) => want.has(c));
      if (keep.length && keep.length < t.colours.length) tryEmit({ kind: 'setBankColours', task: p.task, colours: keep, reason: `${label}: give up colours it no longer holds` });
    }
  }

  // ---- 2. first-class reservations
  const reserveAndActivate = (final: boolean) => {
    for (const p of firsts) {
      const t = m.get(p.task)!;
      const task = p.task;
      if (p.cores) {
        const want = sortedNumbers([...p.cores.active, ...p.cores.warm].filter((c) => !t.rCores.has(c)));
        const ok = want.filter((c) => m.check({ kind: 'reserve', task, grant: { resource: 'cores', cores: [c] } }) === null);
        if (ok.length) emit({ kind: 'reserve', task, grant: { resource: 'cores', cores: ok }, reason: `${label}: reserve ahead of predicted demand` }, 'cores');
        if (final && ok.length < want.length) deferred.push({ task, resource: 'cores', reason: `reserve: core(s) ${want.filter((c) => !ok.includes(c)).join(',')} still held by another task` });
      }
      if (p.ways) {
        const want = ((p.ways.active | p.ways.warm) & ~t.rMask) >>> 0;
        let ok = 0;
        for (let w = 0; w < 32; w++) {
          const bit = (1 << w) >>> 0;
          if (want & bit && m.check({ kind: 'reserve', task, grant: { resource: 'cacheWays', mask: bit } }) === null) ok = (ok | bit) >>> 0;
        }
        if (ok) emit({ kind: 'reserve', task, grant: { resource: 'cacheWays', mask: ok }, reason: `${label}: reserve ways ahead of predicted demand` }, 'cacheWays');
        if (final && ok !== want) deferred.push({ task, resource: 'cacheWays', reason: 'reserve: some ways still held by another task' });
      }
      if (p.colours) {
        const want = sortedNumbers([...p.colours.active, ...p.colours.warm].filter((c) => !t.rColours.has(c)));
        const ok = want.filter((c) => m.check({ kind: 'reserve', task, grant: { resource: 'bankColours', colours: [c] } }) === null);
        if (ok.length) emit({ kind: 'reserve', task, grant: { resource: 'bankColours', colours: ok }, reason: `${label}: reserve bank colours ahead of predicted demand` }, 'bankColours');
        if (final && ok.length < want.length) deferred.push({ task, resource: 'bankColours', reason: 'reserve: some colours still in use by another task' });
      }
      if (p.memBandwidthPct !== undefined && p.memBandwidthPct > t.rMbaPct + 1e-9) {
        emit({ kind: 'reserve', task, grant: { resource: 'memBandwidthPct', pct: p.memBandwidthPct - t.rMbaPct }, reason: `${label}: reserve bandwidth ahead of predicted demand` }, 'memBandwidthPct');
      }
      if (p.ioWeight !== undefined && p.ioWeight > 0 && p.ioWeight !== t.rIoWeight) {
        emit({ kind: 'reserve', task, grant: { resource: 'ioWeight', weight: p.ioWeight }, reason: `${label}: reserve IO weight` }, 'ioWeight');
      }
    }

    // ---- 3. activation
    for (const p of firsts) {
      const t = m.get(p.task)!;
      const task = p.task;
      if (p.cores) {
        const target = sortedNumbers(p.cores.active.filter((c) => t.rCores.has(c)));
        if (target.length && !sameNumbers(target, t.cores)) emit({ kind: 'setCores', task, cores: target, reason: `${label}: activate reserved cores` }, 'cores');
      }
      if (p.ways) {
        const target = (p.ways.active & t.rMask) >>> 0;
        if (target !== t.mask) {
          if (target && isContiguous(target) && popcount(target) >= minWays) emit({ kind: 'setCacheWays', task, mask: target, reason: `${label}: activate reserved ways` }, 'cacheWays');
          else if (final && p.ways.active) deferred.push({ task, resource: 'cacheWays', reason: 'activate: reserved ways do not form a usable mask yet' });
        }
      }
      if (p.colours) {
        const target = sortedNumbers(p.colours.active.filter((c) => t.rColours.has(c)));
        if (target.length && !sameNumbers(target, t.colours)) emit({ kind: 'setBankColours', task, colours: target, reason: `${label}: activate reserved bank colours` }, 'bankColours');
      }
      if (p.ioWeight !== undefined && p.ioWeight > 0 && t.ioWeight !== p.ioWeight) emit({ kind: 'setIoWeight', task, weight: p.ioWeight, reason: `${label}: apply reserved IO weight` }, 'ioWeight');
      if (p.memBandwidthPct !== undefined && caps.memBandwidth && t.mbaPct < 100) emit({ kind: 'setMemBandwidth', task, pct: 100, reason: `${label}: first-class work is never bandwidth-capped` }, 'memBandwidthPct');
    }
  };
  reserveAndActivate(false);
  /** Whether some first-class plan still misses units after the retries (reported once, by a final pass). */
  const deferredReserve = (): boolean =>
    firsts.some((p) => {
      const t = m.get(p.task)!;
      return (p.cores && [...p.cores.active, ...p.cores.warm].some((c) => !t.rCores.has(c))) || (p.ways && ((p.ways.active | p.ways.warm) & ~t.rMask) !== 0) || (p.colours && [...p.colours.active, ...p.colours.warm].some((c) => !t.rColours.has(c)));
    });

  // ---- 4. late releases (then reservations and activations they unblocked), second-class growth and caps, resumes, warm-ups, echoes
  // A release can wait on an activation that waits on another task's release (a way block shifting
  // down a chain of tasks): retry until nothing more goes through, then report what is left.
  for (let round = 0; later.length && round <= firsts.length + 1; round++) {
    const pending = later.splice(0);
    let progress = false;
    for (const item of pending) {
      if (tryEmit(item.a)) progress = true;
      else later.push(item);
    }
    const before = actions.length;
    reserveAndActivate(false);
    if (actions.length > before) progress = true;
    if (!progress) break;
  }
  for (const { a, resource } of later) emit(a, resource);
  if (later.length || deferredReserve()) reserveAndActivate(true);
  for (const p of seconds) {
    const t = m.get(p.task)!;
    const task = p.task;
    if (p.cores && !sameNumbers(p.cores, t.cores)) emit(coreMove(task, p.cores, p.quarantine, label), 'cores');
    if (p.wayMask !== undefined && p.wayMask !== 0 && p.wayMask !== t.mask) emit({ kind: 'setCacheWays', task, mask: p.wayMask, reason: p.quarantine ?? `${label}: second-class ways` }, 'cacheWays');
    if (p.colours !== undefined && !sameNumbers(p.colours, t.colours)) emit({ kind: 'setBankColours', task, colours: p.colours, reason: p.quarantine ?? `${label}: second-class colours` }, 'bankColours');
    if (p.memBandwidthPct !== undefined && p.memBandwidthPct !== t.mbaPct) emit({ kind: 'setMemBandwidth', task, pct: p.memBandwidthPct, reason: p.quarantine ?? `${label}: lift bandwidth cap` }, 'memBandwidthPct');
    if (p.ioWeight !== undefined && p.ioWeight !== t.ioWeight) emit({ kind: 'setIoWeight', task, weight: p.ioWeight, reason: p.quarantine ?? `${label}: restore IO weight` }, 'ioWeight');
    if (p.cpuPct !== undefined && p.cpuPct !== t.quotaPct) emit({ kind: 'throttle', task, cpuPct: p.cpuPct, reason: p.quarantine ?? `${label}: lift CPU cap` }, 'allocation');
    if (p.paused === false && t.paused) emit({ kind: 'resume', task, reason: `${label}: interference passed` }, 'allocation');
  }
  for (const p of firsts) for (const w of p.warm ?? []) emit({ kind: 'warm', task: p.task, resource: w.resource, budgetNs: w.budgetNs, reason: w.reason }, 'warm');
  for (const e of plan.echoes) if (m.get(e.task)) emit({ kind: 'echo', task: e.task, durationNs: e.durationNs, reason: e.reason }, 'echo');
  return { actions, deferred };
}

function coreMove(task: TaskId, cores: number[], quarantine: string | undefined, label: string): Action {
  const sorted = sortedNumbers(cores);
  return quarantine ? { kind: 'migrate', task, cores: sorted, reason: quarantine } : { kind: 'setCores', task, cores: sorted, reason: `${label}: second-class pool` };
}
