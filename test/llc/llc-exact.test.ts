import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LlcExact } from '../../sim/llc/llc-exact.js';

/** Obviously-correct reference: per set, a list of lines in recency order (index 0 = MRU). */
class ReferenceLru {
  private sets: { block: number; way: number; task: number }[][];
  constructor(
    private nSets: number,
    private ways: number,
  ) {
    this.sets = Array.from({ length: nSets }, () => []);
  }
  access(task: number, block: number, mask: number): boolean {
    const set = this.sets[block % this.nSets];
    const i = set.findIndex((l) => l.block === block);
    if (i >= 0) {
      const [l] = set.splice(i, 1);
      set.unshift(l);
      return true;
    }
    const used = new Set(set.map((l) => l.way));
    let way = -1;
    for (let w = 0; w < this.ways; w++) if ((mask >>> w) & 1 && !used.has(w)) { way = w; break; }
    if (way < 0) {
      // LRU line whose way is in the mask
      for (let j = set.length - 1; j >= 0; j--) {
        if ((mask >>> set[j].way) & 1) {
          way = set[j].way;
          set.splice(j, 1);
          break;
        }
      }
    }
    set.unshift({ block, way, task });
    return false;
  }
  occupancy(task: number): number {
    return this.sets.reduce((n, s) => n + s.filter((l) => l.task === task).length, 0);
  }
}

function contiguousMask(first: number, count: number): number {
  return ((1 << count) - 1) << first;
}

const geometryArb = fc.record({
  sets: fc.constantFrom(1, 2, 3, 4, 6, 8),
  ways: fc.integer({ min: 1, max: 20 }),
});

describe('LlcExact', () => {
  it('agrees with a reference LRU on hits, misses and occupancy under random masks', () => {
    fc.assert(
      fc.property(
        geometryArb.chain(({ sets, ways }) =>
          fc.record({
            sets: fc.constant(sets),
            ways: fc.constant(ways),
            masks: fc.array(
              fc.integer({ min: 0, max: ways - 1 }).chain((first) => fc.integer({ min: 1, max: ways - first }).map((n) => contiguousMask(first, n))),
              { minLength: 3, maxLength: 3 },
            ),
            accesses: fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: sets * ways * 3 })), { maxLength: 400 }),
          }),
        ),
        ({ sets, ways, masks, accesses }) => {
          const llc = new LlcExact({ sizeBytes: sets * ways * 64, ways, lineBytes: 64 }, 3);
          const ref = new ReferenceLru(sets, ways);
          masks.forEach((m, t) => llc.setTaskMask(t, m));
          for (const [task, block] of accesses) {
            expect(llc.access(task, block)).toBe(ref.access(task, block, masks[task]));
          }
          for (let t = 0; t < 3; t++) expect(llc.occupancyLines[t]).toBe(ref.occupancy(t));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never holds more lines in a set than its ways, and keeps each task inside its mask', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16 }).chain((ways) =>
          fc.record({
            ways: fc.constant(ways),
            split: fc.integer({ min: 1, max: Math.max(1, ways - 1) }),
            accesses: fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 5000 })), { maxLength: 2000 }),
          }),
        ),
        ({ ways, split, accesses }) => {
          const sets = 8;
          const llc = new LlcExact({ sizeBytes: sets * ways * 64, ways, lineBytes: 64 }, 2);
          const m0 = ways === 1 ? 1 : contiguousMask(0, split);
          const m1 = ways === 1 ? 1 : contiguousMask(split, ways - split);
          llc.setTaskMask(0, m0);
          llc.setTaskMask(1, m1);
          for (const [t, b] of accesses) llc.access(t, b);
          for (let s = 0; s < sets; s++) {
            expect(llc.validLinesInSet(s)).toBeLessThanOrEqual(ways);
            for (const w of llc.linesOfTaskInSet(0, s)) expect((m0 >>> w) & 1).toBe(1);
            for (const w of llc.linesOfTaskInSet(1, s)) expect((m1 >>> w) & 1).toBe(1);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('batch replay equals access-by-access replay', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1 << 16 }), { minLength: 1, maxLength: 3000 }), fc.integer({ min: 1, max: 16 }), (blocks, nWays) => {
        const geo = { sizeBytes: 64 * 16 * 64, ways: 16, lineBytes: 64 };
        const a = new LlcExact(geo, 2);
        const b = new LlcExact(geo, 2);
        a.setTaskMask(0, contiguousMask(0, nWays));
        b.setTaskMask(0, contiguousMask(0, nWays));
        const arr = Int32Array.from(blocks);
        const hitsBatch = a.accessBatch(0, arr);
        let hitsOne = 0;
        for (const x of blocks) if (b.access(0, x)) hitsOne++;
        expect(hitsBatch).toBe(hitsOne);
        expect(a.occupancyLines[0]).toBe(b.occupancyLines[0]);
      }),
      { numRuns: 100 },
    );
  });

  it('a cyclic working set that fits hits after the first pass; one line too many thrashes LRU', () => {
    const llc = new LlcExact({ sizeBytes: 4 * 4 * 64, ways: 4, lineBytes: 64 }, 1);
    const fits = Int32Array.from({ length: 16 }, (_, i) => i);
    llc.accessBatch(0, fits);
    expect(llc.accessBatch(0, fits)).toBe(16);
    const thrash = new LlcExact({ sizeBytes: 4 * 4 * 64, ways: 4, lineBytes: 64 }, 1);
    const tooBig = Int32Array.from({ length: 20 }, (_, i) => i);
    thrash.accessBatch(0, tooBig);
    expect(thrash.accessBatch(0, tooBig)).toBe(0);
  });

  it('rejects impossible geometries and empty masks', () => {
    expect(() => new LlcExact({ sizeBytes: 1000, ways: 16, lineBytes: 64 })).toThrow(/whole number of sets/);
    expect(() => new LlcExact({ sizeBytes: 4096, ways: 33, lineBytes: 64 })).toThrow(/ways/);
    const llc = new LlcExact({ sizeBytes: 4096, ways: 4, lineBytes: 64 });
    expect(() => llc.setTaskMask(0, 0b10000)).toThrow(/no way/);
  });
});

describe('LlcExact native batch loop', () => {
  const native = (() => {
    try {
      return new LlcExact({ sizeBytes: 64 * 16 * 64, ways: 16, lineBytes: 64 }, 1, 'native').implementation === 'native';
    } catch {
      return false;
    }
  })();
  it.skipIf(!native)('makes exactly the decisions of the JS loop, and the two can be mixed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.array(fc.integer({ min: 0, max: 1 << 14 }), { maxLength: 300 })), { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 3, maxLength: 3 }),
        (ways, batches, maskWays) => {
          const geo = { sizeBytes: 32 * ways * 64, ways, lineBytes: 64 };
          const js = new LlcExact(geo, 3, 'js');
          const nat = new LlcExact(geo, 3, 'native');
          const mixed = new LlcExact(geo, 3, 'native');
          maskWays.forEach((n, t) => {
            const m = contiguousMask(Math.max(0, ways - Math.min(n, ways)), Math.min(n, ways));
            js.setTaskMask(t, m);
            nat.setTaskMask(t, m);
            mixed.setTaskMask(t, m);
          });
          batches.forEach(([task, blocks], k) => {
            const arr = Int32Array.from(blocks);
            const a = js.accessBatch(task, arr);
            const b = nat.accessBatch(task, arr);
            // every other batch of `mixed` goes access by access through the JS code
            let c = 0;
            if (k % 2) c = mixed.accessBatch(task, arr);
            else for (const x of blocks) if (mixed.access(task, x)) c++;
            expect(b).toBe(a);
            expect(c).toBe(a);
          });
          for (let t = 0; t < 3; t++) {
            expect(nat.occupancyLines[t]).toBe(js.occupancyLines[t]);
            expect(mixed.occupancyLines[t]).toBe(js.occupancyLines[t]);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
