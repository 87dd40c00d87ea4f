// A task's allocation and reservation as snapshots report them. Platforms
// build them once per change and share them, frozen, between snapshots: the
// 10 ms loop should not copy what has not changed (on the host, a fresh pair
// of objects per task cost 20 us of the 100 us observe, cold after each
// sleep). A policy that plans ahead keeps its own copy; changing a view throws.
import type { TaskSample } from '../policies/platform.js';

export type AllocationView = TaskSample['allocation'];
export type ReservationView = TaskSample['reserved'];

/** A frozen view with frozen copies of its arrays. */
export function frozenAllocation(a: AllocationView): AllocationView {
  return Object.freeze({ ...a, cores: Object.freeze([...a.cores]) as number[], bankColours: Object.freeze([...a.bankColours]) as number[] });
}

export function frozenReservation(r: ReservationView): ReservationView {
  return Object.freeze({ ...r, cores: Object.freeze([...r.cores]) as number[], bankColours: Object.freeze([...r.bankColours]) as number[] });
}
