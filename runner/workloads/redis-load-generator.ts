// An open-loop load generator for redis-server over RESP on node:net.
//
// Open loop: request i is *intended* to be sent at arrival time t_i drawn from
// the arrival process, whatever happened to earlier requests, and its latency
// is measured from t_i, not from when it actually left. A server stall
// therefore shows up in full in the latency of every request scheduled during
// it (no coordinated omission), and requests still outstanding when a window
// closes contribute their current age. The sender wakes about every
// millisecond and sends every request that is due; how late it was is
// reported separately (sendLagP99Ns) so the measurement floor is visible.
import { connect, type Socket } from 'node:net';
import type { Rng } from '../../util/rng.js';
import type { ArrivalProcess } from './arrivals.js';
import { LatencyWindow, percentileSorted } from './latency-window.js';
import { encodeCommand, RespParser } from './resp.js';

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
}

export interface LoadWindow {
  requests: number;
  p50Ns: number;
  p95Ns: number;
  p99Ns: number;
  maxNs: number;
  offeredRps: number;
  completedRps: number;
  /** Requests sent but not answered at window end. */
  queueLength: number;
  errors: number;
  dropped: number;
  /** How late the sender was relative to intended send times (p99 over the window). */
  sendLagP99Ns: number;
}

interface Pending {
  intendedNs: number;
}

const nowNs = () => Number(process.hrtime.bigint());

class RedisConnection {
  readonly pending: Pending[] = [];
  private head = 0;
  private readonly parser = new RespParser();
  constructor(
    readonly socket: Socket,
    onReply: (p: Pending, isError: boolean) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const v of this.parser.feed(chunk)) {
        const p = this.shift();
        if (p) onReply(p, v instanceof Error);
      }
    });
  }

  push(p: Pending, cmd: Buffer): void {
    this.pending.push(p);
    this.socket.write(cmd);
  }

  private shift(): Pending | undefined {
    if (this.head >= this.pending.length) return undefined;
    const p = this.pending[this.head++];
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    return p;
  }

  outstanding(): number {
    return this.pending.length - this.head;
  }

  ages(now: number, into: number[]): void {
    for (let i = this.head; i < this.pending.length; i++) into.push(now - this.pending[i].intendedNs);
  }
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
    const onData = (chunk: Buffer) => {
      replies.push(...parser.feed(chunk));
      if (replies.length >= commands.length) {
        socket.off('data', onData);
        socket.off('error', onError);
        resolve(replies);
      }
    };
    const onError = (err: Error) => {
      socket.off('data', onData);
      reject(err);
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.write(Buffer.concat(commands.map(encodeCommand)));
  });
}

export class OpenLoopLoadGenerator {
  private readonly conns: RedisConnection[] = [];
  private readonly window = new LatencyWindow();
  private readonly sendLags: number[] = [];
  private startNs = 0;
  private nextIntendedNs = 0;
  private rr = 0;
  private timer: NodeJS.Timeout | null = null;
  private windowStartNs = 0;
  private offeredInWindow = 0;
  private errors = 0;
  private dropped = 0;
  private readonly recent: number[] = [];
  private recentPos = 0;
  private readonly keySpace: number;
  private readonly value: string;
  private running = false;
  private totalCompleted = 0;

  constructor(private readonly opts: LoadGeneratorOptions) {
    this.keySpace = opts.keySpace ?? 10_000;
    this.value = 'v'.repeat(opts.valueBytes ?? 64);
  }

  private key(i: number): string {
    return `umbra:k:${i}`;
  }

  /** Connect, preload the key space (so GETs hit), and start sending. */
  async start(): Promise<void> {
    const n = this.opts.connections ?? 4;
    for (let i = 0; i < n; i++) {
      const s = await connectRedis(this.opts.target);
      s.on('error', () => {
        this.errors++;
      });
      this.conns.push(new RedisConnection(s, (p, isError) => this.onReply(p, isError)));
    }
    const loader = await connectRedis(this.opts.target);
    try {
      for (let base = 0; base < this.keySpace; base += 1000) {
        const batch: string[][] = [];
        for (let k = base; k < Math.min(this.keySpace, base + 1000); k++) batch.push(['SET', this.key(k), this.value]);
        await redisCommands(loader, batch);
      }
    } finally {
      loader.destroy();
    }
    this.startNs = nowNs();
    this.windowStartNs = this.startNs;
    this.nextIntendedNs = this.startNs + this.opts.arrivals.next();
    this.running = true;
    this.schedule();
  }

  private onReply(p: Pending, isError: boolean): void {
    if (isError) this.errors++;
    this.window.add(nowNs() - p.intendedNs);
    this.totalCompleted++;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => this.sendDue(), 1);
  }

  private pickKey(): number {
    const rng = this.opts.rng;
    const hot = Math.max(1, Math.floor(this.keySpace * (this.opts.hotKeyFraction ?? 0.1)));
    return rng.next() < (this.opts.hotRequestShare ?? 0.8) ? rng.int(hot) : rng.int(this.keySpace);
  }

  private sendDue(): void {
    const now = nowNs();
    const max = this.opts.maxOutstanding ?? 100_000;
    while (this.nextIntendedNs <= now) {
      const intendedNs = this.nextIntendedNs;
      this.offeredInWindow++;
      this.sendLags.push(now - intendedNs);
      if (this.outstanding() >= max) {
        this.dropped++;
      } else {
        const k = this.pickKey();
        this.remember(k);
        const isGet = this.opts.rng.next() < (this.opts.getRatio ?? 0.9);
        const cmd = encodeCommand(isGet ? ['GET', this.key(k)] : ['SET', this.key(k), this.value]);
        const c = this.conns[this.rr++ % this.conns.length];
        c.push({ intendedNs }, cmd);
      }
      const gap = this.opts.arrivals.next();
      if (gap === Infinity) {
        this.nextIntendedNs = Infinity;
        break;
      }
      this.nextIntendedNs = this.startNs + gap;
    }
    this.schedule();
  }

  private remember(k: number): void {
    const cap = this.opts.recentKeys ?? 1024;
    if (this.recent.length < cap) this.recent.push(k);
    else this.recent[this.recentPos++ % cap] = k;
  }

  outstanding(): number {
    let n = 0;
    for (const c of this.conns) n += c.outstanding();
    return n;
  }

  get completed(): number {
    return this.totalCompleted;
  }

  /** Close the current window and return its statistics. */
  takeWindow(): LoadWindow {
    const now = nowNs();
    const ages: number[] = [];
    for (const c of this.conns) c.ages(now, ages);
    const st = this.window.take(ages);
    const secs = Math.max(1e-9, (now - this.windowStartNs) / 1e9);
    const lags = Float64Array.from(this.sendLags).sort();
    const out: LoadWindow = {
      requests: st.count,
      p50Ns: st.p50Ns,
      p95Ns: st.p95Ns,
      p99Ns: st.p99Ns,
      maxNs: st.maxNs,
      offeredRps: this.offeredInWindow / secs,
      completedRps: st.count / secs,
      queueLength: ages.length,
      errors: this.errors,
      dropped: this.dropped,
      sendLagP99Ns: percentileSorted(lags, 0.99),
    };
    this.sendLags.length = 0;
    this.offeredInWindow = 0;
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
      out.push(this.key(k));
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
          s.write(encodeCommand(['GET', this.key(this.pickKey())]));
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

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    for (const c of this.conns) c.socket.destroy();
    this.conns.length = 0;
  }
}
