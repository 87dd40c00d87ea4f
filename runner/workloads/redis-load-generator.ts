// An open-loop load generator for redis-server over RESP on node:net.
//
// Open loop: request i is *intended* to be sent at arrival time t_i drawn from
// the arrival process, whatever happened to earlier requests, and its latency
// is measured from t_i, not from when it actually left. A server stall
// therefore shows up in full in the latency of every request scheduled during
// it (no coordinated omission), and requests still outstanding when a window
// closes contribute their current age.
//
// Sending happens on a worker thread (sender-worker.mjs) that sleeps until each
// request's time and writes it to the connection's socket, so requests leave
// within tens of microseconds of their intended time; the schedule (arrival
// times, keys, GET/SET) is drawn here from util/rng.ts streams and handed over
// in shared memory a little ahead. This thread owns the connections and reads
// the replies. How late the sender was is reported (sendLagP99Ns), so the
// measurement floor is visible.
//
// client 'native' (what the runner uses when the native addon loaded): the
// sender and the reply reader are native threads (native/src/loadgen.cc) on
// the same shared schedule, with their own connections, and a reply is
// timestamped by the thread that reads it; this thread only harvests the
// completed requests. Through the JS client the event loops are most of what
// is measured on a small host (runner/README.md, "Redis itself hardly moves").
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Rng } from '../../util/rng.js';
import { repoRoot } from '../repo-root.js';
import { nativeAddon } from '../../native/addon.js';
import type { ArrivalProcess } from './arrivals.js';
import { LatencyWindow, percentileSorted } from './latency-window.js';
import { encodeCommand, RespParser } from './resp.js';

/**
 * The client a run uses: 'auto' is the native one when the addon loaded
 * (it measures the service, not the event loops), else the JS one. Throws
 * when 'native' is asked for and the addon has not loaded.
 */
export function resolveLoadClient(requested: 'auto' | 'native' | 'js' | undefined): 'native' | 'js' {
  if (requested === 'js') return 'js';
  const available = typeof nativeAddon()?.loadgenStart === 'function';
  if (requested === 'native' && !available) throw new Error('the native load generator needs the native addon, which did not load (`umbra native` says why); use client: js or auto');
  return available ? 'native' : 'js';
}

export interface RedisTarget {
  socketPath?: string;
  host?: string;
  port?: number;
}

export interface LoadGeneratorOptions {
  target: RedisTarget;
  arrivals: ArrivalProcess;
  /** Key choice (hot set vs uniform) and GET/SET mix. */
  rng: Rng;
  connections?: number;
  keySpace?: number;
  /** Fraction of keys that are hot, and the share of requests that go to them. */
  hotKeyFraction?: number;
  hotRequestShare?: number;
  getRatio?: number;
  valueBytes?: number;
  /** Keys remembered for warm-up replay. */
  recentKeys?: number;
  /** Requests in flight beyond this are dropped (and counted) instead of queued without bound. */
  maxOutstanding?: number;
  /** Nice value of the sender thread (e.g. -10, as root, so it is not queued behind the load it measures). */
  senderNice?: number;
  /** 'native': sender and reply reader as native threads (needs the addon); 'js' (default): a worker thread sends, this thread reads. */
  client?: 'js' | 'native';
}

export interface LoadWindow {
  requests: number;
  p50Ns: number;
  p95Ns: number;
  p99Ns: number;
  maxNs: number;
  /** Mean over the same samples as the percentiles. */
  meanNs: number;
  offeredRps: number;
  completedRps: number;
  /** Requests sent but not answered at window end. */
  queueLength: number;
  errors: number;
  dropped: number;
  /** How late the sender was relative to intended send times (p99 over the window). */
  sendLagP99Ns: number;
}

const nowNs = () => Number(process.hrtime.bigint());

/** Share of requests that are GETs (the rest SET the key's value again). */
export const DEFAULT_GET_RATIO = 0.9;
/** Keys preloaded, and the bytes of each value, when the options do not say. */
export const DEFAULT_KEY_SPACE = 10_000;
export const DEFAULT_VALUE_BYTES = 64;

/** Keys are KEY_PREFIX + index (the native client is handed the prefix). */
const KEY_PREFIX = 'umbra:k:';

export function redisKey(i: number): string {
  return KEY_PREFIX + i;
}

/**
 * The key of the next request: with probability hotRequestShare (default
 * 0.8) one of the hottest hotKeyFraction (default 10%) of the key space,
 * otherwise any key, uniformly.
 */
export function pickKeyIndex(rng: Rng, keySpace: number, hotKeyFraction = 0.1, hotRequestShare = 0.8): number {
  const hot = Math.max(1, Math.floor(keySpace * hotKeyFraction));
  return rng.next() < hotRequestShare ? rng.int(hot) : rng.int(keySpace);
}

export function connectRedis(target: RedisTarget, timeoutMs = 2000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = target.socketPath ? connect(target.socketPath) : connect(target.port ?? 6379, target.host ?? '127.0.0.1');
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('redis connect timed out'));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Send commands on a socket and collect the replies (closed loop; setup and warm-up only). */
export async function redisCommands(socket: Socket, commands: string[][]): Promise<unknown[]> {
  const parser = new RespParser();
  const replies: unknown[] = [];
  return new Promise((resolve, reject) => {
    const done = () => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      replies.push(...parser.feed(chunk));
      if (replies.length >= commands.length) {
        done();
        resolve(replies);
      }
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    // the server went away (stopped, or exited) before answering everything
    const onClose = () => {
      done();
      reject(new Error(`redis closed the connection after ${replies.length} of ${commands.length} replies`));
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.write(Buffer.concat(commands.map(encodeCommand)));
  });
}

// Shared control words (see sender-worker.mjs).
const WRITE = 0;
const SENT = 1;
const STOP = 2;
const COMPLETED = 3;
const WAKE = 4;
const DROPPED = 5;
const ERRORS = 6;
// Request states in status[] (the native client adds the two replied ones).
const SENT_STATE = 1;
const DROPPED_STATE = 2;
const REPLIED = 3;
const REPLIED_ERROR = 4;
/**
 * The native sender could wake this long before a request's time and spin to
 * it. It does not: at real-time priority and 1-ns timer slack its wake-up is
 * ~25 us late at the median (counted in the latency, as every lateness is),
 * and on a 2-vCPU host a 20-us spin per request cost the co-located job
 * throughput without lowering the measured p99 (2 runs each, 2026-11-24).
 */
const NATIVE_SPIN_NS = 0;
/** Ring slots: requests scheduled ahead plus requests awaiting replies must fit. */
const RING = 1 << 18;
/** How far ahead of now the schedule is kept filled. */
const AHEAD_NS = 200e6;
const REFILL_MS = 20;

function senderScript(): string {
  return join(repoRoot(), 'runner', 'workloads', 'sender-worker.mjs');
}

export class OpenLoopLoadGenerator {
  private readonly sockets: Socket[] = [];
  /** Per connection: ring indices of its requests in send order, from the next reply on. */
  private readonly pending: number[][] = [];
  private readonly heads: number[] = [];
  private readonly window = new LatencyWindow();
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(16 * 4));
  private readonly times = new Float64Array(new SharedArrayBuffer(RING * 8));
  private readonly keys = new Int32Array(new SharedArrayBuffer(RING * 4));
  private readonly isGet = new Uint8Array(new SharedArrayBuffer(RING));
  private readonly status = new Uint8Array(new SharedArrayBuffer(RING));
  private readonly lagNs = new Float64Array(new SharedArrayBuffer(RING * 8));
  /** Native client: when each reply was read (ns since start). */
  private readonly doneNs = new Float64Array(new SharedArrayBuffer(RING * 8));
  private nativeHandle: number | null = null;
  /** Which client runs, and whether its threads got real-time priority (native only). */
  clientInfo: { kind: 'native' | 'js'; realtime: boolean; realtimeError?: string } = { kind: 'js', realtime: false };
  private worker: Worker | null = null;
  private workerExit: Promise<void> | null = null;
  private refill: NodeJS.Timeout | null = null;
  private startBig = 0n;
  private startNs = 0;
  private scheduled = 0;
  private nextIntendedNs = 0;
  private windowStartNs = 0;
  private sentAtWindowStart = 0;
  private errors = 0;
  private readonly recent: number[] = [];
  private recentPos = 0;
  private readonly keySpace: number;
  private readonly value: string;
  private running = false;
  private totalCompleted = 0;

  constructor(private readonly opts: LoadGeneratorOptions) {
    this.keySpace = opts.keySpace ?? DEFAULT_KEY_SPACE;
    this.value = 'v'.repeat(opts.valueBytes ?? DEFAULT_VALUE_BYTES);
  }

  /** Connect, preload the key space (so GETs hit), and start sending. */
  async start(): Promise<void> {
    const n = Math.max(1, this.opts.connections ?? 4);
    // resolveLoadClient throws when the native client is asked for and the addon did not load
    const addon = this.opts.client === 'native' && resolveLoadClient('native') === 'native' ? nativeAddon() : null;
    for (let c = 0; c < n; c++) {
      this.pending.push([]);
      this.heads.push(0);
      if (addon) continue; // the native threads connect themselves
      const s = await connectRedis(this.opts.target);
      const parser = new RespParser();
      s.on('data', (chunk: Buffer) => {
        for (const v of parser.feed(chunk)) this.onReply(c, v instanceof Error);
      });
      s.on('error', () => {
        this.errors++;
      });
      this.sockets.push(s);
    }
    const loader = await connectRedis(this.opts.target);
    try {
      for (let base = 0; base < this.keySpace; base += 1000) {
        const batch: string[][] = [];
        for (let k = base; k < Math.min(this.keySpace, base + 1000); k++) batch.push(['SET', redisKey(k), this.value]);
        await redisCommands(loader, batch);
      }
    } finally {
      loader.destroy();
    }
    this.startBig = process.hrtime.bigint();
    this.startNs = Number(this.startBig);
    this.windowStartNs = this.startNs;
    this.nextIntendedNs = this.opts.arrivals.next();
    this.running = true;
    this.fill();
    if (addon) {
      const t = this.opts.target;
      const r = addon.loadgenStart({
        ...(t.socketPath ? { socketPath: t.socketPath } : { host: t.host ?? '127.0.0.1', port: t.port ?? 6379 }),
        connections: n,
        ctrl: this.ctrl,
        times: this.times,
        keys: this.keys,
        isGet: this.isGet,
        status: this.status,
        lagNs: this.lagNs,
        doneNs: this.doneNs,
        cap: RING,
        startNs: this.startNs,
        maxOutstanding: this.opts.maxOutstanding ?? 100_000,
        keyPrefix: KEY_PREFIX,
        valueBytes: this.value.length,
        spinNs: NATIVE_SPIN_NS,
        realtime: true,
      });
      if (!r.ok || r.handle === undefined) throw new Error(`load generator: the native client could not connect to redis (${r.error ?? 'no handle'})`);
      this.nativeHandle = r.handle;
      this.clientInfo = { kind: 'native', realtime: r.realtime === true, ...(r.realtimeError ? { realtimeError: r.realtimeError } : {}) };
      this.refill = setInterval(() => this.fill(), REFILL_MS);
      return;
    }
    const fds = this.sockets.map((s) => (s as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1);
    if (fds.some((fd) => !(fd >= 0))) throw new Error('load generator: cannot get the connections\' file descriptors');
    this.worker = new Worker(senderScript(), {
      workerData: {
        ctrl: this.ctrl.buffer,
        times: this.times.buffer,
        keys: this.keys.buffer,
        isGet: this.isGet.buffer,
        status: this.status.buffer,
        lagNs: this.lagNs.buffer,
        cap: RING,
        fds,
        startNs: this.startBig.toString(),
        maxOutstanding: this.opts.maxOutstanding ?? 100_000,
        valueBytes: this.value.length,
        nice: this.opts.senderNice,
      },
    });
    this.workerExit = new Promise<void>((resolve) => {
      this.worker!.once('exit', () => resolve());
      this.worker!.once('error', () => {
        this.errors++;
      });
    });
    this.refill = setInterval(() => this.fill(), REFILL_MS);
  }

  /** Draw the schedule up to AHEAD_NS past now, as far as the ring has room. */
  private fill(): void {
    if (!this.running) return;
    this.harvest();
    const horizon = nowNs() - this.startNs + AHEAD_NS;
    let oldest = this.scheduled;
    for (let c = 0; c < this.pending.length; c++) if (this.heads[c] < this.pending[c].length) oldest = Math.min(oldest, this.pending[c][this.heads[c]]);
    const rng = this.opts.rng;
    const conns = this.pending.length;
    while (this.nextIntendedNs <= horizon && this.scheduled - oldest < RING - 1) {
      const i = this.scheduled;
      const slot = i % RING;
      this.times[slot] = this.nextIntendedNs;
      this.keys[slot] = this.pickKey();
      this.isGet[slot] = rng.next() < (this.opts.getRatio ?? DEFAULT_GET_RATIO) ? 1 : 0;
      Atomics.store(this.status, slot, 0);
      this.pending[i % conns].push(i);
      this.scheduled++;
      this.nextIntendedNs = this.opts.arrivals.next();
    }
    Atomics.store(this.ctrl, WRITE, this.scheduled);
    Atomics.notify(this.ctrl, WAKE);
  }

  private onReply(c: number, isError: boolean): void {
    const q = this.pending[c];
    // skip requests the sender dropped (outstanding limit, broken connection)
    while (this.heads[c] < q.length && Atomics.load(this.status, q[this.heads[c]] % RING) === DROPPED_STATE) this.heads[c]++;
    if (this.heads[c] >= q.length || Atomics.load(this.status, q[this.heads[c]] % RING) !== SENT_STATE) {
      this.errors++;
      return;
    }
    const slot = q[this.heads[c]++] % RING;
    this.compact(c);
    if (isError) this.errors++;
    this.record(slot, nowNs() - this.startNs - this.times[slot]);
    Atomics.store(this.ctrl, COMPLETED, this.totalCompleted);
  }

  /** An answered request: its latency into the current window, its key remembered for warm-up. */
  private record(slot: number, latencyNs: number): void {
    this.window.add(latencyNs);
    this.remember(this.keys[slot]);
    this.totalCompleted++;
  }

  /** Drop the answered requests from the front of connection c's queue once they are most of it. */
  private compact(c: number): void {
    if (this.heads[c] > 4096 && this.heads[c] * 2 > this.pending[c].length) {
      this.pending[c].splice(0, this.heads[c]);
      this.heads[c] = 0;
    }
  }

  /**
   * Native client: take the requests its reader has answered, in each
   * connection's order, into the current window (they completed before now,
   * and after the window's start: every window's close harvests first).
   */
  private harvest(): void {
    if (this.nativeHandle === null) return;
    for (let c = 0; c < this.pending.length; c++) {
      const q = this.pending[c];
      let h = this.heads[c];
      while (h < q.length) {
        const slot = q[h] % RING;
        const st = Atomics.load(this.status, slot);
        if (st === DROPPED_STATE) {
          h++;
          continue;
        }
        if (st !== REPLIED && st !== REPLIED_ERROR) break;
        if (st === REPLIED_ERROR) this.errors++;
        this.record(slot, this.doneNs[slot] - this.times[slot]);
        h++;
      }
      this.heads[c] = h;
      this.compact(c);
    }
  }

  /** The next request's key, from the service's stream unless another is given (an echo burst's). */
  private pickKey(rng: Rng = this.opts.rng): number {
    return pickKeyIndex(rng, this.keySpace, this.opts.hotKeyFraction, this.opts.hotRequestShare);
  }

  private remember(k: number): void {
    const cap = this.opts.recentKeys ?? 1024;
    if (this.recent.length < cap) this.recent.push(k);
    else this.recent[this.recentPos++ % cap] = k;
  }

  /** Requests sent and not yet answered. */
  outstanding(): number {
    this.harvest();
    let n = 0;
    for (let c = 0; c < this.pending.length; c++) {
      const q = this.pending[c];
      for (let h = this.heads[c]; h < q.length; h++) {
        const st = Atomics.load(this.status, q[h] % RING);
        if (st === 0) break;
        if (st === SENT_STATE) n++;
      }
    }
    return n;
  }

  get completed(): number {
    return this.totalCompleted;
  }

  /** Close the current window and return its statistics. */
  takeWindow(): LoadWindow {
    this.harvest();
    const now = nowNs();
    const rel = now - this.startNs;
    const ages: number[] = [];
    for (let c = 0; c < this.pending.length; c++) {
      const q = this.pending[c];
      for (let h = this.heads[c]; h < q.length; h++) {
        const st = Atomics.load(this.status, q[h] % RING);
        if (st === 0) break;
        if (st === SENT_STATE) ages.push(rel - this.times[q[h] % RING]);
      }
    }
    const st = this.window.take(ages);
    const secs = Math.max(1e-9, (now - this.windowStartNs) / 1e9);
    const sent = Atomics.load(this.ctrl, SENT);
    const lags: number[] = [];
    for (let i = Math.max(this.sentAtWindowStart, sent - 100_000); i < sent; i++) lags.push(this.lagNs[i % RING]);
    const out: LoadWindow = {
      requests: st.count,
      p50Ns: st.p50Ns,
      p95Ns: st.p95Ns,
      p99Ns: st.p99Ns,
      maxNs: st.maxNs,
      meanNs: st.meanNs,
      offeredRps: (sent - this.sentAtWindowStart) / secs,
      completedRps: st.count / secs,
      queueLength: ages.length,
      errors: this.errors + Atomics.load(this.ctrl, ERRORS),
      dropped: Atomics.load(this.ctrl, DROPPED),
      sendLagP99Ns: percentileSorted(Float64Array.from(lags).sort(), 0.99),
    };
    this.sentAtWindowStart = sent;
    this.windowStartNs = now;
    return out;
  }

  /** The most recently requested distinct keys, hottest-first by recency. */
  recentHotKeys(limit: number): string[] {
    const seen = new Set<number>();
    const out: string[] = [];
    const cap = this.recent.length;
    for (let i = 0; i < cap && out.length < limit; i++) {
      const k = this.recent[(this.recentPos - 1 - i + cap * 2) % cap];
      if (k === undefined || seen.has(k)) continue;
      seen.add(k);
      out.push(redisKey(k));
    }
    return out;
  }

  /**
   * Warm-up by replay: GET the recently hot keys on a separate connection, in
   * pipelined batches, until they are all touched or the budget is spent, so
   * redis's hash buckets, values and page tables are cache-resident before a
   * predicted rise.
   */
  async warm(budgetNs: number, maxKeys = 4096): Promise<{ keys: number; elapsedNs: number }> {
    const t0 = nowNs();
    const keys = this.recentHotKeys(maxKeys);
    const s = await connectRedis(this.opts.target);
    let done = 0;
    try {
      for (let i = 0; i < keys.length && nowNs() - t0 < budgetNs; i += 64) {
        const batch = keys.slice(i, i + 64).map((k) => ['GET', k]);
        await redisCommands(s, batch);
        done += batch.length;
      }
    } finally {
      s.destroy();
    }
    return { keys: done, elapsedNs: nowNs() - t0 };
  }

  /**
   * Echo probe: a bounded burst of extra requests at burstRps for durationNs on
   * its own connection (open loop too), measuring what the service does under
   * it. Waits at most durationNs + 200 ms for replies.
   */
  async burst(durationNs: number, burstRps: number, rng: Rng): Promise<{ sent: number; completed: number; p99Ns: number; completedRps: number }> {
    const s = await connectRedis(this.opts.target);
    const lat = new LatencyWindow();
    let completed = 0;
    const intended: number[] = [];
    let head = 0;
    const parser = new RespParser();
    s.on('data', (chunk: Buffer) => {
      for (const _ of parser.feed(chunk)) {
        lat.add(nowNs() - intended[head++]);
        completed++;
      }
    });
    s.on('error', () => {});
    const t0 = nowNs();
    let next = t0 + rng.exp(1e9 / burstRps);
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = nowNs();
        while (next <= now && next - t0 < durationNs) {
          intended.push(next);
          // keys from the burst's own stream: the service's stream (opts.rng) draws the schedule's keys
          s.write(encodeCommand(['GET', redisKey(this.pickKey(rng))]));
          next += rng.exp(1e9 / burstRps);
        }
        if (now - t0 >= durationNs) resolve();
        else setTimeout(tick, 1);
      };
      tick();
    });
    const deadline = nowNs() + 200e6;
    while (completed < intended.length && nowNs() < deadline) await new Promise((r) => setTimeout(r, 2));
    s.destroy();
    const st = lat.take();
    return { sent: intended.length, completed, p99Ns: st.p99Ns, completedRps: completed / ((nowNs() - t0) / 1e9) };
  }

  /** Stop the sender thread first (it writes to the sockets' descriptors), then close the connections. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.refill) clearInterval(this.refill);
    this.refill = null;
    Atomics.store(this.ctrl, STOP, 1);
    Atomics.notify(this.ctrl, WAKE);
    if (this.nativeHandle !== null) {
      nativeAddon()?.loadgenStop(this.nativeHandle);
      this.nativeHandle = null;
    }
    if (this.workerExit) await this.workerExit;
    this.worker = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.length = 0;
  }
}
