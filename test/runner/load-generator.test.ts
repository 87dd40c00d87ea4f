// The open-loop load generator: arrivals are reproducible from the seed, the
// RESP codec round-trips, and — the point of open loop — a server stall shows
// up in the measured latency instead of pausing the sender (no coordinated
// omission). Uses a small RESP server in this process, so it needs no redis.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rngFor } from '../../util/rng.js';
import { PoissonArrivals, rateStepsFromSeries, TraceArrivals } from '../../runner/workloads/arrivals.js';
import { LatencyWindow, percentileSorted } from '../../runner/workloads/latency-window.js';
import { encodeCommand, RespParser, type RespValue } from '../../runner/workloads/resp.js';
import { OpenLoopLoadGenerator, type LoadGeneratorOptions } from '../../runner/workloads/redis-load-generator.js';
import { nativeAddon } from '../../native/addon.js';

/** A RESP server that can be told to stall: replies are held until the stall ends. */
class FakeRedis {
  server: Server;
  received: { atNs: number; cmd: string }[] = [];
  stalledUntilNs = 0;
  /** Answer GETs with an error reply. */
  failGets = false;
  private held: { sock: Socket; data: Buffer }[] = [];
  private timer: NodeJS.Timeout;
  constructor(readonly socketPath: string) {
    this.server = createServer((sock) => {
      const p = new RespParser();
      sock.on('data', (chunk) => {
        for (const v of p.feed(chunk)) {
          const args = v as string[];
          this.received.push({ atNs: Number(process.hrtime.bigint()), cmd: args[0] });
          const reply = args[0] === 'PING' ? '+PONG\r\n' : args[0] === 'SET' ? '+OK\r\n' : this.failGets ? '-ERR no\r\n' : '$1\r\nv\r\n';
          this.reply(sock, Buffer.from(reply));
        }
      });
      sock.on('error', () => {});
    });
    this.timer = setInterval(() => this.flush(), 1);
  }
  private reply(sock: Socket, data: Buffer) {
    if (Number(process.hrtime.bigint()) < this.stalledUntilNs || this.held.length) this.held.push({ sock, data });
    else sock.write(data);
  }
  private flush() {
    if (Number(process.hrtime.bigint()) < this.stalledUntilNs) return;
    for (const h of this.held.splice(0)) h.sock.write(h.data);
  }
  listen(): Promise<void> {
    return new Promise((r) => this.server.listen(this.socketPath, r));
  }
  close(): Promise<void> {
    clearInterval(this.timer);
    return new Promise((r) => this.server.close(() => r()));
  }
}

let dir: string;
let server: FakeRedis | null = null;
let gen: OpenLoopLoadGenerator | null = null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'umbra-loadgen-test-'));
});
afterEach(async () => {
  await gen?.stop();
  gen = null;
  await server?.close();
  server = null;
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('arrivals', () => {
  it('are reproducible from the seed and differ between seeds', () => {
    const draw = (seed: number) => {
      const a = new PoissonArrivals(1000, rngFor(seed, 'arrivals/lc0'));
      return Array.from({ length: 50 }, () => a.next());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('Poisson: times increase and the mean gap is 1/rate', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 100, max: 100_000 }), (seed, rate) => {
        const a = new PoissonArrivals(rate, rngFor(seed, 'p'));
        let prev = 0;
        const n = 4000;
        for (let i = 0; i < n; i++) {
          const t = a.next();
          expect(t).toBeGreaterThan(prev);
          prev = t;
        }
        // Mean of n exponentials: relative sd 1/sqrt(n) ≈ 1.6%; 6 sd bound.
        expect(Math.abs(prev / n - 1e9 / rate) / (1e9 / rate)).toBeLessThan(0.1);
      }),
      { numRuns: 30 },
    );
  });

  it('trace-driven: each step gets rate x duration arrivals, a zero-rate step none', () => {
    const steps = [
      { startNs: 0, ratePerSec: 2000 },
      { startNs: 1e9, ratePerSec: 0 },
      { startNs: 2e9, ratePerSec: 8000 },
    ];
    const a = new TraceArrivals(steps, rngFor(3, 'trace'), 3e9);
    const counts = [0, 0, 0];
    for (let t = a.next(); t !== Infinity; t = a.next()) counts[Math.floor(t / 1e9)]++;
    expect(counts[1]).toBe(0);
    // Poisson counts: sd = sqrt(mean); 5 sd bounds.
    expect(Math.abs(counts[0] - 2000)).toBeLessThan(5 * Math.sqrt(2000));
    expect(Math.abs(counts[2] - 8000)).toBeLessThan(5 * Math.sqrt(8000));
  });

  it('a utilisation series becomes rate steps scaled to the peak rate', () => {
    expect(rateStepsFromSeries([10, 40, 20, 0], 1e9, 4000)).toEqual([
      { startNs: 0, ratePerSec: 1000 },
      { startNs: 1e9, ratePerSec: 4000 },
      { startNs: 2e9, ratePerSec: 2000 },
      { startNs: 3e9, ratePerSec: 0 },
    ]);
    expect(() => rateStepsFromSeries([1, Number.NaN], 1e9, 10)).toThrow(/series\[1\]/);
    expect(() => rateStepsFromSeries([], 1e9, 10)).toThrow(/empty/);
  });

  it('rejects malformed traces', () => {
    expect(() => new TraceArrivals([], rngFor(1, 'x'))).toThrow(/empty/);
    expect(() => new TraceArrivals([{ startNs: 5, ratePerSec: 1 }, { startNs: 5, ratePerSec: 1 }], rngFor(1, 'x'))).toThrow(/increase/);
    expect(() => new PoissonArrivals(0, rngFor(1, 'x'))).toThrow(/> 0/);
  });
});

describe('RESP and latency windows', () => {
  const valueArb: fc.Arbitrary<RespValue> = fc.letrec<{ v: RespValue }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.string(),
      fc.integer(),
      fc.constant(null),
      fc.array(tie('v'), { maxLength: 4 }),
    ),
  })).v;
  const encode = (v: RespValue): string => {
    if (v === null) return '$-1\r\n';
    if (typeof v === 'number') return `:${v}\r\n`;
    if (typeof v === 'string') return `$${Buffer.byteLength(v)}\r\n${v}\r\n`;
    if (v instanceof Error) return `-${v.message}\r\n`;
    return `*${v.length}\r\n${v.map(encode).join('')}`;
  };

  it('parses any reply stream, however it is split into chunks', () => {
    fc.assert(
      fc.property(fc.array(valueArb, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (values, cuts) => {
        const bytes = Buffer.from(values.map(encode).join(''));
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const p = new RespParser();
        const out: RespValue[] = [];
        let prev = 0;
        for (const c of [...points, bytes.length]) {
          out.push(...p.feed(bytes.subarray(prev, c)));
          prev = c;
        }
        expect(out).toEqual(values);
      }),
    );
  });

  it('encodes commands as RESP arrays of bulk strings', () => {
    expect(encodeCommand(['SET', 'k', 'vé']).toString()).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nvé\r\n');
  });

  it('percentiles are nearest-rank over the samples', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1e9 }), { minLength: 1, maxLength: 300 }), (xs) => {
        const w = new LatencyWindow();
        for (const x of xs) w.add(x);
        const st = w.take();
        const sorted = [...xs].sort((a, b) => a - b);
        expect(st.count).toBe(xs.length);
        expect(st.p99Ns).toBe(sorted[Math.ceil(0.99 * xs.length) - 1]);
        expect(st.p50Ns).toBe(percentileSorted(Float64Array.from(sorted), 0.5));
        expect(st.maxNs).toBe(sorted[sorted.length - 1]);
        expect(w.size).toBe(0);
      }),
    );
  });
});

// the JS client everywhere; the native one (sender and reader threads in the addon) where the addon loaded
const clients: ('js' | 'native')[] = nativeAddon()?.loadgenStart ? ['js', 'native'] : ['js'];

describe.each(clients)('open-loop load generator, %s client', (client) => {
  /** A fake redis on `socket` and a generator started against it: Poisson at `rate`, arrivals and keys drawn from `seed`. */
  const startGenerator = async (socket: string, rate: number, seed: number, o: Partial<LoadGeneratorOptions> = {}) => {
    const s = new FakeRedis(join(dir, socket));
    server = s;
    await s.listen();
    const g = new OpenLoopLoadGenerator({ target: { socketPath: s.socketPath }, arrivals: new PoissonArrivals(rate, rngFor(seed, 'a')), rng: rngFor(seed, 'k'), client, ...o });
    gen = g;
    await g.start();
    return { server: s, gen: g };
  };

  it('keeps sending on schedule through a server stall and charges the stall to latency (no coordinated omission)', async () => {
    const rate = 2000;
    const { server, gen } = await startGenerator('r.sock', rate, 11, { keySpace: 100 });
    // which client ran is reported; the native one's threads are real-time when the kernel allows it (root here)
    expect(gen.clientInfo.kind).toBe(client);
    if (client === 'js') expect(gen.clientInfo.realtime).toBe(false);
    else if (process.getuid?.() === 0) expect(gen.clientInfo).toEqual({ kind: 'native', realtime: true });
    await sleep(150);
    const calm = gen.takeWindow();
    expect(calm.requests).toBeGreaterThan(100);
    // Stall the server for 200 ms.
    const stallNs = 200e6;
    const t0 = Number(process.hrtime.bigint());
    server.stalledUntilNs = t0 + stallNs;
    const before = server.received.length;
    await sleep(100);
    // Mid-stall: requests keep going out, and the window shows their age even though none completed.
    const mid = gen.takeWindow();
    const sentDuringStall = server.received.length - before;
    expect(sentDuringStall).toBeGreaterThan(0.5 * rate * 0.1);
    expect(mid.queueLength).toBeGreaterThan(0.5 * rate * 0.1);
    expect(mid.p99Ns).toBeGreaterThan(50e6);
    await sleep(250);
    const after = gen.takeWindow();
    // Requests intended at the start of the stall waited ~200 ms: the tail shows it.
    expect(after.maxNs).toBeGreaterThan(0.75 * stallNs);
    expect(after.p99Ns).toBeGreaterThan(0.5 * stallNs);
    // A closed-loop client would have sent ~nothing during the stall; open loop offered the full rate.
    expect(after.offeredRps).toBeGreaterThan(0.6 * rate);
    expect(calm.p50Ns).toBeLessThan(mid.p50Ns);
    const calm2 = (await sleep(150), gen.takeWindow());
    expect(calm2.p99Ns).toBeLessThan(50e6);
  });

  it('counts error replies as errors, still as answered requests, and sends every SET with its value', async () => {
    const { server, gen } = await startGenerator('e.sock', 2000, 7, { keySpace: 50, getRatio: 0.5, valueBytes: 300 });
    server.failGets = true;
    await sleep(200);
    const w = gen.takeWindow();
    const sets = server.received.filter((r) => r.cmd === 'SET').length - 50; // less the key-space preload
    const gets = server.received.filter((r) => r.cmd === 'GET').length;
    expect(sets).toBeGreaterThan(50);
    expect(gets).toBeGreaterThan(50);
    // every GET answered -ERR: an error each, and each still a completed request
    expect(w.errors).toBeGreaterThanOrEqual(gets - 5);
    expect(w.errors).toBeLessThanOrEqual(gets);
    expect(w.requests).toBeGreaterThanOrEqual(sets + gets - 10);
    expect(w.dropped).toBe(0);
  });

  it('drops what is past the outstanding limit during a stall, counts it, and pairs the later replies with the right requests', async () => {
    const { server, gen } = await startGenerator('d.sock', 2000, 9, { keySpace: 100, maxOutstanding: 20 });
    await sleep(100);
    gen.takeWindow();
    server.stalledUntilNs = Number(process.hrtime.bigint()) + 150e6;
    await sleep(300);
    const stalled = gen.takeWindow();
    // ~300 requests were due during the stall; at most 20 could be outstanding
    expect(stalled.dropped).toBeGreaterThan(150);
    expect(stalled.errors).toBe(0);
    await sleep(200);
    const after = gen.takeWindow();
    // replies after the stall belong to requests sent after it: fresh latencies, not the dropped ones' ages
    expect(after.requests).toBeGreaterThan(200);
    expect(after.p50Ns).toBeLessThan(20e6);
    expect(after.errors).toBe(0);
    expect(gen.outstanding()).toBeLessThan(20);
  });

  it('replays the recently hot keys for warm-up within its budget, and runs bounded echo bursts', async () => {
    const { server, gen } = await startGenerator('w.sock', 1000, 5, { keySpace: 1000 });
    await sleep(100);
    const hot = gen.recentHotKeys(50);
    expect(new Set(hot).size).toBe(hot.length);
    expect(hot.length).toBeGreaterThan(10);
    const gets = server.received.length;
    const w = await gen.warm(50e6, 64);
    expect(w.keys).toBeGreaterThan(0);
    expect(w.keys).toBeLessThanOrEqual(64);
    expect(server.received.length - gets).toBeGreaterThanOrEqual(w.keys);
    const b = await gen.burst(50e6, 4000, rngFor(5, 'burst'));
    expect(b.sent).toBeGreaterThan(100);
    expect(b.completed).toBe(b.sent);
  });
});

describe('redisCommands (setup and warm-up requests)', () => {
  it('fails, saying how far it got, when the server closes the connection before answering every command', async () => {
    const { connectRedis, redisCommands } = await import('../../runner/workloads/redis-load-generator.js');
    const dir = mkdtempSync(join(tmpdir(), 'umbra-redis-close-'));
    const path = join(dir, 's.sock');
    // answers the first command, then hangs up (a server stopped mid-batch)
    const server = createServer((c: Socket) => c.once('data', () => c.end('+OK\r\n')));
    await new Promise<void>((r) => server.listen(path, r));
    try {
      const s = await connectRedis({ socketPath: path });
      await expect(redisCommands(s, [['PING'], ['PING'], ['PING']])).rejects.toThrow(/closed the connection after 1 of 3 replies/);
      s.destroy();
    } finally {
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
