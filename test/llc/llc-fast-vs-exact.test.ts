import { describe, expect, it } from 'vitest';
import { validateCase, shippedValidationCases, type ValidationCase } from '../../sim/llc/llc-validate.js';
import type { PatternSpec } from '../../sim/workloads/kernel.js';

const MiB = 1024 * 1024;
// A 4 MiB 16-way LLC keeps exact replay quick; working sets are scaled to it.
const small = { sizeBytes: 4 * MiB, ways: 16, lineBytes: 64 };
const zipf = (mib: number, alpha: number): PatternSpec => ({ kind: 'zipf', workingSetBytes: mib * MiB, alpha });
const uniform = (mib: number): PatternSpec => ({ kind: 'uniform', workingSetBytes: mib * MiB });
const seq = (mib: number): PatternSpec => ({ kind: 'sequential', workingSetBytes: mib * MiB });
const ways = (first: number, n: number) => ((1 << n) - 1) << first;

// Mixes not among the shipped cases: other skews, sizes, rates and mask layouts.
const cases: ValidationCase[] = [
  { name: 'zipf 1.1 alone in 5 ways', geometry: small, tasks: [{ pattern: zipf(6, 1.1), rate: 1, mask: ways(0, 5) }] },
  {
    name: 'two zipf tasks and a streamer sharing',
    geometry: small,
    tasks: [
      { pattern: zipf(3, 0.7), rate: 1, mask: 0 },
      { pattern: zipf(5, 1.0), rate: 0.5, mask: 0 },
      { pattern: seq(40), rate: 2, mask: 0 },
    ],
  },
  {
    name: 'uniform tasks in disjoint and shared partitions',
    geometry: small,
    tasks: [
      { pattern: uniform(2), rate: 1, mask: ways(0, 4) },
      { pattern: uniform(8), rate: 3, mask: ways(4, 12) },
      { pattern: { kind: 'mix', parts: [{ weight: 0.7, pattern: zipf(1, 0.9) }, { weight: 0.3, pattern: uniform(10) }] }, rate: 1, mask: ways(4, 12) },
    ],
  },
  {
    name: 'nested masks with a sparse task',
    geometry: small,
    tasks: [
      { pattern: zipf(4, 0.8), rate: 1, mask: 0 },
      { pattern: uniform(0.25), rate: 0.1, mask: 0 },
      { pattern: uniform(12), rate: 2, mask: ways(0, 6) },
    ],
  },
];

describe('fast LLC model agrees with exact LRU replay', () => {
  for (const c of cases) {
    it(`${c.name}: every task within 3 percentage points of miss ratio`, () => {
      const r = validateCase(c, 7);
      for (const t of r.tasks) {
        expect(t.absErrorPct, `${t.label}: exact ${(t.exactMissRatio * 100).toFixed(2)}% fast ${(t.fastMissRatio * 100).toFixed(2)}%`).toBeLessThanOrEqual(3);
      }
    });
  }

  it('shipped workloads on the default 32 MiB LLC: a co-location with reserved ways', () => {
    const shipped = shippedValidationCases({ sizeBytes: 32 * MiB, ways: 16, lineBytes: 64 });
    const c = shipped.find((x) => x.name.includes('reserved ways'))!;
    const r = validateCase(c, 3);
    for (const t of r.tasks) expect(t.absErrorPct, t.label).toBeLessThanOrEqual(3);
  });

  it('a model that ignored sharing would be caught: alone-curve at full capacity is far from the shared truth', () => {
    // guards the test itself: the shared case must differ from "each task alone with all ways"
    const c = cases[1];
    const shared = validateCase(c, 7);
    const alone = validateCase({ ...c, tasks: [c.tasks[0]] }, 7);
    expect(Math.abs(shared.tasks[0].exactMissRatio - alone.tasks[0].exactMissRatio) * 100).toBeGreaterThan(5);
  });
});
