// The solver behind solveDram: Newton steps on the station waits must land on
// the same fixed point as the plain damped iteration of the model; symmetry
// classes must not change answers; warm starts must not either; slopes used
// by the Newton steps must be the derivatives they claim; degenerate demand
// must still give finite answers within the model's laws.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DDR4_3200_8GB_X8, MACHINE_DEFAULT_DRAM, ddr4PeakBytesPerSec, type DramConfig } from '../../sim/dram/dram-config.js';
import { lastSolveIterations, solveDram, type DramSolution, type DramStreamDemand } from '../../sim/dram/dram-analytic-model.js';
import { erlangB, erlangBWithSlope, runWaitCycles, runWaitCyclesWithSlopes } from '../../sim/dram/analytic-queueing.js';
import { prepare, topologyFor } from '../../sim/dram/analytic-topology.js';
import { DramFixedPoint } from '../../sim/dram/analytic-fixed-point.js';
import { bankColourCount } from '../../sim/dram/page-colouring.js';

const peakRequests = (config: DramConfig) => ddr4PeakBytesPerSec(config) / 64;

/** The model's fixed point by damped iteration on the rates alone, run to 1e-9 (null if it does not get there). */
function dampedFixedPoint(config: DramConfig, streams: DramStreamDemand[]): { latencyNs: number[]; achieved: number[] } | null {
  const p = prepare(config);
  const fp = new DramFixedPoint(p, topologyFor(p, streams));
  fp.reset(streams);
  fp.initialGuess();
  let change = Infinity;
  for (let i = 0; i < 20000 && change >= 1e-9; i++) {
    fp.evaluate();
    change = fp.dampedStep();
  }
  if (change >= 1e-9) return null;
  fp.bankArrivals();
  fp.rowHits();
  fp.stations();
  if (fp.overCapacity()) fp.projectToCapacity();
  fp.throttledLatencies();
  const cyclesPerSec = 1e9 / config.tCkNs;
  return {
    latencyNs: Array.from(fp.latency, (l) => l * config.tCkNs),
    achieved: streams.map((s, i) => Math.min(s.requestsPerSec, Math.max(0, fp.x[i] * cyclesPerSec))),
  };
}

/** Solved from `before`'s answer, `demand` lands within the solver's tolerance of a cold solve: rates within 1% of demand, latencies within 3%. */
function expectWarmNearCold(demand: DramStreamDemand[], before: DramSolution): void {
  const warm = solveDram(MACHINE_DEFAULT_DRAM, demand, { warmStart: before });
  const cold = solveDram(MACHINE_DEFAULT_DRAM, demand);
  warm.streams.forEach((s, i) => {
    expect(Math.abs(s.achievedRequestsPerSec - cold.streams[i].achievedRequestsPerSec) / demand[i].requestsPerSec).toBeLessThan(0.01);
    expect(Math.abs(s.avgLatencyNs - cold.streams[i].avgLatencyNs) / cold.streams[i].avgLatencyNs).toBeLessThan(0.03);
  });
}

const closedStreamsArb = (config: DramConfig, maxStreams: number) => {
  const C = bankColourCount(config);
  return fc
    .record({
      load: fc.double({ min: 0.05, max: 2, noNaN: true }),
      streams: fc.array(
        fc.record({
          weight: fc.double({ min: 0.1, max: 1, noNaN: true }),
          h: fc.double({ min: 0, max: 0.97, noNaN: true }),
          rf: fc.double({ min: 0.4, max: 1, noNaN: true }),
          colours: fc.option(fc.uniqueArray(fc.integer({ min: 0, max: C - 1 }), { minLength: 1, maxLength: C / 2 }), { nil: null, freq: 2 }),
          m: fc.integer({ min: 1, max: 48 }),
        }),
        { minLength: 1, maxLength: maxStreams },
      ),
    })
    .map(({ load, streams }) => {
      const total = streams.reduce((a, s) => a + s.weight, 0);
      return streams.map(
        (s, i): DramStreamDemand => ({
          id: `s${i}`,
          requestsPerSec: (load * peakRequests(config) * s.weight) / total,
          rowHitRate: s.h,
          readFraction: s.rf,
          colours: s.colours,
          maxOutstanding: s.m,
        }),
      );
    });
};

describe('Newton steps reach the model fixed point', () => {
  for (const config of [DDR4_3200_8GB_X8, MACHINE_DEFAULT_DRAM]) {
    it(`${config.channels} channel(s): rates within 1% of demand and latencies within 5% of the damped iteration's fixed point`, () => {
      fc.assert(
        fc.property(closedStreamsArb(config, 16), (streams) => {
          const ref = dampedFixedPoint(config, streams);
          if (ref === null) return; // (the reference itself did not settle)
          const a = solveDram(config, streams);
          a.streams.forEach((s, i) => {
            expect(Math.abs(s.achievedRequestsPerSec - ref.achieved[i]) / streams[i].requestsPerSec, `${s.id} rate`).toBeLessThan(0.01);
            expect(Math.abs(s.avgLatencyNs - ref.latencyNs[i]) / ref.latencyNs[i], `${s.id} latency`).toBeLessThan(0.05);
          });
        }),
        { numRuns: 25, seed: 20261123 },
      );
    });
  }

  it('32 streams on every colour at saturation: the answer is the converged fixed point', () => {
    const n = 32;
    const streams = Array.from(
      { length: n },
      (_, i): DramStreamDemand => ({
        id: `t${i}`,
        requestsPerSec: ((1.5 * peakRequests(MACHINE_DEFAULT_DRAM)) / n) * (0.5 + (i % 4) / 4),
        rowHitRate: (i % 10) / 10,
        readFraction: i % 3 ? 0.8 : 1,
        colours: null,
        maxOutstanding: 6 + (i % 5) * 2,
      }),
    );
    const ref = dampedFixedPoint(MACHINE_DEFAULT_DRAM, streams);
    expect(ref).not.toBeNull();
    const a = solveDram(MACHINE_DEFAULT_DRAM, streams);
    a.streams.forEach((s, i) => {
      expect(Math.abs(s.achievedRequestsPerSec - ref!.achieved[i]) / streams[i].requestsPerSec).toBeLessThan(0.005);
      expect(Math.abs(s.avgLatencyNs - ref!.latencyNs[i]) / ref!.latencyNs[i]).toBeLessThan(0.02);
    });
  });
});

describe('symmetry classes', () => {
  it('every stream on all colours: one class per level, whatever the memory system', () => {
    for (const config of [DDR4_3200_8GB_X8, MACHINE_DEFAULT_DRAM]) {
      const p = prepare(config);
      const topo = topologyFor(p, [{ colours: null }, { colours: null }, { colours: null }]);
      expect([topo.K, topo.G, topo.R, topo.C]).toEqual([1, 1, 1, 1]);
    }
  });

  it('breaking a symmetry (a stream with no demand confined to one colour) leaves every answer as it was', () => {
    fc.assert(
      fc.property(closedStreamsArb(MACHINE_DEFAULT_DRAM, 8), fc.integer({ min: 0, max: bankColourCount(MACHINE_DEFAULT_DRAM) - 1 }), (streams, colour) => {
        // (no demand, next to no outstanding slots, reads only: it changes no rate, wait or population bound)
        const tracer: DramStreamDemand = { id: 'tracer', requestsPerSec: 0, rowHitRate: 0, readFraction: 1, colours: [colour], maxOutstanding: 1e-9 };
        const p = prepare(MACHINE_DEFAULT_DRAM);
        const plain = solveDram(MACHINE_DEFAULT_DRAM, streams);
        const split = solveDram(MACHINE_DEFAULT_DRAM, [...streams, tracer]);
        expect(topologyFor(p, [...streams, tracer]).K).toBeGreaterThanOrEqual(topologyFor(p, streams).K);
        streams.forEach((s, i) => {
          expect(Math.abs(split.streams[i].achievedRequestsPerSec - plain.streams[i].achievedRequestsPerSec) / s.requestsPerSec).toBeLessThan(0.01);
          expect(Math.abs(split.streams[i].avgLatencyNs - plain.streams[i].avgLatencyNs) / plain.streams[i].avgLatencyNs).toBeLessThan(0.03);
        });
      }),
      { numRuns: 20, seed: 7 },
    );
  });

  it('permuting the streams permutes the answers; identical streams get identical answers', () => {
    fc.assert(
      fc.property(closedStreamsArb(MACHINE_DEFAULT_DRAM, 10), (streams) => {
        const twin = { ...streams[0], id: 'twin' };
        const forward = solveDram(MACHINE_DEFAULT_DRAM, [...streams, twin]);
        const reversed = solveDram(MACHINE_DEFAULT_DRAM, [twin, ...streams].reverse());
        const byId = new Map(reversed.streams.map((s) => [s.id, s]));
        for (const s of forward.streams) {
          const r = byId.get(s.id)!;
          expect(Math.abs(r.avgLatencyNs - s.avgLatencyNs) / s.avgLatencyNs).toBeLessThan(1e-6);
          expect(Math.abs(r.achievedRequestsPerSec - s.achievedRequestsPerSec)).toBeLessThanOrEqual(1e-6 * Math.max(1, s.achievedRequestsPerSec));
        }
        const [first] = forward.streams;
        const last = forward.streams[forward.streams.length - 1];
        expect(last.avgLatencyNs).toBeCloseTo(first.avgLatencyNs, 6);
        expect(last.achievedRequestsPerSec / Math.max(1, first.achievedRequestsPerSec)).toBeCloseTo(1, 9);
      }),
      { numRuns: 20, seed: 11 },
    );
  });
});

describe('identical streams given once with their number of copies', () => {
  /** Each stream with 1-4 copies: given once with `copies`, and every copy listed under its own id. */
  const withCopies = (config: DramConfig) =>
    fc.tuple(closedStreamsArb(config, 8), fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 8, maxLength: 8 })).map(([streams, copies]) => {
      const sets = streams.map((s, i) => ({ ...s, copies: copies[i] }));
      const all: DramStreamDemand[] = [];
      for (let c = 0; c < 4; c++) streams.forEach((s, i) => c < copies[i] && all.push({ ...s, id: c === 0 ? s.id : `${s.id}.${c}` }));
      return { sets, all };
    });
  const setOf = (all: DramStreamDemand[], sets: DramStreamDemand[], i: number) => sets.findIndex((s) => s.id === all[i].id.split('.')[0]);

  it('the model with a count per stream evaluates exactly as with every copy listed', () => {
    fc.assert(
      fc.property(withCopies(MACHINE_DEFAULT_DRAM), fc.double({ min: 0.2, max: 1, noNaN: true }), ({ sets, all }, scale) => {
        const p = prepare(MACHINE_DEFAULT_DRAM);
        const full = new DramFixedPoint(p, topologyFor(p, all));
        const grouped = new DramFixedPoint(p, topologyFor(p, sets));
        full.reset(all);
        grouped.reset(
          sets,
          sets.map((s) => s.copies),
        );
        // the same rates (a share of demand), the same evaluation
        all.forEach((_, i) => (full.x[i] *= scale));
        sets.forEach((_, j) => (grouped.x[j] *= scale));
        full.evaluate();
        grouped.evaluate();
        all.forEach((s, i) => {
          const j = setOf(all, sets, i);
          for (const [name, a, b] of [
            ['latency', full.latency[i], grouped.latency[j]],
            ['target', full.target[i], grouped.target[j]],
            ['row hits', full.hitOut[i], grouped.hitOut[j]],
          ] as const) {
            expect(Math.abs(a - b), `${s.id} ${name}`).toBeLessThanOrEqual(1e-9 * Math.max(1e-12, Math.abs(a)));
          }
        });
      }),
      { numRuns: 40, seed: 24 },
    );
  });

  for (const config of [DDR4_3200_8GB_X8, MACHINE_DEFAULT_DRAM]) {
    it(`${config.channels} channel(s): the answer for copies is the fixed point of every copy listed (damped iteration over all of them)`, () => {
      fc.assert(
        fc.property(withCopies(config), ({ sets, all }) => {
          const ref = dampedFixedPoint(config, all);
          if (ref === null) return;
          const a = solveDram(config, sets);
          all.forEach((s, i) => {
            const answer = a.streams[setOf(all, sets, i)];
            expect(Math.abs(answer.achievedRequestsPerSec - ref.achieved[i]) / s.requestsPerSec, `${s.id} rate`).toBeLessThan(0.01);
            expect(Math.abs(answer.avgLatencyNs - ref.latencyNs[i]) / ref.latencyNs[i], `${s.id} latency`).toBeLessThan(0.05);
          });
        }),
        { numRuns: 20, seed: 25 },
      );
    });
  }

  it('the Newton steps with copies are those on every copy listed: no more rounds at any load', () => {
    const peak = peakRequests(MACHINE_DEFAULT_DRAM);
    for (const load of [0.3, 0.6, 0.9, 1.2, 1.6, 2.5]) {
      const kinds = Array.from({ length: 3 }, (_, k): DramStreamDemand => ({ id: `k${k}`, requestsPerSec: ((load * peak) / 24) * ((1 + k) / 2), rowHitRate: k / 4, readFraction: 0.8, colours: null, maxOutstanding: 4 + k * 4 }));
      solveDram(
        MACHINE_DEFAULT_DRAM,
        kinds.map((s) => ({ ...s, copies: 8 })),
      );
      const withCopiesRounds = lastSolveIterations();
      solveDram(
        MACHINE_DEFAULT_DRAM,
        Array.from({ length: 24 }, (_, i) => ({ ...kinds[i % 3], id: `s${i}` })),
      );
      expect(withCopiesRounds, `load ${load}`).toBeLessThanOrEqual(lastSolveIterations());
    }
  });

  it('copies that stop being identical (one moves) are solved apart, warm-started from the solution with copies', () => {
    fc.assert(
      fc.property(withCopies(MACHINE_DEFAULT_DRAM), fc.double({ min: 0.5, max: 1.5, noNaN: true }), ({ sets, all }, move) => {
        const before = solveDram(MACHINE_DEFAULT_DRAM, sets);
        const after = all.map((s, i) => (i === all.length - 1 ? { ...s, requestsPerSec: s.requestsPerSec * move } : s));
        expectWarmNearCold(after, before);
      }),
      { numRuns: 20, seed: 26 },
    );
  });

  it('a number of copies that is not a whole number >= 1 is refused, naming the field', () => {
    const s: DramStreamDemand = { id: 'a', requestsPerSec: 1e6, rowHitRate: 0.5, readFraction: 1, colours: null, maxOutstanding: 4 };
    for (const copies of [0, 1.5, -2, Number.NaN]) expect(() => solveDram(MACHINE_DEFAULT_DRAM, [s, { ...s, id: 'b', copies }])).toThrow(/streams\[1\]\.copies/);
  });
});

describe('warm starts', () => {
  it('starting from the answer for drifted demand lands within the tolerance of a cold solve', () => {
    fc.assert(
      fc.property(closedStreamsArb(MACHINE_DEFAULT_DRAM, 16), fc.array(fc.double({ min: 0.8, max: 1.25, noNaN: true }), { minLength: 16, maxLength: 16 }), (streams, drift) => {
        const before = solveDram(MACHINE_DEFAULT_DRAM, streams);
        const after = streams.map((s, i) => ({ ...s, requestsPerSec: s.requestsPerSec * drift[i] }));
        expectWarmNearCold(after, before);
      }),
      { numRuns: 25, seed: 3 },
    );
  });

  it('an answer depends on its inputs and warm start only, not on the calls in between', () => {
    const streams = (load: number, colours: number[] | null): DramStreamDemand[] =>
      Array.from({ length: 6 }, (_, i) => ({ id: `c${i}`, requestsPerSec: (load * peakRequests(MACHINE_DEFAULT_DRAM)) / 6, rowHitRate: i / 7, readFraction: 0.8, colours, maxOutstanding: 8 }));
    const a = streams(0.9, null);
    const first = solveDram(MACHINE_DEFAULT_DRAM, a);
    const warmFirst = solveDram(MACHINE_DEFAULT_DRAM, streams(1.0, null), { warmStart: first });
    solveDram(MACHINE_DEFAULT_DRAM, streams(0.3, null)); // same topology, other demand
    solveDram(MACHINE_DEFAULT_DRAM, streams(1.4, [0, 1, 2]));
    expect(solveDram(MACHINE_DEFAULT_DRAM, a)).toEqual(first);
    expect(solveDram(MACHINE_DEFAULT_DRAM, streams(1.0, null), { warmStart: first })).toEqual(warmFirst);
  });
});

describe('slopes the Newton steps use', () => {
  it('Erlang B: dB/da matches a central difference and B matches the textbook recurrence', () => {
    const slope = new Float64Array(1);
    fc.assert(
      fc.property(fc.double({ min: 0.5, max: 60, noNaN: true }), fc.double({ min: 0.05, max: 80, noNaN: true }), (m, a) => {
        const B = erlangBWithSlope(m, a, slope);
        expect(B).toBeCloseTo(erlangB(m, a), 12);
        // textbook: B_k = a B_(k-1) / (k + a B_(k-1)), interpolated in m
        let Bt = 1;
        const lo = Math.floor(m);
        for (let k = 1; k <= lo; k++) Bt = (a * Bt) / (k + a * Bt);
        const B1 = (a * Bt) / (lo + 1 + a * Bt);
        expect(B).toBeCloseTo(Bt + (m - lo) * (B1 - Bt), 10);
        const h = 1e-6 * a;
        const fd = (erlangB(m, a + h) - erlangB(m, a - h)) / (2 * h);
        expect(Math.abs(slope[0] - fd)).toBeLessThanOrEqual(1e-5 * Math.max(1e-6, Math.abs(fd)) + 1e-9);
      }),
      { numRuns: 300, seed: 5 },
    );
  });

  it('run wait: derivatives in the gap and in the opening time match central differences (away from the kinks)', () => {
    const out = new Float64Array(2);
    fc.assert(
      fc.property(fc.double({ min: 0.05, max: 0.99, noNaN: true }), fc.double({ min: 2, max: 400, noNaN: true }), fc.double({ min: 0, max: 500, noNaN: true }), fc.double({ min: 6, max: 12, noNaN: true }), (h, gap, open, tCcd) => {
        const v = runWaitCyclesWithSlopes(h, gap, open, tCcd, out);
        expect(v).toBe(runWaitCycles(h, gap, open, tCcd));
        const eg = 1e-6 * gap;
        const eo = 1e-6 * Math.max(1, open);
        const lo = runWaitCycles(h, gap - eg, open, tCcd);
        const hi = runWaitCycles(h, gap + eg, open, tCcd);
        const fdGap = (hi - lo) / (2 * eg);
        // one-sided differences disagree at a kink (a branch or the step count changes): skip those points
        const left = (v - lo) / eg;
        const right = (hi - v) / eg;
        if (Math.abs(left - right) <= 1e-3 * Math.max(1, Math.abs(fdGap))) expect(Math.abs(out[0] - fdGap)).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(fdGap)));
        const loO = runWaitCycles(h, gap, open - eo, tCcd);
        const hiO = runWaitCycles(h, gap, open + eo, tCcd);
        const fdOpen = (hiO - loO) / (2 * eo);
        if (Math.abs((v - loO) / eo - (hiO - v) / eo) <= 1e-3 * Math.max(1, Math.abs(fdOpen))) expect(Math.abs(out[1] - fdOpen)).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(fdOpen)));
      }),
      { numRuns: 500, seed: 9 },
    );
  });
});

describe('degenerate demand', () => {
  it('zero, denormal and huge demand, fewer than one or millions of slots, pure writes: finite answers within the laws', () => {
    const config = MACHINE_DEFAULT_DRAM;
    const C = bankColourCount(config);
    const peak = peakRequests(config);
    const streamArb = fc.record({
      requestsPerSec: fc.constantFrom(0, 1e-300, 5e-324, 0.001 * peak, 0.3 * peak, 5 * peak),
      rowHitRate: fc.constantFrom(0, 0.5, 1),
      readFraction: fc.constantFrom(0, 0.5, 1),
      colours: fc.option(fc.uniqueArray(fc.integer({ min: 0, max: C - 1 }), { minLength: 1, maxLength: 6 }), { nil: null }),
      maxOutstanding: fc.constantFrom(0.25, 1, 10, 5000, 1e9),
    });
    fc.assert(
      fc.property(fc.array(streamArb, { minLength: 1, maxLength: 12 }), (raw) => {
        const streams = raw.map((s, i) => ({ ...s, id: `d${i}` }));
        const a: DramSolution = solveDram(config, streams);
        let total = 0;
        a.streams.forEach((s, i) => {
          expect(Number.isFinite(s.avgLatencyNs)).toBe(true);
          expect(s.avgLatencyNs).toBeGreaterThanOrEqual((config.timingCycles.tCL + config.timingCycles.tBurst) * config.tCkNs - 1e-9);
          expect(s.achievedRequestsPerSec).toBeGreaterThanOrEqual(0);
          expect(s.achievedRequestsPerSec).toBeLessThanOrEqual(streams[i].requestsPerSec);
          expect(s.rowHitRate).toBeGreaterThanOrEqual(0);
          expect(s.rowHitRate).toBeLessThanOrEqual(streams[i].rowHitRate + 1e-12);
          total += s.achievedRequestsPerSec * 64;
        });
        expect(total).toBeLessThanOrEqual(a.peakBytesPerSec * 1.0001);
        for (const u of a.channelUtilisation) expect(u >= 0 && u <= 1).toBe(true);
      }),
      { numRuns: 150, seed: 13 },
    );
  });
});
