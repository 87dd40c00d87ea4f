// What HostPlatform runs: one entry per task, first-class services and
// second-class stressors.
import type { TaskClass, TaskId } from '../policies/platform.js';
import type { RateStep } from './workloads/arrivals.js';
import type { StressorKind } from './workloads/stressors.js';

export type ArrivalSpec = { kind: 'poisson'; ratePerSec: number } | { kind: 'trace'; steps: RateStep[] };

export type HostWorkload =
  /** redis-server under the open-loop load generator (a first-class service). */
  | {
      kind: 'redis';
      arrivals: ArrivalSpec;
      connections?: number;
      keySpace?: number;
      getRatio?: number;
      valueBytes?: number;
      /** Path or name of redis-server (default: found on PATH). */
      binary?: string;
      /** The load generator's sender and reply reader: native threads or the JS worker and event loop (default js). */
      client?: 'native' | 'js';
    }
  /** A stress-ng stressor, or the built-in microbenchmark of the same kind. */
  | { kind: 'stressor'; stressor: StressorKind; workers?: number; implementation?: 'auto' | 'stress-ng' | 'builtin'; bytes?: number }
  /** Any program, started from argv (no shell). */
  | { kind: 'command'; argv: string[] };

export interface HostTaskSpec {
  id: TaskId;
  class: TaskClass;
  workload: HostWorkload;
  /** Initial cpuset (default: every core the runner may use). */
  cores?: number[];
  /** Hard memory limit (cgroup memory controller), if any. */
  memoryLimitBytes?: number;
  /** p99 latency target of a first-class service (default 5 ms). */
  sloP99Ns?: number;
}
