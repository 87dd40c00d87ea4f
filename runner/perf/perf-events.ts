// perf_event_open(2) event ids used by the runner.
export const PERF_TYPE_HARDWARE = 0;
export const PERF_TYPE_SOFTWARE = 1;

export interface PerfEventId {
  type: number;
  config: number;
}

export const HARDWARE_EVENTS = {
  cycles: { type: PERF_TYPE_HARDWARE, config: 0 },
  instructions: { type: PERF_TYPE_HARDWARE, config: 1 },
  /** PERF_COUNT_HW_CACHE_REFERENCES: last-level cache accesses on most PMUs. */
  llcAccesses: { type: PERF_TYPE_HARDWARE, config: 2 },
  /** PERF_COUNT_HW_CACHE_MISSES: last-level cache misses on most PMUs. */
  llcMisses: { type: PERF_TYPE_HARDWARE, config: 3 },
} as const satisfies Record<string, PerfEventId>;

export const SOFTWARE_EVENTS = {
  taskClock: { type: PERF_TYPE_SOFTWARE, config: 1 },
  pageFaults: { type: PERF_TYPE_SOFTWARE, config: 2 },
  contextSwitches: { type: PERF_TYPE_SOFTWARE, config: 3 },
  cpuMigrations: { type: PERF_TYPE_SOFTWARE, config: 4 },
} as const satisfies Record<string, PerfEventId>;

export type HardwareEventName = keyof typeof HARDWARE_EVENTS;
export type SoftwareEventName = keyof typeof SOFTWARE_EVENTS;
export type PerfEventName = HardwareEventName | SoftwareEventName;

/** Human names (as `perf list` prints them) for reports. */
export const PERF_EVENT_LABELS: Record<PerfEventName, string> = {
  cycles: 'cycles',
  instructions: 'instructions',
  llcAccesses: 'cache-references (LLC)',
  llcMisses: 'cache-misses (LLC)',
  taskClock: 'task-clock',
  pageFaults: 'page-faults',
  contextSwitches: 'context-switches',
  cpuMigrations: 'cpu-migrations',
};
