import { describe, expect, it } from 'vitest';
import { makePlatform, runFor, smallScenario } from './helpers.js';
import { ddr4PeakBytesPerSec } from '../../sim/dram/dram-config.js';
import { defaultMachine } from '../../sim/machine/machine-description.js';

type SimPlatformLike = Awaited<ReturnType<typeof makePlatform>>;

const p99 = (snaps: ReturnType<typeof runFor>, id: string) => {
  const xs = snaps.map((s) => s.tasks.find((t) => t.id === id)!.latency!.p99Ns).sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)];
};

describe('SimPlatform', () => {
  it('same scenario and seed give identical snapshots and event logs; another seed differs', async () => {
    const a = await makePlatform(smallScenario(), { seed: 5, eventLog: true });
    const b = await makePlatform(smallScenario(), { seed: 5, eventLog: true });
    const c = await makePlatform(smallScenario(), { seed: 6 });
    const sa = runFor(a, 200);
    const sb = runFor(b, 200);
    const sc = runFor(c, 200);
    expect(JSON.stringify(sa)).toBe(JSON.stringify(sb));
    expect(a.eventLog()).toEqual(b.eventLog());
    expect(a.eventLog().length).toBeGreaterThan(10);
    expect(JSON.stringify(sc)).not.toBe(JSON.stringify(sa));
  });

  it('co-located thrashing raises the service latency; pausing the second-class jobs brings it back', async () => {
    const alone = await makePlatform({ ...smallScenario(), tasks: (smallScenario().tasks as object[]).slice(0, 1) });
    const shared = await makePlatform(smallScenario());
    const aloneP99 = p99(runFor(alone, 300), 'kv');
    const sharedP99 = p99(runFor(shared, 300), 'kv');
    expect(sharedP99).toBeGreaterThan(aloneP99 * 1.1);
    shared.apply([{ kind: 'pause', task: 'thrash' }, { kind: 'pause', task: 'stream' }]);
    const pausedP99 = p99(runFor(shared, 300), 'kv');
    expect(pausedP99).toBeLessThan(sharedP99);
    expect(pausedP99).toBeLessThan(aloneP99 * 1.1);
  });

  it('a service solved while idle (an action before its first request) still gets its CPU and traffic once it serves', async () => {
    // light load on one exclusive core: its busy fraction moves only a few
    // points, which alone would not re-solve a service already accounted for
    const raw = () => {
      const r = smallScenario();
      const kv = (r.tasks as Record<string, unknown>[])[0];
      Object.assign(kv, { cores: '0', load: { constant: 1500 } });
      // with nothing else whose cache share is still filling (that would re-solve anyway)
      r.tasks = (r.tasks as Record<string, unknown>[]).filter((t) => t.id !== 'thrash');
      return r;
    };
    const untouched = await makePlatform(raw());
    const early = await makePlatform(raw());
    // the control loop's order at t = 0: observe (a zero-length window), then apply
    early.observe();
    expect(early.apply([{ kind: 'setIoWeight', task: 'stream', weight: 50 }]).refused).toEqual([]);
    const mean = (snaps: ReturnType<typeof runFor>, f: (t: ReturnType<SimPlatformLike['observe']>['tasks'][number]) => number) =>
      snaps.slice(10).reduce((acc, x) => acc + f(x.tasks.find((t) => t.id === 'kv')!), 0) / (snaps.length - 10);
    const a = runFor(untouched, 300);
    const b = runFor(early, 300);
    const cpuA = mean(a, (t) => t.cpuCores);
    const cpuB = mean(b, (t) => t.cpuCores);
    expect(cpuA).toBeGreaterThan(0.01);
    expect(cpuB).toBeGreaterThan(0.8 * cpuA);
    expect(cpuB).toBeLessThan(1.25 * cpuA);
  });

  it('a job alone, solved with its cache share empty, reaches the miss ratio of its filled share (nothing else moves to re-solve it)', async () => {
    // a 6 MiB working set in an 8 MiB LLC: once filled, nearly every access hits
    const p = await makePlatform({
      machine: { cores: { count: 8 }, llc: { sizeBytes: '8 MiB', ways: 16 } },
      tasks: [{ id: 'job', class: 'second', kernel: 'thrash', threads: 2, cores: '4-5', overrides: { pattern: { kind: 'uniform', workingSetBytes: 6 * 1048576 } } }],
    });
    const snaps = runFor(p, 400);
    const windowMiss = (a: (typeof snaps)[number], b: (typeof snaps)[number]) => {
      const x = a.tasks[0];
      const y = b.tasks[0];
      return (y.llcMisses! - x.llcMisses!) / Math.max(1, y.llcAccesses! - x.llcAccesses!);
    };
    // filled long before 300 ms (its misses fill the share in a few ms), and
    // missing as a filled share does, not as the empty one it was solved with
    expect(snaps[29].tasks[0].llcOccupancyBytes).toBeGreaterThan(5.5 * 1048576);
    expect(windowMiss(snaps[29], snaps[39])).toBeLessThan(0.1);
  });

  it("a service's CPU time follows the requests it ran: per request it rises with memory contention, never falls", async () => {
    const raw = (withHogs: boolean) => {
      const r = smallScenario();
      const kv = (r.tasks as Record<string, unknown>[])[0];
      Object.assign(kv, { load: { constant: 4000 } });
      if (!withHogs) r.tasks = (r.tasks as Record<string, unknown>[]).slice(0, 1);
      return r;
    };
    const cpuPerRequestUs = (snaps: ReturnType<typeof runFor>) => {
      const kv = (i: number) => snaps[i].tasks.find((t) => t.id === 'kv')!;
      const requests = snaps.slice(6).reduce((acc, x) => acc + x.tasks.find((t) => t.id === 'kv')!.latency!.requests, 0);
      return (kv(snaps.length - 1).cpuTimeNs - kv(5).cpuTimeNs) / requests / 1000;
    };
    const alone = await makePlatform(raw(false));
    const shared = await makePlatform(raw(true));
    const a = runFor(alone, 400);
    const b = runFor(shared, 400);
    const usAlone = cpuPerRequestUs(a);
    const usShared = cpuPerRequestUs(b);
    // alone: the kernel's instructions per request at its CPI (150k instructions, 2-4 GHz: tens of us)
    expect(usAlone).toBeGreaterThan(20);
    expect(usAlone).toBeLessThan(200);
    // co-located with a thrasher and a streamer its CPI grows, and so does its CPU per request
    const cpiOf = (snaps: ReturnType<typeof runFor>) => {
      const kv = (i: number) => snaps[i].tasks.find((t) => t.id === 'kv')!;
      return (kv(snaps.length - 1).cycles! - kv(5).cycles!) / (kv(snaps.length - 1).instructions! - kv(5).instructions!);
    };
    expect(cpiOf(b)).toBeGreaterThan(cpiOf(a) * 1.05);
    expect(usShared / usAlone).toBeCloseTo(cpiOf(b) / cpiOf(a), 1);
  });

  it("an echo as requests (the host runner's way) loads the service itself and reports the burst; the default echo leaves its queue alone", async () => {
    const raw = () => {
      const r = smallScenario();
      Object.assign((r.tasks as Record<string, unknown>[])[0], { cores: '0-1', load: { constant: 8000 } });
      return r;
    };
    const spare = await makePlatform(raw());
    const asRequests = await makePlatform(raw(), { serviceEcho: 'requests' });
    const kvP99 = (snaps: ReturnType<typeof runFor>) => Math.max(...snaps.map((x) => x.tasks.find((t) => t.id === 'kv')!.latency!.p99Ns));
    runFor(spare, 100);
    runFor(asRequests, 100);
    const echo = { kind: 'echo' as const, task: 'kv', durationNs: 40_000_000 };
    expect(spare.apply([echo]).refused).toEqual([]);
    expect(asRequests.apply([echo]).refused).toEqual([]);
    // one burst at a time, as on the host
    expect(asRequests.apply([echo]).refused.map((r) => r.reason)).toEqual([expect.stringMatching(/already running/)]);
    const a = runFor(spare, 50);
    const b = runFor(asRequests, 50);
    // the burst (16 000 extra requests/s on two workers) queues with the service's own requests
    expect(kvP99(b)).toBeGreaterThan(1.5 * kvP99(a));
    const ea = a.flatMap((x) => x.echoes);
    const eb = b.flatMap((x) => x.echoes);
    expect(ea).toHaveLength(1);
    expect(eb).toHaveLength(1);
    // spare core: the service's demand (about its offered rate); requests: the burst's completed rate, twice that
    // (with the burst's sampling error: it samples a tenth of ~320 requests, about 18% per standard deviation)
    expect(ea[0].measured.rps!).toBeGreaterThan(8000 * 0.4);
    expect(ea[0].measured.rps!).toBeLessThan(8000 * 1.6);
    expect(eb[0].measured.rps!).toBeGreaterThan(16000 * 0.8);
    expect(eb[0].measured.rps!).toBeLessThan(16000 * 1.2);
    expect(eb[0].costCpuNs).toBeGreaterThan(0);
    expect(eb[0].measured.cpu!).toBeCloseTo(eb[0].costCpuNs / 40e6, 6);
    // the service's own windows count only its own requests
    const offered = b.map((x) => x.tasks.find((t) => t.id === 'kv')!.latency!.offeredRps);
    expect(Math.max(...offered)).toBeLessThan(8000 * 1.5);
  });

  it('more cores for an overloaded service cut its tail latency', async () => {
    const raw = smallScenario();
    (raw.tasks as { load: unknown }[])[0].load = { constant: 60000 };
    const p = await makePlatform(raw);
    const before = p99(runFor(p, 200), 'kv');
    const r = p.apply([
      { kind: 'migrate', task: 'thrash', cores: [6, 7] },
      { kind: 'migrate', task: 'stream', cores: [6, 7] },
      { kind: 'setCores', task: 'kv', cores: [0, 1, 2, 3, 4, 5] },
    ]);
    expect(r.refused).toEqual([]);
    runFor(p, 200); // drain the backlog
    const after = p99(runFor(p, 200), 'kv');
    expect(after).toBeLessThan(before / 2);
  });

  it('refuses impossible actions with a reason and changes nothing', async () => {
    const p = await makePlatform(smallScenario());
    const before = JSON.stringify(p.observe().tasks.map((t) => [t.allocation, t.reserved]));
    const r = p.apply([
      { kind: 'setCacheWays', task: 'kv', mask: 0x1ffff },
      { kind: 'setCacheWays', task: 'kv', mask: 0b1011 },
      { kind: 'setCores', task: 'kv', cores: [0, 8] },
      { kind: 'reserve', task: 'kv', grant: { resource: 'cores', cores: [4] } },
      { kind: 'setMemBandwidth', task: 'stream', pct: 35 },
      { kind: 'throttle', task: 'stream', cpuPct: 0 },
      { kind: 'pause', task: 'nobody' },
      { kind: 'warm', task: 'kv', resource: 'cacheWays', budgetNs: 1e6 },
      { kind: 'release', task: 'kv', grant: { resource: 'cores', cores: [0] } },
    ]);
    expect(r.applied).toEqual([]);
    const reasons = r.refused.map((x) => x.reason);
    expect(reasons[0]).toMatch(/not within the 16 ways/);
    expect(reasons[1]).toMatch(/not contiguous/);
    expect(reasons[2]).toMatch(/core 8 does not exist/);
    expect(reasons[3]).toMatch(/cpuset of thrash/);
    expect(reasons[4]).toMatch(/multiple of the 10% MBA step/);
    expect(reasons[5]).toMatch(/outside/);
    expect(reasons[6]).toMatch(/no task "nobody"/);
    expect(reasons[7]).toMatch(/nothing|no cacheWays reserved/);
    expect(reasons[8]).toMatch(/not reserved/);
    expect(JSON.stringify(p.observe().tasks.map((t) => [t.allocation, t.reserved]))).toBe(before);
  });

  it('snapshots between actions share frozen allocation views; an action gives the next snapshot new ones', async () => {
    const p = await makePlatform(smallScenario());
    const a = p.observe().tasks[0];
    p.advance(10e6);
    const b = p.observe().tasks[0];
    expect(b.allocation).toBe(a.allocation);
    expect(Object.isFrozen(b.allocation) && Object.isFrozen(b.allocation.cores) && Object.isFrozen(b.reserved) && Object.isFrozen(b.reserved.cores)).toBe(true);
    expect(() => (b.allocation.cores as number[]).push(7)).toThrow();
    expect(() => {
      b.allocation.cores = [0];
    }).toThrow();
    expect(p.apply([{ kind: 'setCores', task: 'kv', cores: [0, 1] }, { kind: 'reserve', task: 'kv', grant: { resource: 'cores', cores: [2] } }]).refused).toEqual([]);
    const c = p.observe().tasks[0];
    expect(c.allocation.cores).toEqual([0, 1]);
    expect(c.reserved.cores).toEqual([2]);
    expect(a.allocation.cores).toEqual([0, 1, 2, 3]);
    expect(a.reserved.cores).toEqual([]);
  });

  it('a core cannot be reserved twice, and reserved units stay out of other tasks', async () => {
    const p = await makePlatform(smallScenario({}, '5-7'));
    let r = p.apply([{ kind: 'reserve', task: 'kv', grant: { resource: 'cores', cores: [4] } }]);
    expect(r.refused).toEqual([]);
    r = p.apply([
      { kind: 'reserve', task: 'thrash', grant: { resource: 'cores', cores: [4] } },
      { kind: 'migrate', task: 'thrash', cores: [4, 5] },
      { kind: 'reserve', task: 'kv', grant: { resource: 'cacheWays', mask: 0xf000 } },
      { kind: 'setCacheWays', task: 'thrash', mask: 0xff00 },
    ]);
    expect(r.applied.map((a) => a.kind)).toEqual(['reserve']);
    expect(r.refused.map((x) => x.reason)).toEqual([expect.stringMatching(/already reserved by kv/), expect.stringMatching(/reserved by kv/), expect.stringMatching(/reserved by kv/)]);
    const s = p.observe();
    expect(s.free.cores).toEqual([]);
    expect(s.tasks.find((t) => t.id === 'kv')!.reserved).toMatchObject({ cores: [4], cacheWayMask: 0xf000 });
  });

  it('a warmed reserved core activates without the cold-start delay', async () => {
    // an overloaded service (a backlog keeps every worker busy): the requests
    // completed in the first millisecond after a fifth core is activated
    // show whether that core started at once or after the cold start
    const completedAfterActivation = async (warm: boolean) => {
      const raw = smallScenario({}, '5-7');
      (raw.tasks as { load: unknown }[])[0].load = { constant: 80000 };
      const p = await makePlatform(raw);
      p.apply([{ kind: 'reserve', task: 'kv', grant: { resource: 'cores', cores: [4] } }, ...(warm ? [{ kind: 'warm' as const, task: 'kv', resource: 'cores' as const, budgetNs: 1e6 }] : [])]);
      runFor(p, 50);
      p.apply([{ kind: 'setCores', task: 'kv', cores: [0, 1, 2, 3, 4] }]);
      return runFor(p, 1, 1)[0].tasks.find((t) => t.id === 'kv')!.latency!.completedRps;
    };
    const warm = await completedAfterActivation(true);
    const cold = await completedAfterActivation(false);
    // cold: the fifth worker idles for the 0.5 ms activation time, about a tenth of the capacity in that millisecond
    expect(warm).toBeGreaterThan(cold * 1.04);
  });

  it('a cache warm-up moves what it warms no faster than the DRAM allows, however short its budget, and counts those bytes once', async () => {
    // three tasks each warm one reserved way (512 KiB on this 8 MiB LLC) with
    // a 1-ns budget; the same run without the warm-ups is the reference
    const peak = ddr4PeakBytesPerSec(defaultMachine().dram);
    const wayBytes = (8 * 1048576) / 16;
    const tasks = ['kv', 'thrash', 'stream'];
    const run = async (warm: boolean) => {
      const p = await makePlatform(smallScenario({}, '5-7'));
      p.advance(20e6);
      expect(p.apply(tasks.map((task, i) => ({ kind: 'reserve' as const, task, grant: { resource: 'cacheWays' as const, mask: 1 << i } }))).refused).toEqual([]);
      if (warm) expect(p.apply(tasks.map((task) => ({ kind: 'warm' as const, task, resource: 'cacheWays' as const, budgetNs: 1 }))).refused).toEqual([]);
      const start = p.observe();
      // the time the full DRAM peak needs for one way: no warm-up can be done by then
      p.advance(20e6 + Math.floor((wayBytes / peak) * 1e9));
      const early = p.observe();
      let maxBytesPerSec = 0;
      const maxOccupancy = tasks.map(() => 0);
      for (let t = 20e6 + 20e3; t <= 30e6; t += 20e3) {
        p.advance(t);
        const s = p.observe();
        maxBytesPerSec = Math.max(maxBytesPerSec, s.tasks.reduce((x, k) => x + k.memBandwidthBytesPerSec!, 0));
        s.tasks.forEach((k, i) => (maxOccupancy[i] = Math.max(maxOccupancy[i], k.llcOccupancyBytes!)));
      }
      const end = p.observe();
      const readBytes = end.tasks.map((k, i) => k.memReadBytes! - start.tasks[i].memReadBytes!);
      return { start, early, maxBytesPerSec, maxOccupancy, readBytes };
    };
    const cold = await run(false);
    const warm = await run(true);
    // every 20-us window stays under the channels' peak
    expect(warm.maxBytesPerSec).toBeLessThanOrEqual(peak);
    tasks.forEach((_, i) => {
      expect(warm.early.tasks[i].llcOccupancyBytes!).toBeLessThan(warm.start.tasks[i].llcOccupancyBytes! + wayBytes / 2);
      // ...but each one lands within the 10 ms (the warmed lines then age out toward the steady share)
      expect(warm.maxOccupancy[i]).toBeGreaterThan(warm.start.tasks[i].llcOccupancyBytes! + wayBytes * 0.8);
      expect(cold.maxOccupancy[i]).toBeLessThan(cold.start.tasks[i].llcOccupancyBytes! + wayBytes * 0.2);
    });
    // the service's traffic is its requests' plus the warm-up's: one way more
    const kvExtra = warm.readBytes[0] - cold.readBytes[0];
    expect(kvExtra).toBeGreaterThan(wayBytes * 0.9);
    expect(kvExtra).toBeLessThan(wayBytes * 1.2);
    // the jobs' own traffic moves with the contention, but the three warm-ups add about three ways, not a rate held past their end
    const allExtra = warm.readBytes.reduce((x, b) => x + b, 0) - cold.readBytes.reduce((x, b) => x + b, 0);
    expect(allExtra).toBeGreaterThan(wayBytes * 3 * 0.6);
    expect(allExtra).toBeLessThan(wayBytes * 3 * 1.5);
  });

  it('a cache warm-up with a budget the DRAM can meet lands at the end of its budget, and a second one does not fetch the same lines again', async () => {
    const wayBytes = (8 * 1048576) / 16;
    const run = async (second: boolean) => {
      const p = await makePlatform(smallScenario({}, '5-7'));
      p.advance(20e6);
      const kv = () => p.observe().tasks.find((t) => t.id === 'kv')!;
      expect(p.apply([{ kind: 'reserve', task: 'kv', grant: { resource: 'cacheWays', mask: 0b11 } }]).refused).toEqual([]);
      p.advance(22e6); // the share settles to the new masks
      const before = kv();
      expect(p.apply([{ kind: 'warm', task: 'kv', resource: 'cacheWays', budgetNs: 30e6 }]).refused).toEqual([]);
      p.advance(23e6);
      if (second) expect(p.apply([{ kind: 'warm', task: 'kv', resource: 'cacheWays', budgetNs: 1e6 }]).refused).toEqual([]);
      p.advance(51.9e6);
      const beforeEnd = kv();
      p.advance(52.01e6); // just after: the warmed lines then age out toward the steady share
      const atEnd = kv();
      return { before, beforeEnd, atEnd };
    };
    const once = await run(false);
    const twice = await run(true);
    for (const r of [once, twice]) {
      expect(r.beforeEnd.llcOccupancyBytes!).toBeLessThan(r.before.llcOccupancyBytes! + wayBytes / 4);
      expect(r.atEnd.llcOccupancyBytes!).toBeGreaterThan(r.before.llcOccupancyBytes! + 2 * wayBytes * 0.7);
    }
    // the second warm-up found the two ways' lines already on their way: no
    // second fetch (that would be 1 MiB more in its 1 ms)
    const reads = (r: typeof once) => r.atEnd.memReadBytes! - r.before.memReadBytes!;
    expect(Math.abs(reads(twice) - reads(once))).toBeLessThan(wayBytes / 4);
  });

  it('echo reports the demand the task will have', async () => {
    const raw = smallScenario();
    (raw.tasks as { load: unknown }[])[0].load = { phases: [{ ms: 50, value: 5000 }, { ms: 50, value: 20000 }], loop: true };
    const p = await makePlatform(raw);
    p.advance(45e6);
    p.apply([{ kind: 'echo', task: 'kv', durationNs: 40e6 }]);
    expect(p.observe().echoes).toEqual([]); // not back yet
    p.advance(p.now() + 5e6);
    const e = p.observe().echoes.find((x) => x.task === 'kv')!;
    expect(e.durationNs).toBe(40e6);
    // the window (45, 85] ms holds 5 ms at 5000 rps and 35 ms at 20000: 18125 on
    // average; the burst samples a tenth of its ~725 requests (sd ~12%), so it
    // reads far above the 5000 rps the service has when the echo is asked for
    expect(e.measured.rps!).toBeGreaterThan(18125 * 0.6);
    expect(e.measured.rps!).toBeLessThan(18125 * 1.4);
    expect(e.costCpuNs).toBeGreaterThan(0);
  });

  it('the oracle sees the future peak', async () => {
    const raw = smallScenario();
    (raw.tasks as { load: unknown }[])[0].load = { phases: [{ ms: 50, value: 5000 }, { ms: 50, value: 20000 }], loop: true };
    const p = await makePlatform(raw, { futureHorizonNs: 20e6 });
    runFor(p, 40);
    const f = p.observe().future!.find((x) => x.task === 'kv')!;
    expect(f.peak.rps).toBe(20000);
  });
});
