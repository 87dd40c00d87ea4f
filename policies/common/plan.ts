// A plan is the state a policy wants the machine in after this tick, per task.
// Policies decide plans; the reconciler (reconcile.ts) turns the difference
// between a plan and the observed snapshot into an ordered, legal batch of
// actions. Fields left undefined mean "leave as it is".
import type { ResourceKind, TaskId } from '../platform.js';

/** Exclusive units of one first-class task: `active` is in its allocation, `warm` is reserved but not yet usable (warm-up). */
export interface UnitSplit {
  active: number[];
  warm: number[];
}

export interface MaskSplit {
  /** Contiguous way mask the task uses. */
  active: number;
  /** Reserved ways not yet in the task's mask. */
  warm: number;
}

export interface FirstClassPlan {
  task: TaskId;
  cores?: UnitSplit;
  ways?: MaskSplit;
  colours?: UnitSplit;
  /** Memory bandwidth reserved for the task (bookkeeping: caps on others make it real). */
  memBandwidthPct?: number;
  /** IO weight reserved for and applied to the task. */
  ioWeight?: number;
  /** Warm-up requests for units reserved this tick. */
  warm?: { resource: 'cores' | 'cacheWays'; budgetNs: number; reason: string }[];
}

export interface SecondClassPlan {
  task: TaskId;
  cores?: number[];
  wayMask?: number;
  colours?: number[];
  memBandwidthPct?: number;
  ioWeight?: number;
  cpuPct?: number;
  paused?: boolean;
  /** Why the task is confined (quarantine); core moves are then logged as `migrate`. */
  quarantine?: string;
}

export interface EchoRequest {
  task: TaskId;
  durationNs: number;
  reason: string;
}

export interface Plan {
  first: FirstClassPlan[];
  second: SecondClassPlan[];
  echoes: EchoRequest[];
}

/** Something the reconciler could not do this tick (the policy logs it and retries next tick). */
export interface Deferred {
  task: TaskId;
  resource: ResourceKind | 'allocation' | 'warm' | 'echo';
  reason: string;
}
