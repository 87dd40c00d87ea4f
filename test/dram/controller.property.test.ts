// Laws of the cycle-level controller, checked on random short traces over
// random (valid) configurations with fast-check:
//  - no issued command breaks a DDR timing rule (independent checker),
//  - the data bus never carries more than its peak (bursts / window),
//  - every request is served (reads return, reads and writes counted),
//  - replay is deterministic.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DDR4_3200_8GB_X8, parseDramConfig, type DramConfig } from '../../sim/dram/dram-config.js';
import type { IssuedCommand } from '../../sim/dram/dram-command.js';
import { AddressDecoder } from '../../sim/dram/address-mapping.js';
import { replayRequests, type RequestBatch } from '../../sim/dram/trace-replay.js';
import { checkTiming, maxBurstsInWindow } from './timing-checker.js';

const MAPPINGS = ['rochrababgco', 'rorabgbachco', 'chrorababgco', 'robgbarachco'];

/** Valid configurations around DDR4-3200, including odd timings and a short refresh interval. */
const configArb: fc.Arbitrary<DramConfig> = fc
  .record({
    channels: fc.constantFrom(1, 2),
    ranks: fc.constantFrom(1, 2, 4),
    bankGroups: fc.constantFrom(1, 2, 4),
    mapping: fc.constantFrom(...MAPPINGS),
    tCL: fc.integer({ min: 16, max: 24 }),
    cwlBelowCl: fc.integer({ min: 2, max: 8 }),
    tRCD: fc.integer({ min: 10, max: 24 }),
    tRP: fc.integer({ min: 10, max: 24 }),
    tRAS: fc.integer({ min: 28, max: 52 }),
    tCCD_L: fc.integer({ min: 4, max: 8 }),
    tRRD_L: fc.integer({ min: 4, max: 8 }),
    tFAW: fc.integer({ min: 16, max: 40 }),
    tWR: fc.integer({ min: 10, max: 24 }),
    tRTP: fc.integer({ min: 6, max: 12 }),
    tWTR_L: fc.integer({ min: 4, max: 12 }),
    tRTRS: fc.integer({ min: 0, max: 2 }),
    tREFI: fc.constantFrom(1500, 3000, 12480),
    tRFC: fc.integer({ min: 100, max: 400 }),
    scheduler: fc.constantFrom('fr-fcfs' as const, 'fcfs' as const),
    queue: fc.constantFrom(4, 8),
  })
  .map((r) =>
    parseDramConfig({
      channels: r.channels,
      ranks: r.ranks,
      bankGroups: r.bankGroups,
      banksPerGroup: 16 / r.bankGroups,
      addressMapping: r.mapping,
      timingCycles: {
        ...DDR4_3200_8GB_X8.timingCycles,
        tCL: r.tCL,
        tCWL: r.tCL - r.cwlBelowCl,
        tRCD: r.tRCD,
        tRP: r.tRP,
        tRAS: r.tRAS,
        tRC: r.tRAS + r.tRP,
        tCCD_L: r.tCCD_L,
        tRRD_L: r.tRRD_L,
        tFAW: r.tFAW,
        tWR: r.tWR,
        tRTP: r.tRTP,
        tWTR_L: r.tWTR_L,
        tRTRS: r.tRTRS,
        tREFI: r.tREFI,
        tRFC: r.tRFC,
      },
      controller: { ...DDR4_3200_8GB_X8.controller, scheduler: r.scheduler, commandQueueSize: r.queue },
    }),
  );

interface Req {
  bank: number;
  row: number;
  column: number;
  write: boolean;
  gap: number;
}

/** Requests concentrated on a few banks and rows, so hits, conflicts and same-address reuse all occur. */
const requestsArb = fc.oneof(
  // spread over many banks, with long gaps now and then (refresh, idle banks)
  fc.array(
    fc.record({
      bank: fc.integer({ min: 0, max: 63 }),
      row: fc.integer({ min: 0, max: 3 }),
      column: fc.integer({ min: 0, max: 7 }),
      write: fc.boolean(),
      gap: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 600 })),
    }),
    { minLength: 1, maxLength: 160 },
  ),
  // dense bursts on a few banks of one or two ranks: turnarounds and bank-group spacing
  fc.array(
    fc.record({
      bank: fc.integer({ min: 0, max: 9 }),
      row: fc.integer({ min: 0, max: 1 }),
      column: fc.integer({ min: 0, max: 3 }),
      write: fc.boolean(),
      gap: fc.integer({ min: 0, max: 6 }),
    }),
    { minLength: 1, maxLength: 160 },
  ),
  // write batches (enough to trigger a drain) followed at once by reads:
  // write-to-read turnarounds and write recovery before a precharge
  fc
    .array(
      fc.record({
        writes: fc.array(fc.record({ bank: fc.integer({ min: 0, max: 5 }), row: fc.integer({ min: 0, max: 1 }), column: fc.integer({ min: 0, max: 15 }) }), { minLength: 9, maxLength: 14 }),
        reads: fc.array(fc.record({ bank: fc.integer({ min: 0, max: 5 }), row: fc.integer({ min: 0, max: 2 }), column: fc.integer({ min: 0, max: 15 }) }), { minLength: 1, maxLength: 6 }),
        pause: fc.integer({ min: 0, max: 300 }),
      }),
      { minLength: 1, maxLength: 6 },
    )
    .map((blocks) =>
      blocks.flatMap((b) => [
        ...b.writes.map((w, i) => ({ ...w, write: true, gap: i === 0 ? b.pause : 0 })),
        ...b.reads.map((r) => ({ ...r, write: false, gap: 1 })),
      ]),
    ),
);

function toBatch(config: DramConfig, reqs: Req[]): RequestBatch {
  const dec = new AddressDecoder(config);
  const n = reqs.length;
  const b: RequestBatch = { addr: new Float64Array(n), cycle: new Float64Array(n), isWrite: new Uint8Array(n), length: n };
  const banksPerChannel = config.ranks * config.bankGroups * config.banksPerGroup;
  let t = 0;
  reqs.forEach((r, i) => {
    const flat = r.bank % (banksPerChannel * config.channels);
    const channel = Math.floor(flat / banksPerChannel);
    const inCh = flat % banksPerChannel;
    const rank = Math.floor(inCh / (config.bankGroups * config.banksPerGroup));
    const bankGroup = Math.floor(inCh / config.banksPerGroup) % config.bankGroups;
    const bank = inCh % config.banksPerGroup;
    t += r.gap;
    b.addr[i] = dec.encode({ channel, rank, bankGroup, bank, row: r.row, column: r.column });
    b.cycle[i] = t;
    b.isWrite[i] = r.write ? 1 : 0;
  });
  return b;
}

describe('cycle-level DRAM controller (property tests)', () => {
  it('never issues a command that breaks a timing constraint', () => {
    fc.assert(
      fc.property(configArb, requestsArb, (config, reqs) => {
        const log: IssuedCommand[] = [];
        replayRequests(config, toBatch(config, reqs), log);
        const errors = checkTiming(config, log);
        expect(errors).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('the data bus never exceeds the channel peak (one burst per tBurst)', () => {
    fc.assert(
      fc.property(configArb, requestsArb, fc.integer({ min: 8, max: 400 }), (config, reqs, window) => {
        const log: IssuedCommand[] = [];
        replayRequests(config, toBatch(config, reqs), log);
        for (let ch = 0; ch < config.channels; ch++) {
          expect(maxBurstsInWindow(config, log, ch, window)).toBeLessThanOrEqual(Math.ceil(window / config.timingCycles.tBurst));
        }
      }),
      { numRuns: 80 },
    );
  });

  it('serves every request: all reads return, counts add up, refresh keeps its pace', () => {
    fc.assert(
      fc.property(configArb, requestsArb, (config, reqs) => {
        const log: IssuedCommand[] = [];
        const batch = toBatch(config, reqs);
        const r = replayRequests(config, batch, log);
        const writes = reqs.filter((q) => q.write).length;
        expect(r.reads + r.writes).toBe(reqs.length);
        expect(r.writes).toBe(writes);
        // a read returns no sooner than one cycle (served from the write buffer) after its cycle
        expect(r.completionCycle).toBeGreaterThanOrEqual(batch.cycle[batch.length - 1] + 1);
        if (r.reads > 0) expect(r.avgReadLatencyCycles).toBeGreaterThanOrEqual(1);
        const reads = log.filter((c) => c.kind === 'RD').length;
        expect(reads).toBeLessThanOrEqual(r.reads);
        expect(r.readRowHits).toBeLessThanOrEqual(reads);
        expect(r.activates).toBe(log.filter((c) => c.kind === 'ACT').length);
        // every rank is refreshed about every tREFI while the simulation runs
        const t = config.timingCycles;
        for (let ch = 0; ch < config.channels; ch++) {
          for (let rank = 0; rank < config.ranks; rank++) {
            const refs = log.filter((c) => c.kind === 'REF' && c.channel === ch && c.rank === rank).map((c) => c.cycle);
            const slack = t.tRFC + t.tRAS + t.tRP + 200;
            const firstDue = Math.floor(t.tREFI / config.ranks) * (rank + 1);
            if (r.completionCycle > firstDue + slack) expect(refs.length).toBeGreaterThan(0);
            for (let i = 1; i < refs.length; i++) expect(refs[i] - refs[i - 1]).toBeLessThanOrEqual(t.tREFI + slack);
          }
        }
      }),
      { numRuns: 80 },
    );
  });

  it('is deterministic: the same trace gives the same result and command log', () => {
    fc.assert(
      fc.property(configArb, requestsArb, (config, reqs) => {
        const a: IssuedCommand[] = [];
        const b: IssuedCommand[] = [];
        const ra = replayRequests(config, toBatch(config, reqs), a);
        const rb = replayRequests(config, toBatch(config, reqs), b);
        expect(rb).toEqual(ra);
        expect(b).toEqual(a);
      }),
      { numRuns: 40 },
    );
  });

  it('a lone read costs tCL + burst on a hit, + tRCD on a miss, + tRP on a conflict (plus one cycle to enter the queue)', () => {
    const c = DDR4_3200_8GB_X8;
    const t = c.timingCycles;
    const dec = new AddressDecoder(c);
    const a = (row: number, column: number) => dec.encode({ channel: 0, rank: 0, bankGroup: 1, bank: 2, row, column });
    const batch: RequestBatch = {
      addr: Float64Array.from([a(5, 0), a(5, 1), a(9, 0)]),
      cycle: Float64Array.from([0, 1000, 2000]),
      isWrite: new Uint8Array(3),
      length: 3,
    };
    const log: IssuedCommand[] = [];
    const r = replayRequests(c, batch, log);
    const miss = 1 + t.tRCD + t.tCL + t.tBurst;
    const hit = 1 + t.tCL + t.tBurst;
    const conflict = 1 + t.tRP + t.tRCD + t.tCL + t.tBurst;
    expect(r.avgReadLatencyCycles).toBeCloseTo((miss + hit + conflict) / 3, 9);
    expect(r.completionCycle).toBe(2000 + conflict);
    expect(r.activates).toBe(2);
    expect(r.readRowHits).toBe(1);
  });
});
