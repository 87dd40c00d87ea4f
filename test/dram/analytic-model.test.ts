// The analytical DRAM model (solveDram): its laws on random stream sets, the
// behaviours the machine simulator relies on (latency rises with load,
// bandwidth saturates at the peak, fewer colours saturate earlier, sharing
// banks costs row hits), and agreement with the cycle-level controller driven
// by the same streams.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DDR4_3200_8GB_X8, MACHINE_DEFAULT_DRAM, ddr4PeakBytesPerSec, type DramConfig } from '../../sim/dram/dram-config.js';
import { erlangB, inverseErlangLoad, runWaitCycles, solveDram, type DramStreamDemand } from '../../sim/dram/dram-analytic-model.js';
import { bankColourCount } from '../../sim/dram/page-colouring.js';
import { validateAnalyticModel, summariseValidation } from '../../sim/dram/analytic-validation.js';
import { InputError } from '../../util/errors.js';

const PEAK_REQ_1CH = ddr4PeakBytesPerSec(DDR4_3200_8GB_X8) / 64;

function stream(id: string, load: number, h: number, rf = 1, colours: number[] | null = null, m = 16, config: DramConfig = DDR4_3200_8GB_X8): DramStreamDemand {
  return { id, requestsPerSec: (load * ddr4PeakBytesPerSec(config)) / 64, rowHitRate: h, readFraction: rf, colours, maxOutstanding: m };
}

const streamsArb = (config: DramConfig) => {
  const C = bankColourCount(config);
  return fc.array(
    fc.record({
      load: fc.double({ min: 0, max: 2, noNaN: true }),
      h: fc.double({ min: 0, max: 0.98, noNaN: true }),
      rf: fc.double({ min: 0.3, max: 1, noNaN: true }),
      colours: fc.option(fc.uniqueArray(fc.integer({ min: 0, max: C - 1 }), { minLength: 1, maxLength: C }), { nil: null }),
      m: fc.integer({ min: 1, max: 48 }),
    }),
    { minLength: 1, maxLength: 24 },
  );
};

describe('solveDram laws', () => {
  for (const config of [DDR4_3200_8GB_X8, MACHINE_DEFAULT_DRAM]) {
    it(`${config.channels} channel(s): achieved <= requested, latency >= unloaded, channels within peak, deterministic`, () => {
      const t = config.timingCycles;
      const minLatencyNs = (t.tCL + t.tBurst) * config.tCkNs;
      fc.assert(
        fc.property(streamsArb(config), (raw) => {
          const streams = raw.map((r, i) => stream(`s${i}`, r.load, r.h, r.rf, r.colours, r.m, config));
          const a = solveDram(config, streams);
          expect(a.peakBytesPerSec).toBe(ddr4PeakBytesPerSec(config));
          expect(a.channelUtilisation).toHaveLength(config.channels);
          for (const u of a.channelUtilisation) {
            expect(u).toBeGreaterThanOrEqual(0);
            expect(u).toBeLessThanOrEqual(1);
          }
          let total = 0;
          a.streams.forEach((s, i) => {
            expect(s.id).toBe(streams[i].id);
            expect(s.achievedRequestsPerSec).toBeGreaterThanOrEqual(0);
            expect(s.achievedRequestsPerSec).toBeLessThanOrEqual(streams[i].requestsPerSec * (1 + 1e-9));
            expect(s.avgLatencyNs).toBeGreaterThanOrEqual(minLatencyNs);
            expect(Number.isFinite(s.avgLatencyNs)).toBe(true);
            expect(s.rowHitRate).toBeGreaterThanOrEqual(0);
            expect(s.rowHitRate).toBeLessThanOrEqual(streams[i].rowHitRate + 1e-12);
            total += s.achievedRequestsPerSec * 64;
          });
          expect(total).toBeLessThanOrEqual(a.peakBytesPerSec * 1.0001);
          expect(solveDram(config, streams)).toEqual(a);
        }),
        { numRuns: 60 },
      );
    });
  }

  it('a warm start from a previous answer lands on the same fixed point (within the tolerance)', () => {
    const streams = Array.from({ length: 12 }, (_, i) => stream(`c${i}`, 0.09, (i % 5) / 5, i % 2 ? 0.7 : 1, i < 8 ? null : [i, i + 8], 10));
    const cold = solveDram(DDR4_3200_8GB_X8, streams);
    const warm = solveDram(DDR4_3200_8GB_X8, streams, { warmStart: cold });
    warm.streams.forEach((s, i) => {
      expect(Math.abs(s.achievedRequestsPerSec - cold.streams[i].achievedRequestsPerSec) / streams[i].requestsPerSec).toBeLessThan(0.01);
      expect(Math.abs(s.avgLatencyNs - cold.streams[i].avgLatencyNs) / cold.streams[i].avgLatencyNs).toBeLessThan(0.03);
    });
  });

  it('rejects bad demand with the stream and field named', () => {
    expect(() => solveDram(DDR4_3200_8GB_X8, [stream('a', 0.1, 1.2)])).toThrow(InputError);
    expect(() => solveDram(DDR4_3200_8GB_X8, [stream('a', 0.1, 0.5), stream('b', 0.1, 0.5, 2)])).toThrow(/streams\[1\]\.readFraction/);
    expect(() => solveDram(DDR4_3200_8GB_X8, [{ ...stream('a', 0.1, 0.5), maxOutstanding: 0 }])).toThrow(/maxOutstanding/);
    expect(() => solveDram(DDR4_3200_8GB_X8, [stream('a', 0.1, 0.5, 1, [])])).toThrow(/colours/);
  });
});

describe('solveDram behaviour', () => {
  it('latency rises with load and achieved bandwidth saturates below the channel peak', () => {
    let lastLatency = 0;
    let lastAchieved = 0;
    for (const load of [0.05, 0.2, 0.4, 0.6, 0.8, 1, 1.5, 3]) {
      const a = solveDram(DDR4_3200_8GB_X8, [stream('r', load, 0, 1, null, 64)]).streams[0];
      expect(a.avgLatencyNs).toBeGreaterThanOrEqual(lastLatency * 0.999);
      expect(a.achievedRequestsPerSec).toBeGreaterThanOrEqual(lastAchieved * 0.98);
      lastLatency = a.avgLatencyNs;
      lastAchieved = a.achievedRequestsPerSec;
    }
    expect(lastAchieved).toBeLessThan(PEAK_REQ_1CH);
    expect(lastAchieved).toBeGreaterThan(0.6 * PEAK_REQ_1CH); // random traffic: ACT window and bus bound it, not the first bank
    expect(lastLatency).toBeGreaterThan(2 * solveDram(DDR4_3200_8GB_X8, [stream('r', 0.05, 0)]).streams[0].avgLatencyNs);
  });

  it('a stream confined to fewer colours saturates earlier', () => {
    const achieved = (colours: number[] | null) => solveDram(DDR4_3200_8GB_X8, [stream('x', 0.5, 0.3, 1, colours, 32)]).streams[0];
    const all = achieved(null);
    const eight = achieved([0, 1, 2, 3, 4, 5, 6, 7]);
    const two = achieved([0, 1]);
    const one = achieved([0]);
    expect(all.achievedRequestsPerSec).toBeGreaterThan(eight.achievedRequestsPerSec * 0.999);
    expect(eight.achievedRequestsPerSec).toBeGreaterThan(two.achievedRequestsPerSec);
    expect(two.achievedRequestsPerSec).toBeGreaterThan(one.achievedRequestsPerSec);
    expect(one.avgLatencyNs).toBeGreaterThan(all.avgLatencyNs);
    // one bank, no locality: one access per tRC at best
    const oneRandom = solveDram(DDR4_3200_8GB_X8, [stream('x', 0.5, 0, 1, [0], 32)]).streams[0];
    expect(oneRandom.achievedRequestsPerSec).toBeLessThan(1 / (DDR4_3200_8GB_X8.timingCycles.tRC * DDR4_3200_8GB_X8.tCkNs * 1e-9));
  });

  it('streams sharing banks lose row hits; on disjoint colours they keep them', () => {
    const seqAlone = solveDram(DDR4_3200_8GB_X8, [stream('seq', 0.1, 0.9, 1, [0, 1, 2, 3])]).streams[0];
    const shared = solveDram(DDR4_3200_8GB_X8, [stream('seq', 0.1, 0.9, 1, [0, 1, 2, 3]), stream('rand', 0.1, 0, 1, [0, 1, 2, 3])]).streams[0];
    const disjoint = solveDram(DDR4_3200_8GB_X8, [stream('seq', 0.1, 0.9, 1, [0, 1, 2, 3]), stream('rand', 0.1, 0, 1, [4, 5, 6, 7])]).streams[0];
    // (the cycle-level controller: 0.898 alone, 0.789 shared, 0.898 disjoint)
    expect(shared.rowHitRate).toBeLessThan(seqAlone.rowHitRate - 0.05);
    expect(Math.abs(disjoint.rowHitRate - seqAlone.rowHitRate)).toBeLessThan(0.01);
    expect(shared.avgLatencyNs).toBeGreaterThan(disjoint.avgLatencyNs);
  });

  it('a stream can keep at most maxOutstanding reads in flight (Little)', () => {
    for (const m of [1, 4, 16]) {
      const a = solveDram(DDR4_3200_8GB_X8, [stream('x', 1, 0.5, 1, null, m)]).streams[0];
      const inFlight = a.achievedRequestsPerSec * a.avgLatencyNs * 1e-9;
      expect(inFlight).toBeLessThanOrEqual(m * 1.02);
    }
  });
});

describe('queueing helpers', () => {
  it('Erlang B: known values, monotone, inverse', () => {
    expect(erlangB(1, 1)).toBeCloseTo(0.5, 12);
    expect(erlangB(2, 1)).toBeCloseTo(0.2, 12);
    expect(erlangB(10, 5)).toBeCloseTo(0.018385, 5);
    for (const [m, b] of [[4, 0.1], [10, 0.01], [32, 0.5]] as const) expect(erlangB(m, inverseErlangLoad(m, b))).toBeCloseTo(b, 6);
    expect(erlangB(10, 6)).toBeLessThan(erlangB(10, 7));
  });

  it('run wait: zero without locality, grows when the stream outruns tCCD', () => {
    expect(runWaitCycles(0, 10, 44, 8)).toBe(0);
    expect(runWaitCycles(0.9, 4, 44, 8)).toBeGreaterThan(runWaitCycles(0.9, 16, 44, 8));
    expect(runWaitCycles(0.9, 1000, 44, 8)).toBeLessThan(1);
  });
});

describe('solveDram against the cycle-level controller', () => {
  it('tracks the controller on light-to-saturating mixes with colour restrictions', () => {
    const mixes = [
      { name: 'light random', streams: [stream('a', 0.1, 0, 1, null, 16)] },
      { name: 'moderate, locality, writes', streams: [stream('a', 0.25, 0.8, 0.7, null, 16), stream('b', 0.25, 0.3, 1, null, 16)] },
      { name: 'saturating', streams: Array.from({ length: 6 }, (_, i) => stream(`c${i}`, 0.2, i / 6, 0.8, null, 10)) },
      { name: 'confined + free', streams: [stream('conf', 0.15, 0.5, 1, [0, 1], 10), stream('free', 0.3, 0.5, 1, null, 10)] },
    ];
    const rows = validateAnalyticModel(DDR4_3200_8GB_X8, { seed: 5, measureCycles: 300_000, mixes });
    for (const r of rows) {
      expect(Math.abs(r.bandwidthErrorPct), `${r.mix} ${r.stream} bandwidth`).toBeLessThan(15);
      expect(Math.abs(r.latencyErrorPct), `${r.mix} ${r.stream} latency (sim ${r.simLatencyNs}, model ${r.modelLatencyNs})`).toBeLessThan(25);
      expect(Math.abs(r.simRowHitRate - r.modelRowHitRate), `${r.mix} ${r.stream} row hits`).toBeLessThan(0.08);
    }
    const s = summariseValidation(rows);
    expect(s.meanAbsLatencyErrorPct).toBeLessThan(15);
  });
});
