// The shadow of a task (seed 000): created when the task starts, it only
// observes — CPU, memory bandwidth, LLC misses and occupancy, IO, request
// rate — and predicts each demand dimension at horizons of 10–50 ms. Two
// implementations: forecasters per dimension (impl/forecast-shadow.ts, with
// the blend's dynamic weighting exposed) and the oracle's (impl/oracle-shadow.ts,
// reading Snapshot.future).
import type { DemandKind, EchoResult, Prediction, TaskClass, TaskId } from '../platform.js';
import type { DemandObservation } from './observation.js';

export interface TaskShadow {
  readonly task: TaskId;
  readonly taskClass: TaskClass;
  observe(obs: DemandObservation): void;
  /** Ground truth from an echo burst: what the demand will be over [requestedAt, requestedAt + duration]. */
  applyEcho(echo: EchoResult): void;
  /** Demand `horizonNs` after the last observation; undefined when the dimension was never observed. */
  predict(kind: DemandKind, horizonNs: number): Prediction | undefined;
  /** Last observed value. */
  last(kind: DemandKind): number | undefined;
  /** The blend's member weights for this dimension at a horizon (default: the one last asked); undefined for a single model. */
  weights(kind: DemandKind, horizonNs?: number): Record<string, number> | undefined;
  /** Share of the weight on real-time members (naive, ewma, median, ar); undefined without a blend. */
  realtimeWeight(kind: DemandKind, horizonNs?: number): number | undefined;
  /** Relative spread of the forecast: (upper - mean) / scale. */
  uncertainty(kind: DemandKind, horizonNs: number): number;
  /** Echo statistics, for the explain trace and the echo planner. */
  echoStats(): { applied: number; meanAbsRelError: number };
}

/** Blend members that follow the present (the rest carry history: seasonal, trained, trend). */
export const REALTIME_MEMBERS: readonly string[] = ['naive', 'ewma', 'median', 'ar'];
export const HISTORICAL_MEMBERS: readonly string[] = ['holt-winters', 'prophet', 'lstm'];
