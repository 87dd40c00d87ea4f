// What umbra compare calibrates from alone runs and how it runs the simulated
// side: the second-class memory-intensity fit (its fixed-point law on
// saturating bandwidth curves, which host figures it trusts), the measurement
// path added to simulated latencies, and the simulator restricted to the
// host's knobs.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Capabilities, Snapshot, TaskSample } from '../../policies/platform.js';
import { FIT_TOLERANCE, fitIntensity, hostMemBandwidth, intensityFields } from '../../experiments/compare/fit-memory-intensity.js';
import { runFigures, type RunFigures } from '../../experiments/compare/compare-figures.js';
import { buildComparison, comparisonMarkdown, type CompareRunRecord } from '../../experiments/compare/compare-report.js';
import { HostKnobsPlatform, knobOf, knobsMissingOnHost } from '../../experiments/compare/host-knobs.js';
import { defaultMachine } from '../../sim/machine/machine-description.js';
import { createPolicy } from '../../experiments/policies/policy-source.js';
import { runControlLoop } from '../../experiments/loop/control-loop.js';
import { makePlatform } from '../sim/helpers.js';

describe('memory-intensity fit', () => {
  /** A saturating bandwidth curve through (1, b1): cap x kc / (1 + kc), never above `cap`. */
  const curve = (b1: number, cap: number) => {
    const c = b1 / (cap - b1);
    return (k: number) => (cap * k * c) / (1 + k * c);
  };

  it('law: reaches any target up to 95% of what the curve can carry, within the tolerance, in a few steps', async () => {
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 1e8, max: 1e10, noNaN: true }), fc.double({ min: 2, max: 20, noNaN: true }), fc.double({ min: 0.05, max: 0.95, noNaN: true }), async (b1, capOverB1, share) => {
        const cap = b1 * capOverB1;
        const bw = curve(b1, cap);
        const target = Math.min(cap * 0.95, Math.max(b1 * 1.02, cap * share));
        const r = await fitIntensity(target, bw(1), async (k) => bw(k));
        expect(r.reached).toBe(true);
        expect(Math.abs(r.bytesPerSec / target - 1)).toBeLessThanOrEqual(FIT_TOLERANCE);
        expect(r.bytesPerSec).toBeCloseTo(bw(r.k), 6);
        expect(r.steps).toBeLessThanOrEqual(6);
      }),
    );
  });

  it('a kernel the host runs slower than the preset is scaled down; mlp stays at least 1', async () => {
    const bw = (k: number) => 5e9 * k;
    const r = await fitIntensity(2e9, bw(1), async (k) => bw(k));
    expect(r.k).toBeCloseTo(0.4, 6);
    expect(intensityFields(25, 2, r.k)).toEqual({ apki: 10, mlp: 1 });
  });

  it('a target the simulated memory cannot carry is not reached: the nearest k is kept and it says so', async () => {
    const cap = 10e9;
    const bw = (k: number) => Math.min(cap, 3e9 * k);
    const r = await fitIntensity(20e9, bw(1), async (k) => bw(k));
    expect(r.reached).toBe(false);
    expect(r.bytesPerSec).toBe(cap);
    expect(r.steps).toBeLessThanOrEqual(8);
  });

  it('trusts the memory-bandwidth counter, else only the built-in stream progress (bytes)', () => {
    expect(hostMemBandwidth('stream', { progressPerSec: 2e10, cpuCores: 1 })).toMatchObject({ bytesPerSec: 2e10 });
    expect(hostMemBandwidth('thrash', { progressPerSec: 3e7, cpuCores: 1 })).toBeNull();
    expect(hostMemBandwidth('thrash', { progressPerSec: 3e7, cpuCores: 1, memBandwidthBytesPerSec: 4e9 })).toMatchObject({ bytesPerSec: 4e9, source: expect.stringMatching(/MBM/) });
    expect(hostMemBandwidth('stream', { progressPerSec: 0, cpuCores: 1 })).toBeNull(); // stress-ng: no progress while it runs
    expect(hostMemBandwidth('stream', undefined)).toBeNull();
  });
});

const alloc = { cores: [0], cacheWayMask: 0, bankColours: [], memBandwidthPct: 100, ioWeight: 100, cpuQuotaPct: 100, paused: false };
const reserved = { cores: [], cacheWayMask: 0, bankColours: [], memBandwidthPct: 0, ioWeight: 0 };
const kvSample = (p99Ns: number, meanNs: number): TaskSample => ({
  id: 'kv', class: 'first', state: 'running', cpuTimeNs: 0, cpuCores: 0.2, allocation: alloc, reserved,
  latency: { requests: 10, p50Ns: p99Ns / 4, p95Ns: p99Ns / 2, p99Ns, meanNs, sloP99Ns: 1e6, offeredRps: 1000, completedRps: 1000, queueLength: 0 },
});
const snap = (t: number, s: TaskSample): Snapshot => ({ timeNs: t, windowNs: 10e6, tasks: [s], echoes: [], free: { cores: [], cacheWayMask: 0, bankColours: [] } });

describe('measurement path', () => {
  it('adds the offset to every window p99 (and so to the SLO test) and mean, not to p50', () => {
    const snaps = [snap(10e6, kvSample(300e3, 100e3)), snap(20e6, kvSample(900e3, 200e3))];
    const raw = runFigures(snaps, 0);
    const off = runFigures(snaps, 0, { kv: { p99Ns: 200e3, meanNs: 50e3 } });
    expect(off.fc.kv.p99Ns).toBe(raw.fc.kv.p99Ns! + 200e3);
    expect(off.fc.kv.meanNs).toBe(raw.fc.kv.meanNs! + 50e3);
    expect(off.fc.kv.p50Ns).toBe(raw.fc.kv.p50Ns);
    expect(raw.fc.kv.sloViolationPct).toBe(0);
    expect(off.fc.kv.sloViolationPct).toBe(50); // 900 + 200 us > 1 ms
  });

  it('the table compares the figures with the path and shows the simulated slowdown without it', () => {
    const f = (p99: number): RunFigures => ({ fc: { kv: { p99Ns: p99, p50Ns: p99 / 4, meanNs: null, sloViolationPct: 0, completedRps: 1, offeredRps: 1, cpuCores: 0.1, windows: 1 } }, be: {} });
    const rec = (side: 'host' | 'sim', label: string, figures: RunFigures, figuresWithoutPath?: RunFigures): CompareRunRecord => ({
      side, label, seed: 1, figures, ...(figuresWithoutPath ? { figuresWithoutPath } : {}), sloViolationPct: 0, churnPerSec: 0, appliedByKind: {}, refusedByReason: {}, hostMapping: [], hostLoad: null,
    });
    // host: 300 -> 600 us; simulated 50 -> 150 us, path 250 us: 300 -> 400 us
    const runs = [rec('host', 'alone-kv', f(300e3)), rec('host', 'static', f(600e3)), rec('sim', 'alone-kv', f(300e3), f(50e3)), rec('sim', 'static', f(400e3), f(150e3))];
    const c = buildComparison({
      name: 't', specPath: '/x.yaml', version: '0', machine: defaultMachine(), machineSource: 'test', machineNotes: [], seeds: [1], policies: ['static'],
      fcIds: ['kv'], beIds: [], durationMs: 1000, warmupMs: 0, controlPeriodMs: 10, stressors: 'builtin', fits: [], notes: [], runs,
      paths: [{ task: 'kv', seed: 1, p99Ns: 250e3, meanNs: null, hostAloneP99Ns: 300e3, simAloneP99Ns: 50e3 }],
    });
    const row = c.rows[0];
    expect(row.host.slowdownP99).toBe(2);
    expect(row.sim.slowdownP99).toBeCloseTo(4 / 3, 12);
    expect(row.simSlowdownP99WithoutPath).toBe(3);
    expect(row.errorSlowdownP99WithoutPath).toBeCloseTo(0.5, 12);
    const md = comparisonMarkdown(c);
    expect(md).toMatch(/sim p99 slowdown without the path/);
    expect(md).toMatch(/\| 3\.00 \(\+50%\) \|/);
    expect(md).toMatch(/Measurement path of kv.*seed 1: 300 - 50\.0 = 250 us/);
  });
});

describe('the simulator with the host\'s knobs', () => {
  const scenario = {
    machine: { cores: { count: 4 }, llc: { sizeBytes: '8 MiB', ways: 16 } },
    tasks: [
      { id: 'kv', class: 'first', kernel: 'kv', sloP99Ms: 1, load: { constant: 4000 }, cores: [0, 1] },
      { id: 'be', class: 'second', kernel: 'stream', threads: 2, cores: [2, 3] },
    ],
  };
  const hostLike = (c: Capabilities): Capabilities => ({ ...c, platform: 'hardware', cacheWays: null, memBandwidth: null, bankColours: null, ioWeight: null, maxEchoNs: 20e6 });

  it('offers only what the host has and refuses the rest with the reason; cores and throttles pass', async () => {
    const sim = await makePlatform(scenario);
    const host = hostLike(sim.capabilities());
    expect(knobsMissingOnHost(sim.capabilities(), host)).toEqual(['cacheWays', 'memBandwidth', 'bankColours', 'ioWeight']);
    const p = new HostKnobsPlatform(sim, host);
    const caps = p.capabilities();
    expect(caps.cacheWays).toBeNull();
    expect(caps.bankColours).toBeNull();
    expect(caps.throttle).toBe(true);
    expect(caps.maxEchoNs).toBe(20e6);
    const r = p.apply([
      { kind: 'setCacheWays', task: 'kv', mask: 0xff },
      { kind: 'throttle', task: 'be', cpuPct: 50 },
      { kind: 'reserve', task: 'kv', grant: { resource: 'bankColours', colours: [0] } },
      { kind: 'echo', task: 'kv', durationNs: 50e6 },
      { kind: 'setCores', task: 'kv', cores: [0] },
    ]);
    expect(r.applied.map((a) => a.kind)).toEqual(['throttle', 'setCores']);
    expect(r.refused.map((x) => x.reason)).toEqual([
      expect.stringMatching(/cacheWays is not available on the host/),
      expect.stringMatching(/bankColours is not available on the host/),
      expect.stringMatching(/echo of 50000000 ns exceeds the host's 20000000 ns/),
    ]);
    const after = p.observe().tasks;
    expect(after.find((t) => t.id === 'kv')!.allocation.cores).toEqual([0]);
    expect(after.find((t) => t.id === 'kv')!.allocation.cacheWayMask).toBe(0);
    expect(after.find((t) => t.id === 'be')!.allocation.cpuQuotaPct).toBe(50);
  });

  it('every action kind maps to the knob it needs', () => {
    expect(knobOf({ kind: 'warm', task: 'x', resource: 'cores', budgetNs: 1 })).toBe('warm');
    expect(knobOf({ kind: 'release', task: 'x', grant: { resource: 'cores', cores: [1] } })).toBeNull();
    expect(knobOf({ kind: 'release', task: 'x', grant: { resource: 'memBandwidthPct', pct: 10 } })).toBe('memBandwidth');
    expect(knobOf({ kind: 'pause', task: 'x' })).toBe('freezer');
    expect(knobOf({ kind: 'migrate', task: 'x', cores: [1] })).toBe('migrate');
  });

  it('the static partition, given the host\'s knobs, partitions cores only', async () => {
    const run = async (wrap: boolean) => {
      const sim = await makePlatform(scenario);
      const p = wrap ? new HostKnobsPlatform(sim, hostLike(sim.capabilities())) : sim;
      const snaps: Snapshot[] = [];
      await runControlLoop(p, await createPolicy({ name: 'static', label: 'static', knobs: {} }), { durationNs: 100e6, periodNs: 10e6, onWindow: (s) => snaps.push(s) });
      return snaps[snaps.length - 1].tasks.find((t) => t.id === 'kv')!.allocation.cacheWayMask;
    };
    expect(await run(false)).not.toBe(0); // the full simulator gives kv its ways
    expect(await run(true)).toBe(0); // with the host's knobs it shares the LLC, as on the host
  });
});
