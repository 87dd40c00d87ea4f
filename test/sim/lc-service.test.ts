import { describe, expect, it } from 'vitest';
import { LcService } from '../../sim/machine/lc-service.js';
import { phaseProfile } from '../../sim/workloads/demand-profile.js';
import { fastExp } from '../../util/fast-exp.js';
import { rngFor } from '../../util/rng.js';

describe('LcService', () => {
  it('serves the arrivals and sizes that drawing them one at a time gives (it draws them ahead in batches)', () => {
    // 5 ms at 20k/s, 3 ms idle, 7 ms at 60k/s, then idle for good: about 520
    // arrivals, more than one batch, then none at all
    const profile = phaseProfile(
      [
        { durationNs: 5e6, value: 20_000 },
        { durationNs: 3e6, value: 0 },
        { durationNs: 7e6, value: 60_000 },
        { durationNs: 1e6, value: 0 },
      ],
      false,
    );
    const instrPerRequest = 100_000;
    const requestCv = 0.5;
    const lc = new LcService({ rpsProfile: profile, instrPerRequest, requestCv, sloP99Ns: 1e6, arrivalsRng: rngFor(3, 'arrivals'), serviceRng: rngFor(3, 'service') });
    // one worker, busy about half the time at the high rate: requests queue,
    // so every latency depends on the exact arrival times before it
    const speed = 10;
    lc.setServers([{ coreId: 0, readyAtNs: 0 }]);
    lc.setSpeeds(() => speed, 1);

    // the documented process, one draw at a time from the same streams, through a FCFS queue
    const windowNs = 1e6;
    const windows = 30;
    const latencies: number[][] = Array.from({ length: windows }, () => []);
    const instructions = new Array<number>(windows).fill(0);
    const arrivalsRng = rngFor(3, 'arrivals');
    const serviceRng = rngFor(3, 'service');
    const sigma = Math.sqrt(Math.log(1 + requestCv * requestCv));
    let freeAtNs = 0;
    for (let t = 0; ; ) {
      const rate = profile.valueAt(t);
      const change = profile.nextChangeNs(t);
      if (rate > 0) {
        const gap = arrivalsRng.exp(1e9 / rate);
        if (t + gap < change) {
          t = Math.ceil(t + gap);
          const instr = instrPerRequest * fastExp(sigma * serviceRng.normal() - (sigma * sigma) / 2);
          freeAtNs = Math.max(t, freeAtNs) + instr / speed;
          const w = Math.ceil(t / windowNs) - 1; // a window ends at, and includes, its end
          latencies[w].push(freeAtNs - t);
          instructions[w] += instr;
          continue;
        }
      }
      if (change === Infinity) break;
      t = change;
    }
    const expected = latencies.map((lat, w) => {
      const sorted = [...lat].sort((a, b) => a - b);
      const at = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]);
      return { requests: lat.length, instructions: instructions[w], p50Ns: at(0.5), p95Ns: at(0.95), p99Ns: at(0.99) };
    });
    expect(expected.reduce((n, w) => n + w.requests, 0)).toBeGreaterThan(300);
    expect(Math.max(...expected.map((w) => w.p99Ns))).toBeGreaterThan(2 * instrPerRequest / speed); // requests did queue

    const served = [];
    for (let w = 1; w <= windows; w++) {
      for (let k = 1; k <= 4; k++) lc.runUntil((w - 1 + k / 4) * windowNs);
      const s = lc.takeWindow(w * windowNs, windowNs);
      served.push({ requests: s.requests, instructions: s.instructions, p50Ns: s.p50Ns, p95Ns: s.p95Ns, p99Ns: s.p99Ns });
    }
    expect(served).toEqual(expected);
  });

  it('serves a probe burst between its own requests in time order, and rejects beyond its queue bound, as one FCFS queue', () => {
    const profile = phaseProfile([{ durationNs: 20e6, value: 30_000 }], false);
    const instrPerRequest = 100_000;
    const requestCv = 0.8;
    const maxQueue = 6;
    const seed = 11;
    const lc = new LcService({ rpsProfile: profile, instrPerRequest, requestCv, sloP99Ns: 1e6, arrivalsRng: rngFor(seed, 'arrivals'), serviceRng: rngFor(seed, 'service'), maxQueue });
    // one worker that can serve about 25k requests/s: with the burst on top the queue fills
    const speed = 2.5;
    lc.setServers([{ coreId: 0, readyAtNs: 0 }]);
    lc.setSpeeds(() => speed, 1);
    const burstStartNs = 4e6;
    const burstNs = 6e6;
    const burstRate = 20_000;

    // reference: both request streams drawn one at a time, merged in time
    // order (an own request first on a tie), through a FCFS queue of at most maxQueue waiting
    const sigma = Math.sqrt(Math.log(1 + requestCv * requestCv));
    const sizeOf = (z: number) => instrPerRequest * fastExp(sigma * z - (sigma * sigma) / 2);
    const arrivalsRng = rngFor(seed, 'arrivals');
    const serviceRng = rngFor(seed, 'service');
    const burstRng = rngFor(seed, 'burst');
    const own: number[] = [];
    for (let t = 0; ; ) {
      t = Math.ceil(t + arrivalsRng.exp(1e9 / 30_000));
      if (t >= 20e6) break;
      own.push(t);
    }
    const windowNs = 1e6;
    const windows = 20;
    const latencies: number[][] = Array.from({ length: windows }, () => []);
    const rejected = new Array<number>(windows).fill(0);
    let freeAtNs = 0;
    const startsNs: number[] = [];
    let burstNext = Math.ceil(burstStartNs + burstRng.exp(1e9 / burstRate));
    let burstAccepted = 0;
    const serve = (arrival: number, instr: number): number | null => {
      const waiting = startsNs.filter((s) => s > arrival).length;
      if (waiting >= maxQueue) return null;
      const start = Math.max(arrival, freeAtNs);
      freeAtNs = start + instr / speed;
      startsNs.push(start);
      return freeAtNs;
    };
    for (const arrival of own) {
      while (burstNext < burstStartNs + burstNs && burstNext < arrival) {
        const at = burstNext;
        burstNext = Math.ceil(at + burstRng.exp(1e9 / burstRate));
        if (serve(at, sizeOf(burstRng.normal())) !== null) burstAccepted++;
      }
      const w = Math.ceil(arrival / windowNs) - 1;
      const done = serve(arrival, sizeOf(serviceRng.normal()));
      if (done === null) {
        rejected[w]++;
        latencies[w].push(Infinity);
      } else latencies[w].push(done - arrival);
    }
    expect(burstAccepted).toBeGreaterThan(20);
    expect(rejected.reduce((a, b) => a + b, 0)).toBeGreaterThan(5);

    const expected = latencies.map((lat, w) => {
      const sorted = [...lat].sort((a, b) => a - b);
      const at = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]);
      return { requests: lat.length, rejected: rejected[w], p50Ns: at(0.5), p99Ns: at(0.99) };
    });
    const served = [];
    for (let w = 1; w <= windows; w++) {
      // runs that end inside the burst and between its requests
      for (let k = 1; k <= 3; k++) {
        const t = (w - 1 + k / 3) * windowNs;
        if (t > burstStartNs && !lc.burstResult()) {
          lc.runUntil(burstStartNs);
          expect(lc.startBurst(burstStartNs, burstNs, burstRate, rngFor(seed, 'burst'))).toBe(true);
        }
        lc.runUntil(t);
      }
      const s = lc.takeWindow(w * windowNs, windowNs);
      served.push({ requests: s.requests, rejected: s.rejected, p50Ns: s.p50Ns, p99Ns: s.p99Ns });
    }
    expect(served).toEqual(expected);
    expect(lc.burstResult()!.accepted).toBe(burstAccepted);
  });
});
