// The one seam everything hangs on. `policies/` owns these types; `sim/` and
// `runner/` implement them; nothing in `policies/` imports from `sim/`, `runner/`
// or `experiments/`.
//
// A control loop (experiments/) does, every control period:
//   snapshot = platform.observe()
//   actions  = policy.decide(snapshot)
//   result   = platform.apply(actions)
//   platform.advance(platform.now() + periodNs)
// and records every step. The same policy object, unmodified, drives both the
// simulator and a real host.
//
// Units live in names: Ns = nanoseconds (integers on the simulator's clock),
// Bytes, Ways, Pct (0..100). Core, way and bank-colour ids are 0-based.
//
// Semantics both platforms implement (the simulator exactly, the host as far
// as its kernel allows; what it cannot do it refuses with a reason):
//
// - Cores, cache ways and bank colours can be *shared* (several tasks' cpusets
//   or way masks include them; the core is time-shared fairly, the ways are
//   filled by LRU) or *reserved* for one task (exclusive). A reserved unit may
//   not appear in any other task's cpuset / mask / colour set: an action that
//   would put it there is refused, and so is reserving a unit that another
//   task holds (reserved, or in its cpuset/mask/colours). So to take a core
//   from second-class work: first `migrate` them off it, then `reserve` it,
//   in one apply() batch (actions apply in order).
// - A reservation is the warm-up state: the unit is held for the task but the
//   task does not use it until an allocation action includes it (`setCores`,
//   `setCacheWays`, `setBankColours`): that is activation. `warm` prepares the
//   reserved units (cores: no cold-start delay when activated; cache ways: the
//   task's hot lines are prefetched into them, at a DRAM-bandwidth cost) and
//   costs its budget. Activating an unwarmed core costs a cold start (the
//   machine's core activation time).
// - `release` ends a reservation and takes the units out of the task's
//   allocation too (refused if that would leave it no core / no way).
// - Memory bandwidth and IO weight reservations are bookkeeping (the sum of
//   reserved bandwidth may not exceed 100%); the effect comes from capping the
//   other tasks (`setMemBandwidth`, `setIoWeight`).
// - `echo` runs a bounded burst of the task ahead of time and reports, in a
//   later snapshot's `echoes`, what the task's demand will be over the next
//   `durationNs` (the simulator forks its state; a host runs a probe burst).
// - `pause`/`resume` freeze and thaw; `throttle` caps CPU time (cgroup quota);
//   `migrate` is `setCores` for quarantine (logged as such).

/** Stable identifier of a task for the whole run (e.g. "lc0", "be-stream-3"). */
export type TaskId = string;

/**
 * First-class = latency-critical work with an SLO (protect it);
 * second-class = best-effort throughput work (keep it busy, but yield).
 */
export type TaskClass = 'first' | 'second';

/** Resources a policy can reserve, in the granularity the platform offers. */
export type ResourceKind = 'cores' | 'cacheWays' | 'bankColours' | 'memBandwidthPct' | 'ioWeight';

export const RESOURCE_KINDS: readonly ResourceKind[] = ['cores', 'cacheWays', 'bankColours', 'memBandwidthPct', 'ioWeight'];

// ---------------------------------------------------------------------------
// Capabilities: what knobs and counters exist on this platform.
// ---------------------------------------------------------------------------

export interface CounterCapabilities {
  cpuTime: boolean;
  instructions: boolean;
  cycles: boolean;
  llcMisses: boolean;
  llcOccupancy: boolean;
  memBandwidth: boolean;
  rss: boolean;
  io: boolean;
  /** Request latency percentiles of first-class services. */
  requestLatency: boolean;
}

export interface Capabilities {
  platform: 'sim' | 'hardware';
  /** Core ids a policy may hand out. */
  coreIds: number[];
  /** Last-level cache way partitioning (Intel CAT style). null = not available. */
  cacheWays: {
    totalWays: number;
    /** CAT requires contiguous masks with at least this many ways. */
    minWaysPerMask: number;
    wayBytes: number;
  } | null;
  /** Memory bandwidth allocation (Intel MBA style). null = not available. */
  memBandwidth: {
    minPct: number;
    stepPct: number;
    peakBytesPerSec: number;
  } | null;
  /** DRAM bank colours reachable through page colouring. null = not available. */
  bankColours: { count: number } | null;
  /** IO weight / priority range. null = not available. */
  ioWeight: { min: number; max: number; default: number } | null;
  /** Can freeze/thaw a task (pause/resume). */
  freezer: boolean;
  /** Can cap a task's CPU share (cgroup cpu quota). */
  throttle: boolean;
  /** Can move a task between cores. */
  migrate: boolean;
  /** Can pre-populate caches / pages ahead of use. */
  warm: boolean;
  /** Can run a bounded echo burst of a task and report what it measured. */
  echo: boolean;
  /** Largest warm budget and echo duration the platform accepts (larger ones are refused). */
  maxWarmNs?: number;
  maxEchoNs?: number;
  /** Counters observe() fills in (others are left undefined). */
  counters: CounterCapabilities;
  /** Things the platform wanted to offer but could not, with the reason. */
  skipped: { what: string; reason: string }[];
}

// ---------------------------------------------------------------------------
// Snapshot: what observe() returns.
// ---------------------------------------------------------------------------

/** A task's current allocation, as the platform has it applied. */
export interface Allocation {
  cores: number[];
  /** Contiguous CAT-style way mask as a bit mask (bit i = way i). 0 = unrestricted. */
  cacheWayMask: number;
  /** Bank colours the task's pages may use. Empty = unrestricted. */
  bankColours: number[];
  /** Memory bandwidth cap, percent of peak (100 = uncapped). */
  memBandwidthPct: number;
  ioWeight: number;
  /** CPU quota as a percentage of its cores (100 = unthrottled). */
  cpuQuotaPct: number;
  paused: boolean;
}

/** Per-window latency of a first-class service (window = since last observe). */
export interface LatencySample {
  requests: number;
  p50Ns: number;
  p95Ns: number;
  p99Ns: number;
  /** Mean latency over the window, where the platform measures it. */
  meanNs?: number;
  /** The SLO this service is measured against (p99 target). */
  sloP99Ns: number;
  /** Offered and completed request rates over the window. */
  offeredRps: number;
  completedRps: number;
  /** Requests waiting at the end of the window. */
  queueLength: number;
}

/** Units currently reserved for a task (held, exclusive, maybe not yet active). */
export interface Reservation {
  cores: number[];
  cacheWayMask: number;
  bankColours: number[];
  memBandwidthPct: number;
  ioWeight: number;
}

export interface TaskSample {
  id: TaskId;
  class: TaskClass;
  state: 'running' | 'paused' | 'exited';
  /** Cumulative CPU time consumed. */
  cpuTimeNs: number;
  /** Cores' worth of CPU used over the last window (e.g. 2.5 = two and a half cores busy). */
  cpuCores: number;
  /** Cumulative counters where the platform has them. */
  instructions?: number;
  cycles?: number;
  llcAccesses?: number;
  llcMisses?: number;
  /** Current LLC occupancy (CMT-style). */
  llcOccupancyBytes?: number;
  memReadBytes?: number;
  memWriteBytes?: number;
  /** Memory bandwidth over the last window (MBM-style). */
  memBandwidthBytesPerSec?: number;
  rssBytes?: number;
  ioBytes?: number;
  /** Second-class progress: work units (e.g. kernel iterations) done over the window, and alone-rate for reference. */
  progressPerSec?: number;
  /** First-class services only. */
  latency?: LatencySample;
  allocation: Allocation;
  reserved: Reservation;
}

/** Result of an echo burst, delivered in a later snapshot. */
export interface EchoResult {
  task: TaskId;
  /** When the echo was requested and how long it ran. */
  requestedAtNs: number;
  durationNs: number;
  /** What the burst measured, per demand dimension (same units as TaskSample / Shadow demand). */
  measured: Partial<Record<DemandKind, number>>;
  /** What it cost (CPU time consumed by the probe). */
  costCpuNs: number;
}

/**
 * What a platform saw; read-only. A task's `allocation` and `reserved` and
 * the `free` pool are shared between snapshots until an action changes them,
 * and frozen: a policy that plans ahead keeps its own copy of what it
 * changes (changing them throws).
 */
export interface Snapshot {
  timeNs: number;
  /** Time since the previous observe() (0 for the first). */
  windowNs: number;
  tasks: TaskSample[];
  /** Echo bursts completed since the previous observe(). */
  echoes: EchoResult[];
  /** Pool state: what is free right now (not allocated to any task). */
  free: {
    cores: number[];
    cacheWayMask: number;
    bankColours: number[];
  };
  /**
   * Only on platforms that can see the future (the simulator, for the oracle
   * baseline): true demand of each task over the next `futureHorizonNs`.
   */
  future?: FutureDemand[];
}

/** Dimensions a shadow forecasts; `cpu` in cores, `memBw` in bytes/s, etc. */
export type DemandKind = 'cpu' | 'memBw' | 'llcMissRate' | 'llcOccupancy' | 'io' | 'rps';

export const DEMAND_KINDS: readonly DemandKind[] = ['cpu', 'memBw', 'llcMissRate', 'llcOccupancy', 'io', 'rps'];

export interface FutureDemand {
  task: TaskId;
  horizonNs: number;
  /** Peak demand over (now, now + horizonNs] per dimension. */
  peak: Partial<Record<DemandKind, number>>;
}

// ---------------------------------------------------------------------------
// Actions: plain data, so they can be logged, replayed and compared.
// ---------------------------------------------------------------------------

/** A concrete grant of one resource kind. */
export type ResourceGrant =
  | { resource: 'cores'; cores: number[] }
  | { resource: 'cacheWays'; mask: number }
  | { resource: 'bankColours'; colours: number[] }
  | { resource: 'memBandwidthPct'; pct: number }
  | { resource: 'ioWeight'; weight: number };

export type Action =
  /** Hold resources for a task ahead of need: taken from the free pool, not yet usable by the task (warm-up state). */
  | { kind: 'reserve'; task: TaskId; grant: ResourceGrant; reason?: string }
  /** Give reserved or allocated resources back to the free pool. */
  | { kind: 'release'; task: TaskId; grant: ResourceGrant; reason?: string }
  /** Set the task's cpuset (cores it may run on). */
  | { kind: 'setCores'; task: TaskId; cores: number[]; reason?: string }
  /** Set the task's contiguous LLC way mask. */
  | { kind: 'setCacheWays'; task: TaskId; mask: number; reason?: string }
  /** Restrict the task's pages to these DRAM bank colours. */
  | { kind: 'setBankColours'; task: TaskId; colours: number[]; reason?: string }
  /** Cap the task's memory bandwidth (MBA percent of peak). */
  | { kind: 'setMemBandwidth'; task: TaskId; pct: number; reason?: string }
  | { kind: 'setIoWeight'; task: TaskId; weight: number; reason?: string }
  | { kind: 'pause'; task: TaskId; reason?: string }
  | { kind: 'resume'; task: TaskId; reason?: string }
  /** Cap the task's CPU time to cpuPct of its cores (100 = lift the cap). */
  | { kind: 'throttle'; task: TaskId; cpuPct: number; reason?: string }
  /** Move the task to other cores (same as setCores, but says why: quarantine). */
  | { kind: 'migrate'; task: TaskId; cores: number[]; reason?: string }
  /**
   * Pre-populate a resource reserved for the task (cache lines, pages) before
   * it activates, within about budgetNs. The simulator spreads a cache
   * warm-up's DRAM traffic over the budget, and takes longer when the lines
   * cannot move that fast (the traffic is bounded); the host runner replays
   * hot keys until they are done or the budget is spent.
   */
  | { kind: 'warm'; task: TaskId; resource: ResourceKind; budgetNs: number; reason?: string }
  /** Run a short burst of the task ahead and report what it measured (EchoResult). */
  | { kind: 'echo'; task: TaskId; durationNs: number; reason?: string };

export type ActionKind = Action['kind'];

export interface RefusedAction {
  action: Action;
  reason: string;
}

export interface ApplyResult {
  applied: Action[];
  refused: RefusedAction[];
}

// ---------------------------------------------------------------------------
// The three interfaces.
// ---------------------------------------------------------------------------

export interface Platform {
  capabilities(): Capabilities;
  /** Current time on the platform's clock, ns. */
  now(): number;
  observe(): Snapshot;
  /**
   * Apply actions in order. Impossible actions (more ways than exist, a core
   * owned twice, an unknown task) are refused with a reason, never silently
   * clipped; the rest are applied.
   */
  apply(actions: Action[]): ApplyResult;
  /** Run until `untilNs` (the simulator steps its event queue; a host sleeps). */
  advance(untilNs: number): Promise<void> | void;
}

export interface Policy {
  readonly name: string;
  /** Called once before the first decide(). */
  init?(capabilities: Capabilities, snapshot: Snapshot): void;
  /** Pure given the policy's own state and the snapshot. */
  decide(snapshot: Snapshot): Action[];
  /** Told what the platform refused, so the policy's state matches reality. */
  onApplied?(result: ApplyResult): void;
}

export interface Prediction {
  mean: number;
  /** Upper quantile (e.g. p95), so reservations carry a safety margin. */
  upper: number;
}

export interface Forecaster {
  readonly name: string;
  /** Feed one observation at time tNs (non-decreasing). */
  update(tNs: number, value: number): void;
  /** Forecast the value horizonNs after the last update. */
  predict(horizonNs: number): Prediction;
}
