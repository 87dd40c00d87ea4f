// umbra calibrate's core-pair measurement: grouping laws on hand-made pair
// slowdowns, the mapping into the machine description (host core ids ->
// machine indices; left off when no pair interferes or the host was busy),
// and the measurement itself on this host (structure only: its figures depend
// on the host).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GROUP_THRESHOLD, groupsFromPairs, measureCoreInterference } from '../../runner/calibrate/core-interference.js';
import { measureLoadedLatency } from '../../runner/calibrate/loaded-latency.js';
import { availableParallelism } from 'node:os';
import { measureStreamStressor } from '../../runner/calibrate/stressor-bandwidth.js';
import { machineFromCalibration, parseCalibration, type CalibrationInput } from '../../runner/calibrate/machine-from-calibration.js';
import { parseMachineDescription } from '../../sim/machine/machine-description.js';
import { nativeAddon } from '../../native/addon.js';

function cal(over: Partial<CalibrationInput> = {}): CalibrationInput {
  return {
    cores: 4,
    cacheLevels: [{ sizeBytes: 32 << 10, latencyNs: 1.1 }],
    dramLatencyNs: 120,
    streamBandwidthBytesPerSec: 20e9,
    computeOpsPerSecPerCore: 2e9,
    sysfsCaches: [{ level: 3, type: 'Unified', sizeBytes: 16 << 20, ways: 16, lineBytes: 64 }],
    cpuinfoMHz: 2000,
    ...over,
  };
}

const pair = (a: number, b: number, slowdown: number) => ({ cores: [a, b] as [number, number], slowdown, pairedOpsPerSec: [1, 1] as [number, number] });

describe('core groups from pair slowdowns', () => {
  it('links pairs above the threshold into groups and averages their slowdown', () => {
    const r = groupsFromPairs([pair(0, 1, 0.8), pair(0, 2, 0.01), pair(1, 2, 0.02), pair(2, 3, 0.6), pair(1, 3, 0.03), pair(0, 3, 0.0)]);
    expect(r.groups).toEqual([[0, 1], [2, 3]]);
    expect(r.computeSlowdown).toBeCloseTo(0.7, 12);
    expect(groupsFromPairs([pair(0, 1, 0.05)])).toEqual({ groups: [], computeSlowdown: 0 });
  });

  it('law: every core is in at most one group, and two cores share a group exactly when a chain of linked pairs joins them', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 7 }), fc.array(fc.double({ min: -0.05, max: 1.5, noNaN: true }), { minLength: 21, maxLength: 21 }), (n, xs) => {
        const pairs = [];
        let k = 0;
        for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) pairs.push(pair(a, b, xs[k++]));
        const { groups, computeSlowdown } = groupsFromPairs(pairs);
        const seen = groups.flat();
        expect(new Set(seen).size).toBe(seen.length);
        // reachability by linked pairs
        const linked = pairs.filter((p) => p.slowdown > GROUP_THRESHOLD);
        const reach = (from: number) => {
          const out = new Set([from]);
          for (let grew = true; grew; ) {
            grew = false;
            for (const p of linked) {
              const [a, b] = p.cores;
              if (out.has(a) !== out.has(b)) {
                out.add(a);
                out.add(b);
                grew = true;
              }
            }
          }
          return out;
        };
        for (let a = 0; a < n; a++) {
          const g = groups.find((x) => x.includes(a));
          const r = reach(a);
          if (r.size === 1) expect(g).toBeUndefined();
          else expect(new Set(g)).toEqual(r);
        }
        if (linked.length) expect(computeSlowdown).toBeGreaterThan(GROUP_THRESHOLD);
        else expect(computeSlowdown).toBe(0);
      }),
    );
  });
});

describe('core interference in the machine description', () => {
  const measured = (over: Record<string, unknown> = {}) => ({
    kernel: 'native-compute',
    durationMs: 250,
    repeats: 3,
    thresholdSlowdown: GROUP_THRESHOLD,
    aloneOpsPerSec: {},
    pairs: [pair(4, 5, 0.9), pair(4, 6, 0), pair(4, 7, 0), pair(5, 6, 0), pair(5, 7, 0), pair(6, 7, 0.7)],
    groups: [[4, 5], [6, 7]],
    computeSlowdown: 0.8,
    unmeasuredCores: [],
    backgroundCores: 0.02,
    disturbed: false,
    ...over,
  });

  it('writes the groups as machine core indices, and the simulator loads them', () => {
    const m = machineFromCalibration(cal({ coreIds: [4, 5, 6, 7], coreInterference: measured() as CalibrationInput['coreInterference'] }));
    expect(m.machine.cores.interference).toEqual({ groups: [[0, 1], [2, 3]], computeSlowdown: 0.8 });
    expect(parseMachineDescription(m.description).cores.interference).toEqual({ groups: [[0, 1], [2, 3]], computeSlowdown: 0.8 });
    expect(m.notes.join('\n')).toMatch(/cores\.interference groups \[\[0,1\],\[2,3\]\] \(host cores \[\[4,5\],\[6,7\]\]\)/);
  });

  it('leaves the field off, saying why, when no pair interferes, when the host was busy, or when nothing was measured', () => {
    const none = machineFromCalibration(cal({ coreInterference: measured({ groups: [], computeSlowdown: 0, pairs: [pair(0, 1, 0.01)] }) as CalibrationInput['coreInterference'] }));
    expect(none.machine.cores.interference).toBeUndefined();
    expect(none.notes.join('\n')).toMatch(/left off: no pair of cores slowed the compute kernel by more than 10\.0%.*largest pair slowdown 1\.0% on host cores 0,1/);
    const busy = machineFromCalibration(cal({ coreIds: [4, 5, 6, 7], coreInterference: measured({ disturbed: true, backgroundCores: 0.9 }) as CalibrationInput['coreInterference'] }));
    expect(busy.machine.cores.interference).toBeUndefined();
    expect(busy.notes.join('\n')).toMatch(/left off: other processes kept the host busy.*0\.9 cores/);
    const old = machineFromCalibration(cal());
    expect(old.machine.cores.interference).toBeUndefined();
    expect(old.notes.join('\n')).toMatch(/pairs of cores not measured/);
    const na = machineFromCalibration(cal({ coreInterference: { unavailable: 'no addon' } }));
    expect(na.notes.join('\n')).toMatch(/not measured \(no addon\)/);
  });

  it('a calibration file with a malformed pair measurement is an input error naming the field', () => {
    expect(() => parseCalibration({ schema: 'umbra-host-calibration/1', ...cal(), coreInterference: { groups: 'all', computeSlowdown: 1, pairs: [], thresholdSlowdown: 0.1 } }, 'cal.json')).toThrow(/cal\.json.*coreInterference/);
  });
});

describe('measured on this host', () => {
  it.skipIf(!nativeAddon())('the pair measurement covers every pair of cores with positive rates and groups consistent with its pairs', async () => {
    const r = await measureCoreInterference({ cores: [0, 1], durationMs: 40, repeats: 1 });
    if ('unavailable' in r) throw new Error(r.unavailable);
    expect(r.pairs.map((p) => p.cores)).toEqual([[0, 1]]);
    expect(Object.values(r.aloneOpsPerSec).every((x) => x > 1e7)).toBe(true);
    expect(r.pairs[0].pairedOpsPerSec.every((x) => x > 1e7)).toBe(true);
    expect(groupsFromPairs(r.pairs)).toEqual({ groups: r.groups, computeSlowdown: r.computeSlowdown });
    expect(r.backgroundCores).toBeGreaterThanOrEqual(0);
  }, 30_000);

  it.skipIf(!nativeAddon() || availableParallelism() < 2)('the latency under load: a chase alone and next to a copy on the other core, with the copy\'s bandwidth', async () => {
    const r = await measureLoadedLatency({ chaseCore: 0, copyCore: 1, workingSetBytes: 64 << 20, copyBytes: 64 << 20, quick: true });
    if ('unavailable' in r) throw new Error(r.unavailable);
    expect(r.aloneNs).toBeGreaterThan(5);
    expect(r.loadedNs).toBeGreaterThan(5);
    expect(r.inflation).toBeCloseTo(r.loadedNs / r.aloneNs, 9);
    expect(r.copyBytesPerSec).toBeGreaterThan(1e8);
    expect(r.backgroundCores).toBeGreaterThanOrEqual(0);
    expect(await measureLoadedLatency({ chaseCore: 0, copyCore: 0 })).toEqual({ unavailable: expect.stringMatching(/two cores/) });
  }, 60_000);

  it('the built-in stream stressor reports its bandwidth alone on a core', async () => {
    const r = await measureStreamStressor({ core: 0, workingSetBytes: 16 << 20, seconds: 0.6, warmupSeconds: 0.2 });
    expect(r.bytesPerSec).toBeGreaterThan(1e8);
    expect(r.pinned).toBe(!!nativeAddon());
  }, 30_000);
});
