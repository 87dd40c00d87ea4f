// A task's allocation and reservation as snapshots report them. Platforms
// build the arrays once per change and share them, frozen, between snapshots
// (the 10 ms loop should not copy what has not changed); each snapshot gets
// its own shallow objects around them, so a policy may replace a field of
// the snapshot it was given (e.g. plan with `allocation.cores = rest`)
// without touching any other snapshot, while changing a shared array in
// place throws.
import type { TaskSample } from '../policies/platform.js';

export type AllocationView = TaskSample['allocation'];
export type ReservationView = TaskSample['reserved'];

/** Freeze the arrays of a view (the template a platform keeps). */
export function frozenAllocation(a: AllocationView): AllocationView {
  return Object.freeze({ ...a, cores: Object.freeze([...a.cores]) as number[], bankColours: Object.freeze([...a.bankColours]) as number[] });
}

export function frozenReservation(r: ReservationView): ReservationView {
  return Object.freeze({ ...r, cores: Object.freeze([...r.cores]) as number[], bankColours: Object.freeze([...r.bankColours]) as number[] });
}

/** A snapshot's own copy of a template (the arrays stay shared). */
export function allocationCopy(v: AllocationView): AllocationView {
  return {
    cores: v.cores,
    cacheWayMask: v.cacheWayMask,
    bankColours: v.bankColours,
    memBandwidthPct: v.memBandwidthPct,
    ioWeight: v.ioWeight,
    cpuQuotaPct: v.cpuQuotaPct,
    paused: v.paused,
  };
}

export function reservationCopy(v: ReservationView): ReservationView {
  return { cores: v.cores, cacheWayMask: v.cacheWayMask, bankColours: v.bankColours, memBandwidthPct: v.memBandwidthPct, ioWeight: v.ioWeight };
}
