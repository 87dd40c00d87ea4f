// The contention solver runs its rounds on one task of each set of identical
// ones (copies of a job) and the LLC and DRAM models count it once per copy:
// the answers must be those of solving every copy apart, the models must see
// each set once, and copies that stop being identical must part. The IO
// device's weighted max-min share, rewritten without work arrays, must give
// what it gave before.
import { describe, expect, it } from 'vitest';
import { analyticDram, ContentionSolver, type ContentionAnswer, type ContentionTask, type DramSolver } from '../../sim/machine/contention.js';
import { KERNELS } from '../../sim/workloads/kernels/index.js';
import { profileFor } from '../../sim/llc/profile-cache.js';
import { MACHINE_DEFAULT_DRAM } from '../../sim/dram/dram-config.js';

const WAYS = 16;
const SETS = (32 * 1024 * 1024) / 64 / WAYS;
const machine = { freqGHz: 3, ways: WAYS, lineBytes: 64, ioBandwidthBytesPerSec: 5e7 };

/** `copies` copies of each of five kinds of job, interleaved, on one core each. */
function tasks(copies: number, distinct: boolean): ContentionTask[] {
  const kinds = ['stream', 'chase', 'thrash', 'compute', 'io'];
  const out: ContentionTask[] = [];
  for (let c = 0; c < copies; c++) {
    for (const [k, name] of kinds.entries()) {
      const preset = KERNELS[name];
      // distinct: a CPI a hair apart on each, so no two tasks are identical
      const kernel = { ...preset, cpiCore: preset.cpiCore * (distinct ? 1 + (c * kinds.length + k) * 1e-12 : 1) };
      out.push({ id: `${name}${c}`, kernel, profile: profileFor(preset.pattern, 64, SETS, WAYS), cpuCores: 1, wayMask: 0, colours: null, mbaPct: 100, ioWeight: 100, occupancyWays: 0.5, extraMemBytesPerSec: 0 });
    }
  }
  return out;
}

/** The DRAM model, recording how many streams and copies each call was given. */
function recordingDram(): { dram: DramSolver; calls: { streams: number; copies: number }[] } {
  const inner = analyticDram(MACHINE_DEFAULT_DRAM);
  const calls: { streams: number; copies: number }[] = [];
  return {
    calls,
    dram: (streams) => {
      calls.push({ streams: streams.length, copies: streams.reduce((s, x) => s + (x.copies ?? 1), 0) });
      return inner(streams);
    },
  };
}

const snapshot = (answers: ContentionAnswer[]) => answers.map((a) => ({ ...a }));

describe('contention solver: copies of a job solved once', () => {
  it('answers equal those of every copy solved apart; the DRAM model sees each set once, with its copies', () => {
    const same = recordingDram();
    const apart = recordingDram();
    const grouped = snapshot(new ContentionSolver(machine, same.dram).solve(tasks(6, false)).answers);
    const each = snapshot(new ContentionSolver(machine, apart.dram).solve(tasks(6, true)).answers);
    expect(grouped).toHaveLength(30);
    grouped.forEach((a, i) => {
      for (const key of ['cpi', 'instructionsPerSec', 'missRatio', 'targetOccupancyWays', 'memReadBytesPerSec', 'dramLatencyNs', 'ioBytesPerSec', 'cpuUsable'] as const) {
        expect(Math.abs(a[key] - each[i][key]), `task ${i} ${key}`).toBeLessThanOrEqual(1e-6 * Math.max(1e-9, Math.abs(each[i][key])));
      }
    });
    // (the IO jobs share the device: the check covers the max-min share with copies)
    expect(grouped[4].cpuUsable).toBeLessThan(1);
    for (const c of same.calls) expect(c).toEqual({ streams: 5, copies: 30 });
    for (const c of apart.calls) expect(c).toEqual({ streams: 30, copies: 30 });
  });

  it('a copy whose inputs move leaves its set: its answer moves, the others stay as a set', () => {
    const rec = recordingDram();
    const solver = new ContentionSolver(machine, rec.dram);
    const ts = tasks(3, false);
    const before = snapshot(solver.solve(ts).answers);
    ts[5] = { ...ts[5], cpuCores: 0.5 }; // the second stream job gets half a core
    rec.calls.length = 0;
    const after = snapshot(solver.solve(ts).answers);
    expect(rec.calls.length).toBeGreaterThan(0);
    for (const c of rec.calls) expect(c).toEqual({ streams: 6, copies: 15 });
    expect(after[5].instructionsPerSec).toBeLessThan(0.75 * before[5].instructionsPerSec);
    expect(after[0].instructionsPerSec).toBeCloseTo(after[10].instructionsPerSec, 6);
    expect(after[0].instructionsPerSec).toBeGreaterThan(0.9 * before[0].instructionsPerSec);
  });
});

describe('weighted max-min share of the IO device', () => {
  /** The allocation as first written (arrays of open and satisfied demands, rebuilt each round), each copy listed. */
  function reference(demand: number[], weight: number[], capacity: number): number[] {
    const alloc = new Array<number>(demand.length).fill(0);
    let left = capacity;
    let open = demand.map((_, i) => i).filter((i) => demand[i] > 0);
    while (open.length > 0 && left > 1e-9) {
      const wSum = open.reduce((s, i) => s + weight[i], 0);
      const satisfied = open.filter((i) => demand[i] - alloc[i] <= (left * weight[i]) / wSum);
      if (satisfied.length === 0) {
        for (const i of open) alloc[i] += (left * weight[i]) / wSum;
        break;
      }
      for (const i of satisfied) {
        left -= demand[i] - alloc[i];
        alloc[i] = demand[i];
      }
      open = open.filter((i) => !satisfied.includes(i));
    }
    return alloc;
  }

  it('equals the reference on every copy listed, whatever the demands, weights and copies', async () => {
    const fc = (await import('fast-check')).default;
    const { weightedMaxMin } = await import('../../sim/machine/contention.js');
    fc.assert(
      fc.property(
        fc.array(fc.record({ demand: fc.oneof(fc.constant(0), fc.double({ min: 1, max: 1e9, noNaN: true })), weight: fc.integer({ min: 1, max: 1000 }), copies: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 12 }),
        fc.double({ min: 0, max: 5e9, noNaN: true }),
        (entries, capacity) => {
          const got = weightedMaxMin(
            entries.map((e) => e.demand),
            entries.map((e) => e.weight),
            capacity,
            entries.map((e) => e.copies),
          );
          const listed = entries.flatMap((e) => Array.from({ length: e.copies }, () => e));
          const want = reference(
            listed.map((e) => e.demand),
            listed.map((e) => e.weight),
            capacity,
          );
          let k = 0;
          entries.forEach((e, i) => {
            for (let c = 0; c < e.copies; c++) expect(Math.abs(got[i] - want[k++])).toBeLessThanOrEqual(1e-9 * Math.max(1, want[k - 1]));
          });
          // without copies: the same arithmetic, bit for bit
          const plain = weightedMaxMin(
            listed.map((e) => e.demand),
            listed.map((e) => e.weight),
            capacity,
          );
          expect(Array.from(plain)).toEqual(want);
        },
      ),
      { numRuns: 200, seed: 28 },
    );
  });
});
