// Resource adjustment (seed 000's Resource Adjustment Module, made real): for
// every first-class task and resource, compare predicted demand with what the
// task holds and move the holding through
//
//   idle -> reserved (warm-up: held, prepared, not yet usable by the task)
//        -> active (in the task's allocation)
//        -> releasing (demand fell below the holding; grace period)
//        -> idle (released back to the pool)
//
// The machine works in whole units of the resource (cores, ways, colours,
// bandwidth percent, IO weight); which concrete units is the layout's job.
import type { ResourceKind } from '../platform.js';

export type LeaseState = 'idle' | 'reserved' | 'active' | 'releasing';

export interface LeaseInput {
  nowNs: number;
  /** Units the predicted demand needs at the lead horizon (upper quantile). */
  wantLead: number;
  /** Units the predicted demand needs by the next tick (upper quantile). */
  wantNear: number;
  /** Guaranteed floor: never held below this. */
  floor: number;
  /** Most this task could hold now (capacity minus what others are guaranteed). */
  cap: number;
  /**
   * Horizons of wantLead and wantNear. With them the machine remembers when
   * each lead-time forecast said its demand would arrive, and activates the
   * units when that time comes due (even if the near-term forecast disagrees).
   */
  leadNs?: number;
  nearNs?: number;
}

export interface LeaseDecision {
  /** Units to hold (active + warm). */
  reserved: number;
  /** Units in use (<= reserved). */
  active: number;
  /** Units newly reserved this tick and left warm (warm-up requests go with them). */
  newlyWarm: number;
  state: LeaseState;
  /** What the state machine wanted before arbitration (for the fallback and the explain trace). */
  wanted: number;
}

export interface LeaseOptions {
  graceNs: number;
  /** false: reserve and activate in one step (no warm-up state). */
  warmup: boolean;
  /** Warm units never activated for this long are released (the prediction did not materialise). */
  warmExpiryNs: number;
  /** After such a false alarm, reservations ahead of need are suppressed for this long. */
  cooldownNs: number;
}

export interface LeaseMetrics {
  /** Integral of (reserved - active) over time: reserved-but-unused unit-ns. */
  warmUnitNs: number;
  reserves: number;
  releases: number;
  activations: number;
  falseAlarms: number;
}

export interface ResourceLease {
  readonly resource: ResourceKind;
  /** Step the machine; the result is what it wants before arbitration. */
  step(input: LeaseInput): LeaseDecision;
  /** Arbitration granted at most this many units (reserved and active are clipped to it). */
  commit(grantReserved: number, nowNs: number): LeaseDecision;
  /** The platform's view disagreed (a refusal): adopt what the task actually holds. */
  sync(reserved: number, active: number): void;
  readonly metrics: LeaseMetrics;
  readonly current: LeaseDecision;
}
