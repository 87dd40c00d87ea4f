// The runner's state for one task: its process, groups, the allocation as
// applied, reservations, and the previous counter values observe() diffs against.
import type { Allocation, Reservation as ReservationView } from '../policies/platform.js';
import type { TaskCgroup } from './cgroup/cgroup-backend.js';
import type { HostTaskSpec } from './host-task-spec.js';
import type { ManagedProcess } from './process/process-manager.js';
import type { OpenLoopLoadGenerator } from './workloads/redis-load-generator.js';

export interface Reservation {
  cores: Set<number>;
  cacheWayMask: number;
  memBandwidthPct: number;
  ioWeight: number;
}

export interface HostTask {
  spec: HostTaskSpec;
  /** Index used by the perf counter set. */
  slot: number;
  proc: ManagedProcess;
  cgroup: TaskCgroup | null;
  /** What started it ("redis-server", "stress-ng", "builtin microbench", "command"). */
  implementation: string;
  alloc: Allocation;
  reserved: Reservation;
  loadgen: OpenLoopLoadGenerator | null;
  reportsProgress: boolean;
  progressUnits: number;
  lastProgressUnits: number;
  /** Index into the per-tick batched cgroup CPU counter reads, or -1. */
  cpuCounter: number;
  /**
   * Where the per-tick CPU time comes from. 'perf': the task-clock counters
   * (cheapest to read), checked every slow-stats round against the cgroup
   * counter; 'cgroup': the cgroup's CPU counter (no perf, or perf fell short:
   * a thread that escaped counting); 'proc': /proc/<pid>/stat ticks, refreshed
   * with the slow statistics (neither of the others).
   */
  cpuSource: 'perf' | 'cgroup' | 'proc';
  /** The cgroup CPU counter kept open (cross-check and fallback), or -1; its ns per unit. */
  cgroupCpuFd: number;
  cgroupCpuNsPerUnit: number;
  /** Cross-check baseline: both counters at the first observe. */
  cpuCheckBase: { cgroupNs: number; perfNs: number } | null;
  /** Added to the current source's reading so a switch of source does not jump. */
  cpuOffsetNs: number;
  cpuTimeNs: number;
  lastCpuTimeNs: number;
  rssBytes?: number;
  ioBytes?: number;
  llcOccupancyBytes?: number;
  memTotalBytes?: number;
  memBandwidthBytesPerSec?: number;
  lastMemSampleNs?: number;
  echoBusy: boolean;
  /** When memory/IO/resctrl statistics are next due (observe refreshes them round-robin). */
  nextSlowNs: number;
  /** Frozen copies of alloc/reserved for snapshots; null = rebuild at the next observe. */
  view: { allocation: Allocation; reserved: ReservationView } | null;
  /** The task's processes as last listed for the /proc statistics, and rounds since. */
  pidList: number[] | null;
  pidListAgeRounds: number;
  /** Processes moved into the task's cgroups (all hierarchies) so far. */
  attachedPids: Set<number>;
  /**
   * Slow-stat rounds that still look for stragglers (processes forked while
   * the tree was being moved). attachTree at start repeats until a pass finds
   * nothing new, and later children of attached processes are born in the
   * groups, so a few checks after start suffice; each costs a walk of the
   * task's /proc tree, which every second for ever was a third of the 10 ms
   * loop's CPU.
   */
  stragglerChecksLeft: number;
}
