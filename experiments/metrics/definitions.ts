// The metrics every run reports: names, units, which direction is better, and
// what each means (the report and README print these descriptions).

export const METRIC_NAMES = [
  'sloViolationPct',
  'p99OverSlo',
  'emuPct',
  'beThroughputPct',
  'hoardedPct',
  'leadTimeMs',
  'forecastSmape',
  'churnPerSec',
  'decideUsP99',
] as const;

export type MetricName = (typeof METRIC_NAMES)[number];

export interface MetricDefinition {
  name: MetricName;
  title: string;
  unit: string;
  better: 'lower' | 'higher';
  /** Measured on the wall clock: varies between runs, so kept out of the byte-identical results (timing.json). */
  wallClock: boolean;
  /** Values the metric can take: 95% intervals are clipped to it (a t interval over few seeds can reach below 0%). */
  range: [number, number];
  description: string;
}

export const METRICS: Record<MetricName, MetricDefinition> = {
  sloViolationPct: {
    name: 'sloViolationPct',
    range: [0, 100],
    title: 'SLO violations',
    unit: '%',
    better: 'lower',
    wallClock: false,
    description:
      'share of (first-class service, control window) pairs after warm-up whose window p99 latency exceeds the SLO; a window in which requests wait but none completes counts as a violation',
  },
  p99OverSlo: {
    name: 'p99OverSlo',
    range: [0, Infinity],
    title: 'p99 / SLO',
    unit: 'x',
    better: 'lower',
    wallClock: false,
    description: 'mean over (first-class service, window with completions) of window p99 latency divided by the SLO',
  },
  emuPct: {
    name: 'emuPct',
    range: [0, Infinity],
    title: 'EMU',
    unit: '%',
    better: 'higher',
    wallClock: false,
    description:
      'effective machine utilisation (Heracles): 100 x (mean over first-class services of served request rate / the highest constant rate it serves within its SLO alone on the machine + mean over second-class jobs of throughput / its throughput alone on the machine)',
  },
  beThroughputPct: {
    name: 'beThroughputPct',
    range: [0, Infinity],
    title: 'BE throughput',
    unit: '%',
    better: 'higher',
    wallClock: false,
    description: 'mean over second-class jobs of their throughput (instructions per second) as a percentage of their throughput alone on the machine',
  },
  hoardedPct: {
    name: 'hoardedPct',
    range: [0, 100],
    title: 'hoarded',
    unit: '%',
    better: 'lower',
    wallClock: false,
    description:
      'reserved-but-unused resource-time over reserved resource-time: cores and LLC ways held exclusively for first-class services (reserved, or allocated and in no other task\'s allocation), minus the cores busy and the ways occupied, each as a share of the machine',
  },
  leadTimeMs: {
    name: 'leadTimeMs',
    range: [-Infinity, Infinity],
    title: 'lead time',
    unit: 'ms',
    better: 'higher',
    wallClock: false,
    description:
      'mean over demand rises (a first-class service\'s core demand, offered rate x CPU per request, reaching a whole-core level it did not need in the previous 10 windows) of how long the service had held that many cores (allocated or reserved) before the rise; negative when they came after it; capped at leadCapMs',
  },
  forecastSmape: {
    name: 'forecastSmape',
    range: [0, 200],
    title: 'forecast sMAPE',
    unit: '%',
    better: 'lower',
    wallClock: false,
    description:
      'symmetric mean absolute percentage error of the policy\'s demand forecasts (mean) against the demand observed at the forecast\'s target time; only for policies that expose their forecasts',
  },
  churnPerSec: {
    name: 'churnPerSec',
    range: [0, Infinity],
    title: 'churn',
    unit: '/s',
    better: 'lower',
    wallClock: false,
    description: 'allocation changes applied per simulated second (reserve, release, setCores, setCacheWays, setBankColours, setMemBandwidth, setIoWeight, pause, resume, throttle, migrate)',
  },
  decideUsP99: {
    name: 'decideUsP99',
    range: [0, Infinity],
    title: 'decide p99',
    unit: 'us',
    better: 'lower',
    wallClock: true,
    description: '99th percentile of the wall-clock time of one decide() call after the warm-up, microseconds (measured while the other workers run: compare within one run)',
  },
};
