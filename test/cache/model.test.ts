// cachegrind's cache model on hand-built traces (outcomes derived by hand from
// the rules in cg_sim.c) and against a plain reference model.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { replayLackeyText } from '../../sim/cache/replay.js';
import { CachegrindLruCache } from '../../sim/cache/lru-cache.js';
import { CachegrindHierarchy } from '../../sim/cache/cachegrind-hierarchy.js';
import type { CacheConfig } from '../../sim/cache/cache-config.js';
import { InputError } from '../../util/errors.js';
import { ReferenceCache, ReferenceHierarchy, lackeyText, type Kind } from './reference-model.js';

// D1: 4 sets x 2 ways x 16 B lines; set = (addr >> 4) & 3.
// LL: 16 sets x 4 ways x 16 B lines; set = (addr >> 4) & 15.
const SMALL = {
  I1: { sizeBytes: 128, ways: 2, lineBytes: 16 },
  D1: { sizeBytes: 128, ways: 2, lineBytes: 16 },
  LL: { sizeBytes: 1024, ways: 4, lineBytes: 16 },
};

describe('cachegrind cache model, hand-derived', () => {
  it('evicts the least recently used way, not the oldest inserted', () => {
    // Blocks 4, 8, 12 (addresses 0x40, 0x80, 0xc0) all map to D1 set 0.
    // 0x40 miss [4]; 0x80 miss [8,4]; 0x40 hit [4,8]; 0xc0 miss evicts 8 -> [12,4];
    // 0x80 miss evicts 4 -> [8,12]; 0x40 miss -> [4,8]. FIFO would have hit on the 5th.
    const r = replayLackeyText([' L 40,4', ' L 80,4', ' L 40,4', ' L c0,4', ' L 80,4', ' L 40,4'].join('\n'), SMALL);
    expect(r.counts.Dr).toBe(6);
    expect(r.counts.D1mr).toBe(5);
    // LL sees only the 5 D1 misses: blocks 4, 8, 12, 8, 4 in separate LL sets: 3 misses, 2 hits.
    expect(r.summary.LL).toEqual({ refs: 5, misses: 3 });
    expect(r.summary.I1).toEqual({ refs: 0, misses: 0 });
  });

  it('counts a line-straddling access once, looks up both lines, and repeats both in LL', () => {
    const lines = [
        ' L 4e,4', // bytes 0x4e..0x51: blocks 4 (set 0) and 5 (set 1) both miss -> one access, one miss; LL: one ref, one miss
        ' L 50,4', // block 5: hit (the straddle loaded it)
        ' L 40,2', // block 4: hit
        ' L c0,1', // block 12, D1 set 0: miss, LL miss
        ' L 140,1', // block 20, D1 set 0: miss, evicts block 4 from D1; LL miss
        ' L d0,1', // block 13, D1 set 1: miss, LL miss
        ' L 150,1', // block 21, D1 set 1: miss, evicts block 5 from D1; LL set 5 now [21,5]: miss
        ' L 54,1', // block 5: D1 miss, LL hit (the straddle's LL lookup installed block 5)
        ' L 5e,4', // blocks 5 (D1 hit) and 6 (D1 miss): one miss; LL: block 5 hit, block 6 miss -> one LL miss
    ];
    const upToFirstStraddle = replayLackeyText(lines.slice(0, 3).join('\n'), SMALL);
    expect(upToFirstStraddle.counts).toMatchObject({ Dr: 3, D1mr: 1, DLmr: 1 });
    const upToLlHit = replayLackeyText(lines.slice(0, 8).join('\n'), SMALL);
    expect(upToLlHit.counts).toMatchObject({ Dr: 8, D1mr: 6, DLmr: 5 });
    const r = replayLackeyText(lines.join('\n'), SMALL);
    expect(r.counts.Dr).toBe(9);
    expect(r.counts.D1mr).toBe(7);
    expect(r.counts.DLmr).toBe(6);
  });

  it('counts a modify as one read and writes like reads (write-allocate)', () => {
    const r = replayLackeyText([' M 40,4', ' S 40,4', ' S 80,8', ' L 80,8'].join('\n'), SMALL);
    // M: Dr=1, misses; S 40: hit; S 80: Dw miss (allocates); L 80: hit.
    expect(r.counts).toMatchObject({ Dr: 2, D1mr: 1, Dw: 2, D1mw: 1 });
    expect(r.summary.D1).toEqual({ refs: 4, misses: 2 });
  });

  it('looks LL up only on an L1 miss, with instructions and data sharing LL', () => {
    const r = replayLackeyText(['I  1000,4', 'I  1000,4', 'I  1004,3', 'I  2000,4', ' L 2000,4', ' L 2000,4'].join('\n'), SMALL);
    // I1: 0x1000 miss, hit, hit (same line), 0x2000 miss -> 4 refs 2 misses.
    // D1: 0x2000 miss, hit. LL: I 0x1000 miss, I 0x2000 miss, D 0x2000 hit.
    expect(r.summary).toEqual({ I1: { refs: 4, misses: 2 }, D1: { refs: 2, misses: 1 }, LL: { refs: 3, misses: 2 } });
    expect(r.counts).toMatchObject({ ILmr: 2, DLmr: 0 });
  });

  it('starts with block 0 resident in set 0, as cachegrind zero-initialises its tags', () => {
    const r = replayLackeyText([' L 8,4', ' L 100,4'].join('\n'), SMALL);
    // 0x8 is block 0 -> hit; 0x100 is block 16 (set 0) -> miss.
    expect(r.summary.D1).toEqual({ refs: 2, misses: 1 });
  });

  it('caps data accesses at the smallest line size (dirty helpers such as fxsave)', () => {
    const cfg = { I1: { sizeBytes: 1024, ways: 2, lineBytes: 64 }, D1: { sizeBytes: 1024, ways: 2, lineBytes: 64 }, LL: { sizeBytes: 4096, ways: 4, lineBytes: 64 } };
    const r = replayLackeyText([' S 1040,512', ' L 1080,1'].join('\n'), cfg);
    // 512 B capped to 64 B: touches only block 0x41; block 0x42 is still a miss.
    expect(r.summary.D1).toEqual({ refs: 2, misses: 2 });
  });

  it('rejects an access spanning three lines (cachegrind aborts) naming file:line', () => {
    // An instruction is not capped: 19 bytes from 0x4e span blocks 4, 5, 6 of 16 B lines.
    expect(() => replayLackeyText(['I  40,4', 'I  4e,19'].join('\n'), SMALL, 't.trace')).toThrow(InputError);
    expect(() => replayLackeyText(['I  40,4', 'I  4e,19'].join('\n'), SMALL, 't.trace')).toThrow(/t\.trace:2: .*more than two/);
  });

  it('keeps 64-bit addresses exact (no aliasing of addresses 2^53 apart)', () => {
    const r = replayLackeyText([' L 40,4', ' L 20000000000040,4', ' L 40,4', ' L 20000000000040,4', ' L ffffffffff600000,8', ' L ffffffffff600004,4'].join('\n'), SMALL);
    // Same D1 set, different blocks: miss, miss, hit, hit; the vsyscall-page pair: miss then hit.
    expect(r.summary.D1).toEqual({ refs: 6, misses: 3 });
  });

  it('skips valgrind messages and blank lines, and counts lines', () => {
    const r = replayLackeyText(['==123== Lackey, an example Valgrind tool', '--123-- warning: something', '', 'I  1000,4', '==123== '].join('\n'), SMALL);
    expect(r.lines).toBe(5);
    expect(r.accesses).toBe(1);
    expect(r.summary.I1.refs).toBe(1);
  });
});

const configArb: fc.Arbitrary<CacheConfig> = fc
  .record({ setsLog2: fc.integer({ min: 0, max: 3 }), ways: fc.integer({ min: 1, max: 5 }), lineLog2: fc.integer({ min: 4, max: 6 }) })
  .filter(({ setsLog2, ways }) => (1 << setsLog2) * ways > 1) // cachegrind requires size > line
  .map(({ setsLog2, ways, lineLog2 }) => ({ sizeBytes: (1 << setsLog2) * ways * (1 << lineLog2), ways, lineBytes: 1 << lineLog2 }));

describe('cachegrind cache model, laws', () => {
  it('never holds more distinct lines in a set than its associativity, and hits iff the line is among the A most recently used of its set', () => {
    fc.assert(
      fc.property(configArb, fc.array(fc.integer({ min: 0, max: 2047 }), { minLength: 1, maxLength: 300 }), (cfg, addrs) => {
        const cache = new CachegrindLruCache('D1', cfg);
        const ref = new ReferenceCache(cfg);
        for (const addr of addrs) {
          const miss = cache.refIsMiss(addr, 1);
          expect(miss).toBe(ref.access(addr, 1));
          const set = cache.setOf(cache.blockOf(addr));
          expect(cache.blocksInSet(set).length).toBeLessThanOrEqual(cfg.ways);
          expect(cache.blocksInSet(set)[0]).toBe(cache.blockOf(addr));
        }
      }),
    );
  });

  it('replays any lackey trace like the reference hierarchy (straddles, LL on miss, modify as read)', () => {
    const event = fc.record({
      kind: fc.constantFrom<Kind>('I', 'L', 'S', 'M'),
      addr: fc.integer({ min: 0, max: 4095 }),
      size: fc.integer({ min: 1, max: 16 }),
    });
    fc.assert(
      fc.property(configArb, configArb, configArb, fc.array(event, { maxLength: 300 }), (i1, d1, ll, events) => {
        const cfg = { I1: i1, D1: d1, LL: ll };
        const ref = new ReferenceHierarchy(cfg);
        for (const e of events) ref.access(e.kind === 'M' ? 'L' : e.kind, e.addr, e.size);
        expect(replayLackeyText(lackeyText(events), cfg).counts).toEqual(ref.counts);
      }),
    );
  });

  it('gives the same counts through the BigInt path as through the number path', () => {
    const event = fc.record({ kind: fc.constantFrom<Kind>('I', 'L', 'S', 'M'), addr: fc.integer({ min: 0, max: 4095 }), size: fc.integer({ min: 1, max: 16 }) });
    fc.assert(
      fc.property(configArb, fc.array(event, { maxLength: 200 }), (cfg, events) => {
        const small = new CachegrindHierarchy({ I1: cfg, D1: cfg, LL: cfg });
        const big = new CachegrindHierarchy({ I1: cfg, D1: cfg, LL: cfg });
        for (const e of events) {
          const method = e.kind === 'I' ? 'instr' : e.kind === 'L' ? 'load' : e.kind === 'S' ? 'store' : 'modify';
          small[method](e.addr, e.size);
          big[`${method}Big`](BigInt(e.addr), e.size);
        }
        expect(big.counts()).toEqual(small.counts());
      }),
    );
  });
});
