// Metric definitions on hand-built recordings (the expected values are worked
// out from the definitions by hand), the t-based intervals, and EMU.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Recording, TaskTrack } from '../../experiments/loop/recording.js';
import { runMetrics } from '../../experiments/metrics/run-metrics.js';
import { meanInterval, quantile, studentTQuantile } from '../../experiments/metrics/stats.js';
import { finalMetrics } from '../../experiments/sweep/aggregate.js';

const MS = 1_000_000;

function track(id: string, cls: 'first' | 'second', n: number, over: Partial<TaskTrack> = {}): TaskTrack {
  const z = () => new Array<number>(n).fill(0);
  return {
    id,
    cls,
    sloP99Ns: cls === 'first' ? 1 * MS : 0,
    p99Ns: z(),
    requests: z(),
    offeredRps: z(),
    completedRps: z(),
    queueLength: z(),
    cpuCores: z(),
    allocCores: z(),
    warmingCores: z(),
    heldCores: z(),
    exclusiveCores: z(),
    allocWays: z(),
    warmingWays: z(),
    heldWays: z(),
    exclusiveWays: z(),
    occupancyWays: z(),
    progressPerSec: z(),
    quotaPct: new Array<number>(n).fill(100),
    paused: z(),
    memBandwidthPct: new Array<number>(n).fill(100),
    ...over,
  };
}

function recording(n: number, tasks: TaskTrack[], over: Partial<Recording> = {}): Recording {
  return {
    periodNs: 10 * MS,
    coreCount: 8,
    totalWays: 0,
    wayBytes: 0,
    tNs: Array.from({ length: n }, (_, w) => (w + 1) * 10 * MS),
    windowNs: new Array<number>(n).fill(10 * MS),
    tasks,
    changes: new Array<number>(n).fill(0),
    refused: new Array<number>(n).fill(0),
    appliedByKind: {},
    refusedByReason: {},
    forecasts: [],
    ...over,
  };
}

describe('SLO metrics', () => {
  it('share of windows over the SLO, after the warm-up; a window with waiting requests and no completion is a violation', () => {
    // windows 0,1 are warm-up (end at 10 and 20 ms; warm-up 20 ms)
    const kv = track('kv', 'first', 6, {
      p99Ns: [9, 9, 0.5, 2, 0, 0.8].map((x) => x * MS),
      requests: [5, 5, 10, 10, 0, 10],
      queueLength: [0, 0, 0, 0, 7, 0],
      offeredRps: [1, 1, 1, 1, 1, 1],
    });
    const m = runMetrics(recording(6, [kv]), { warmupNs: 20 * MS, leadCapMs: 100 });
    // counted windows 2..5; violated: 3 (2 ms > 1 ms) and 4 (queue, no completion) -> 2/4
    expect(m.sloViolationPct).toBe(50);
    // p99/SLO over windows with completions: (0.5 + 2 + 0.8) / 3
    expect(m.p99OverSlo).toBeCloseTo(3.3 / 3, 12);
    expect(m.windows).toBe(4);
  });

  it('no first-class service: no SLO metrics rather than zeros', () => {
    const m = runMetrics(recording(3, [track('be', 'second', 3, { progressPerSec: [1, 2, 3] })]), { warmupNs: 0, leadCapMs: 100 });
    expect(m.sloViolationPct).toBeNull();
    expect(m.p99OverSlo).toBeNull();
    expect(m.hoardedPct).toBeNull();
    expect(m.beProgress).toEqual({ be: 2 });
  });
});

describe('hoarding, churn, served load', () => {
  it('unused share of exclusively held cores and ways, each weighted by its share of the machine', () => {
    const kv = track('kv', 'first', 2, { exclusiveCores: [4, 4], cpuCores: [1, 3], exclusiveWays: [8, 0], occupancyWays: [2, 5], completedRps: [100, 300] });
    const rec = recording(2, [kv], { coreCount: 8, totalWays: 16, wayBytes: 1 });
    const m = runMetrics(rec, { warmupNs: 0, leadCapMs: 100 });
    // held: cores 4/8 + 4/8, ways 8/16 + 0 = 1.5; unused: cores 3/8 + 1/8, ways 6/16 = 0.875
    expect(m.hoardedPct).toBeCloseTo((100 * 0.875) / 1.5, 10);
    expect(m.servedRps).toEqual({ kv: 200 });
  });

  it('churn counts allocation changes per measured second', () => {
    const kv = track('kv', 'first', 4, { requests: [1, 1, 1, 1] });
    const m = runMetrics(recording(4, [kv], { changes: [9, 2, 0, 4] }), { warmupNs: 10 * MS, leadCapMs: 100 });
    // windows 1..3 measured: 6 changes in 30 ms
    expect(m.churnPerSec).toBeCloseTo(200, 10);
  });
});

describe('lead time', () => {
  // one request costs 1 ms of CPU: core demand = offered rps / 1000
  const base = (offered: number[], held: number[]) =>
    track('kv', 'first', offered.length, { offeredRps: offered, completedRps: offered, cpuCores: offered.map((o) => o / 1000), heldCores: held, requests: offered.map(() => 1) });

  it('cores held before the rise count as lead, capped', () => {
    // demand 1 core for 12 windows, then 3 cores; 3 cores held from window 9 -> 3 windows (30 ms) ahead
    const offered = [...new Array(12).fill(1000), 3000, 3000];
    const held = [1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3];
    const m = runMetrics(recording(14, [base(offered, held)]), { warmupNs: 0, leadCapMs: 100 });
    expect(m.leadEvents).toBe(1);
    expect(m.leadTimeMs).toBeCloseTo(30, 9);
    const capped = runMetrics(recording(14, [base(offered, held)]), { warmupNs: 0, leadCapMs: 20 });
    expect(capped.leadTimeMs).toBeCloseTo(20, 9);
  });

  it('cores that come after the rise count as negative lead', () => {
    const offered = [...new Array(12).fill(1000), 3000, 3000, 3000];
    const held = [...new Array(14).fill(1), 3];
    const m = runMetrics(recording(15, [base(offered, held)]), { warmupNs: 0, leadCapMs: 100 });
    // the rise at window 12; 3 cores from window 14: 20 ms late
    expect(m.leadTimeMs).toBeCloseTo(-20, 9);
  });
});

describe('forecast accuracy', () => {
  it('sMAPE over forecasts made after the warm-up', () => {
    const rec = recording(1, [track('kv', 'first', 1)], {
      forecasts: [{ task: 'kv', demand: 'cpu', horizonNs: 10 * MS, madeAtNs: [0, 20 * MS, 30 * MS, 40 * MS], mean: [99, 1, 3, 0], upper: [99, 2, 4, 0], actual: [1, 1, 1, 0] }],
    });
    const m = runMetrics(rec, { warmupNs: 10 * MS, leadCapMs: 100 });
    // pairs after warm-up: (1,1) -> 0, (3,1) -> 2*2/4 = 1, (0,0) -> 0 -> mean 1/3
    expect(m.forecastPairs).toBe(3);
    expect(m.forecastSmape).toBeCloseTo(100 / 3, 10);
  });
});

describe('EMU and BE throughput', () => {
  it('mean served share of the first-class peaks plus mean second-class throughput share', () => {
    const raw = { sloViolationPct: 0, p99OverSlo: 0.5, hoardedPct: 10, leadTimeMs: null, forecastSmape: null, churnPerSec: 0, servedRps: { a: 50, b: 30 }, beProgress: { x: 40, y: 10 }, windows: 1, forecastPairs: 0, leadEvents: 0 };
    const m = finalMetrics(raw, { a: 100, b: 60 }, { x: 80, y: 40 }, null);
    // first-class: (0.5 + 0.5) / 2 = 0.5; second-class: (0.5 + 0.25) / 2 = 0.375
    expect(m.beThroughputPct).toBeCloseTo(37.5, 10);
    expect(m.emuPct).toBeCloseTo(87.5, 10);
    expect(m.decideUsP99).toBeNull();
  });
});

describe('intervals over seeds', () => {
  it("Student's t quantiles match the published table", () => {
    const table: [number, number][] = [[1, 12.706], [2, 4.303], [4, 2.776], [9, 2.262], [29, 2.045], [120, 1.98]];
    for (const [df, t] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 3);
  });

  it('mean +- t * s / sqrt(n); one seed gives a point', () => {
    const i = meanInterval([1, 2, 3, 4, 5])!;
    expect(i.mean).toBe(3);
    const half = 2.776445 * Math.sqrt(2.5 / 5);
    expect(i.lo).toBeCloseTo(3 - half, 5);
    expect(i.hi).toBeCloseTo(3 + half, 5);
    expect(meanInterval([7])).toEqual({ mean: 7, lo: 7, hi: 7, n: 1 });
    expect(meanInterval([])).toBeNull();
  });

  it('the interval holds the mean and narrows as the same spread gets more seeds', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 2, maxLength: 30 }), (xs) => {
        const i = meanInterval(xs)!;
        expect(i.lo).toBeLessThanOrEqual(i.mean + 1e-9);
        expect(i.hi).toBeGreaterThanOrEqual(i.mean - 1e-9);
        const twice = meanInterval([...xs, ...xs])!;
        expect(twice.hi - twice.lo).toBeLessThanOrEqual(i.hi - i.lo + 1e-9);
      }),
    );
  });

  it('quantile is the nearest rank', () => {
    expect(quantile([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(quantile(Array.from({ length: 100 }, (_, i) => i + 1), 0.99)).toBe(99);
  });
});
