// The figures `umbra compare` puts side by side, on hand-built windows: what
// each statistic means, the slowdown and throughput ratios, the simulator's
// error, and the table built from runs.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Snapshot, TaskSample } from '../../policies/platform.js';
import { meanFigures, runFigures, sideFigures, simErrors, SIDE_FIGURES, type RunFigures, type SideFigures } from '../../experiments/compare/compare-figures.js';
import { buildComparison, comparisonMarkdown, type CompareRunRecord } from '../../experiments/compare/compare-report.js';
import { defaultMachine } from '../../sim/machine/machine-description.js';

const alloc = { cores: [0], cacheWayMask: 0, bankColours: [], memBandwidthPct: 100, ioWeight: 100, cpuQuotaPct: 100, paused: false };
const reserved = { cores: [], cacheWayMask: 0, bankColours: [], memBandwidthPct: 0, ioWeight: 0 };

function fcSample(p99Ns: number, requests: number, extra: Partial<NonNullable<TaskSample['latency']>> = {}): TaskSample {
  return {
    id: 'kv',
    class: 'first',
    state: 'running',
    cpuTimeNs: 0,
    cpuCores: 0.2,
    allocation: alloc,
    reserved,
    latency: { requests, p50Ns: p99Ns / 4, p95Ns: p99Ns / 2, p99Ns, sloP99Ns: 1e6, offeredRps: requests * 100, completedRps: requests * 100, queueLength: 0, ...extra },
  };
}

function beSample(progressPerSec: number): TaskSample {
  return { id: 'be', class: 'second', state: 'running', cpuTimeNs: 0, cpuCores: 1, progressPerSec, allocation: alloc, reserved };
}

function snap(timeNs: number, tasks: TaskSample[]): Snapshot {
  return { timeNs, windowNs: timeNs === 0 ? 0 : 10e6, tasks, echoes: [], free: { cores: [], cacheWayMask: 0, bankColours: [] } };
}

describe('run figures from windows', () => {
  it('averages window p99s over windows with completions, after the warm-up', () => {
    const snaps = [
      snap(0, [fcSample(0, 0), beSample(0)]),
      snap(10e6, [fcSample(9e6, 10), beSample(999)]), // warm-up: left out
      snap(20e6, [fcSample(100e3, 10, { meanNs: 50e3 }), beSample(10)]),
      snap(30e6, [fcSample(300e3, 30, { meanNs: 150e3 }), beSample(30)]),
      snap(40e6, [fcSample(2e6, 0, { queueLength: 5, meanNs: 0 }), beSample(20)]), // nothing done, requests waiting: a violation
    ];
    const f = runFigures(snaps, 10e6);
    expect(f.fc.kv.p99Ns).toBe(200e3);
    expect(f.fc.kv.p50Ns).toBe(50e3);
    // request-weighted: (10 x 50 us + 30 x 150 us) / 40
    expect(f.fc.kv.meanNs).toBe(125e3);
    expect(f.fc.kv.sloViolationPct).toBeCloseTo(100 / 3, 10);
    expect(f.fc.kv.windows).toBe(3);
    expect(f.be.be.progressPerSec).toBe(20);
  });

  it('has no mean latency when the platform reports none (the simulator)', () => {
    const f = runFigures([snap(0, [fcSample(0, 0)]), snap(10e6, [fcSample(1e5, 5)])], 0);
    expect(f.fc.kv.meanNs).toBeNull();
    expect(f.fc.kv.p99Ns).toBe(1e5);
  });
});

function figures(p99: number, mean: number | null, progress: number): RunFigures {
  return {
    fc: { kv: { p99Ns: p99, p50Ns: p99 / 4, meanNs: mean, sloViolationPct: 0, completedRps: 1000, offeredRps: 1000, cpuCores: 0.1, windows: 10 } },
    be: { be: { progressPerSec: progress, cpuCores: 1 } },
  };
}

describe('side by side', () => {
  it('slowdown is co-located over alone; throughput is relative to alone', () => {
    const s = sideFigures('kv', figures(100e3, 40e3, 0), figures(250e3, 60e3, 75), { be: 100 });
    expect(s.slowdownP99).toBe(2.5);
    expect(s.slowdownMean).toBe(1.5);
    expect(s.beThroughputRel).toBe(0.75);
    expect(sideFigures('kv', figures(100e3, null, 0), figures(250e3, null, 75), {}).beThroughputRel).toBeNull();
  });

  it('law: the error is (sim - host) / host, zero when they agree, points for SLO violations', () => {
    const fig = fc.record(Object.fromEntries(SIDE_FIGURES.map((k) => [k, fc.option(fc.double({ min: 0.01, max: 1e6, noNaN: true }), { nil: null })])) as Record<keyof SideFigures, fc.Arbitrary<number | null>>);
    fc.assert(
      fc.property(fig, fig, (host, sim) => {
        const e = simErrors(host as SideFigures, sim as SideFigures);
        for (const k of SIDE_FIGURES) {
          const h = host[k];
          const s = sim[k];
          if (h === null || s === null) expect(e[k]).toBeNull();
          else if (k === 'sloViolationPct') expect(e[k]).toBeCloseTo(s - h, 6);
          else expect(e[k]).toBeCloseTo((s - h) / h, 6);
        }
        for (const v of Object.values(simErrors(host as SideFigures, host as SideFigures))) if (v !== null) expect(v).toBe(0);
      }),
    );
  });

  it('means over seeds leave missing figures out', () => {
    const a = sideFigures('kv', figures(100, 10, 1), figures(200, 20, 1), { be: 1 });
    const b = { ...sideFigures('kv', figures(100, 10, 1), figures(400, 20, 1), { be: 1 }), slowdownMean: null };
    const m = meanFigures([a, b]);
    expect(m.slowdownP99).toBe(3);
    expect(m.slowdownMean).toBe(2);
  });
});

describe('the comparison table', () => {
  it('pairs host and simulator runs by policy and seed and says whether the slowdown is within 15%', () => {
    const rec = (side: 'host' | 'sim', label: string, seed: number, f: RunFigures): CompareRunRecord => ({
      side, label, seed, figures: f, sloViolationPct: 0, churnPerSec: 0, appliedByKind: {}, refusedByReason: {}, hostMapping: [], hostLoad: null,
    });
    const runs: CompareRunRecord[] = [];
    for (const seed of [1, 2]) {
      runs.push(rec('host', 'alone-kv', seed, figures(100e3, 50e3, 0)), rec('host', 'alone-be', seed, figures(0, null, 100)));
      runs.push(rec('sim', 'alone-kv', seed, figures(50e3, null, 0)), rec('sim', 'alone-be', seed, figures(0, null, 1000)));
      runs.push(rec('host', 'static', seed, figures(200e3, 80e3, 50)), rec('sim', 'static', seed, figures(110e3, null, 500)));
      runs.push(rec('host', 'shadow', seed, figures(150e3, 60e3, 80)), rec('sim', 'shadow', seed, figures(60e3, null, 900)));
    }
    const c = buildComparison({
      name: 't', specPath: '/x.yaml', version: '0', machine: defaultMachine(), machineSource: 'test', machineNotes: [], seeds: [1, 2], policies: ['static', 'shadow'],
      fcIds: ['kv'], beIds: ['be'], durationMs: 1000, warmupMs: 100, controlPeriodMs: 10, stressors: 'builtin', fits: [], notes: [], runs,
    });
    expect(c.rows.map((r) => r.policy)).toEqual(['static', 'shadow']);
    const st = c.rows[0];
    expect(st.host.slowdownP99).toBe(2);
    expect(st.sim.slowdownP99).toBeCloseTo(2.2, 10);
    expect(st.error.slowdownP99).toBeCloseTo(0.1, 10);
    expect(st.slowdownWithinTarget).toBe(true);
    expect(st.host.beThroughputRel).toBe(0.5);
    expect(st.perSeed).toHaveLength(2);
    const sh = c.rows[1];
    expect(sh.error.slowdownP99).toBeCloseTo((1.2 - 1.5) / 1.5, 10);
    expect(sh.slowdownWithinTarget).toBe(false);
    expect(sh.sim.slowdownMean).toBeNull();
    const md = comparisonMarkdown(c);
    expect(md).toContain('| static | kv | 100 / 50.0 (-50%)');
    expect(md).toContain('2.00 / 2.20 (+10%)');
    expect(md).toMatch(/\| shadow \| kv \|.*\| no \|/);
  });
});
