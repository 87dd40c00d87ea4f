// When first-class tasks together want more of a resource than there is.
// Rounds, each in order of urgency (least SLO slack first; ties by task id):
//   1. every task gets its guaranteed floor;
//   2. every task keeps the units it is using now, up to what it still wants
//      active (nobody's units in use are taken away to serve another);
//   3. active demand beyond that;
//   4. warm units it already holds, up to what it still wants reserved;
//   5. warm (ahead-of-need) demand beyond that.
// Keeping holdings first makes grants stable from tick to tick, so units do
// not churn between tasks as their slacks reorder. A task that gets less than
// it wanted has a shortfall, which the policy handles with its named fallback.
import type { TaskId } from '../platform.js';

export interface ArbitrationRequest {
  task: TaskId;
  floor: number;
  wantActive: number;
  wantReserved: number;
  /** Units held now: in use, and in total (in use + warm). */
  heldActive: number;
  heldReserved: number;
  /** Lower = served first (e.g. SLO slack). */
  urgency: number;
}

export interface ArbitrationGrant {
  reserved: number;
  active: number;
  shortfall: number;
}

export function arbitrate(capacity: number, reqs: readonly ArbitrationRequest[]): Map<TaskId, ArbitrationGrant> {
  const order = [...reqs].sort((a, b) => a.urgency - b.urgency || (a.task < b.task ? -1 : a.task > b.task ? 1 : 0));
  const out = new Map<TaskId, ArbitrationGrant>();
  let left = Math.max(0, capacity);
  const give = (r: ArbitrationRequest, upTo: number, active: boolean) => {
    const g = out.get(r.task)!;
    const add = Math.min(left, Math.max(0, upTo - g.reserved));
    g.reserved += add;
    if (active) g.active = g.reserved;
    left -= add;
  };
  for (const r of order) out.set(r.task, { reserved: 0, active: 0, shortfall: 0 });
  for (const r of order) give(r, Math.max(0, r.floor), true);
  const wantAct = (r: ArbitrationRequest) => Math.min(r.wantActive, r.wantReserved);
  for (const r of order) give(r, Math.min(r.heldActive, wantAct(r)), true);
  for (const r of order) give(r, wantAct(r), true);
  for (const r of order) give(r, Math.min(r.heldReserved, r.wantReserved), false);
  for (const r of order) give(r, r.wantReserved, false);
  for (const r of order) {
    const g = out.get(r.task)!;
    g.shortfall = Math.max(0, r.wantReserved - g.reserved);
  }
  return out;
}
