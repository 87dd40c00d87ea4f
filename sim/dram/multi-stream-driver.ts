// Several request streams (cores) driving the cycle-level memory system, each
// closed-loop: a stream computes for an exponential gap of mean 1/rate, then
// issues a request; with maxOutstanding reads in flight it stalls until one
// returns. Requests wait in a per-channel FIFO in front of the controller
// (one accepted per channel per cycle, as long as the controller has room), so
// under saturation streams share the channel in proportion to what they keep
// in flight. Latency is counted from issue (including that wait) to data.
//
// Addresses: with probability rowHitRate the next request goes to the next
// column of the stream's current row; otherwise to a random line of a random
// page of the stream's allowed colours (a new row, usually a new bank).
// This is what the analytic model (dram-analytic-model.ts) is validated on.
import { rngFor, type Rng } from '../../util/rng.js';
import type { DramConfig } from './dram-config.js';
import { AddressDecoder } from './address-mapping.js';
import { MemorySystem } from './memory-system.js';
import { frameAddressForPage, PAGE_BYTES } from './page-colouring.js';

export interface DriverStream {
  id: string;
  requestsPerSec: number;
  rowHitRate: number;
  readFraction: number;
  colours: number[] | null;
  maxOutstanding: number;
}

export interface DriverStreamResult {
  id: string;
  issued: number;
  achievedRequestsPerSec: number;
  avgReadLatencyNs: number;
  /** Row hits / column commands of this stream's requests. */
  rowHitRate: number;
}

export interface DriverResult {
  streams: DriverStreamResult[];
  /** Data-bus busy fraction per channel over the measured window. */
  channelUtilisation: number[];
  cycles: number;
}

export interface DriverOptions {
  seed: number | string;
  warmupCycles: number;
  measureCycles: number;
}

class MinHeap {
  private t: number[] = [];
  private v: number[] = [];
  get size(): number {
    return this.t.length;
  }
  peekTime(): number {
    return this.t.length ? this.t[0] : Infinity;
  }
  push(time: number, value: number): void {
    const t = this.t;
    const v = this.v;
    let i = t.length;
    t.push(time);
    v.push(value);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (t[p] <= time) break;
      t[i] = t[p];
      v[i] = v[p];
      i = p;
    }
    t[i] = time;
    v[i] = value;
  }
  pop(): number {
    const t = this.t;
    const v = this.v;
    const top = v[0];
    const lt = t.pop()!;
    const lv = v.pop()!;
    if (t.length > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= t.length) break;
        if (c + 1 < t.length && t[c + 1] < t[c]) c++;
        if (t[c] >= lt) break;
        t[i] = t[c];
        v[i] = v[c];
        i = c;
      }
      t[i] = lt;
      v[i] = lv;
    }
    return top;
  }
}

interface StreamState {
  spec: DriverStream;
  rng: Rng;
  gapMeanCycles: number;
  nextIssue: number;
  outstanding: number;
  addr: number;
  page: number;
  // window stats
  issued: number;
  completed: number;
  latencySum: number;
  reads: number;
  columns: number;
  hits: number;
}

export function runStreams(config: DramConfig, streams: DriverStream[], opts: DriverOptions): DriverResult {
  const mem = new MemorySystem(config);
  const dec = new AddressDecoder(config);
  const tCk = config.tCkNs;
  const colsPerRow = config.columns / config.burstLength;
  const lineBytes = config.busWidthBits / 8 * config.burstLength;
  const end = opts.warmupCycles + opts.measureCycles;
  const st: StreamState[] = streams.map((s, i) => ({
    spec: s,
    rng: rngFor(opts.seed, `dram-driver/${i}/${s.id}`),
    gapMeanCycles: s.requestsPerSec > 0 ? 1 / (s.requestsPerSec * tCk * 1e-9) : Infinity,
    nextIssue: 0,
    outstanding: 0,
    addr: 0,
    page: 0,
    issued: 0,
    completed: 0,
    latencySum: 0,
    reads: 0,
    columns: 0,
    hits: 0,
  }));
  for (const s of st) {
    s.nextIssue = Math.round(s.rng.exp(s.gapMeanCycles));
    s.addr = randomLine(s);
  }
  // request bookkeeping
  let reqStream = new Int32Array(1 << 12);
  let reqIssue = new Float64Array(1 << 12);
  let reqWrite = new Uint8Array(1 << 12);
  let nextReq = 0;
  const freeReq: number[] = [];
  const completions = new MinHeap();
  const ingress: number[][] = Array.from({ length: config.channels }, () => []);
  const ingressAddr: number[][] = Array.from({ length: config.channels }, () => []);
  const busBursts = new Float64Array(config.channels);

  function randomLine(s: StreamState): number {
    const pagesPerFrameSpace = 2 ** 20;
    s.page = s.rng.int(pagesPerFrameSpace);
    const frame = frameAddressForPage(config, s.page, s.spec.colours);
    return frame + s.rng.int(PAGE_BYTES / lineBytes) * lineBytes;
  }
  function nextAddress(s: StreamState): number {
    if (s.rng.next() < s.spec.rowHitRate) {
      const c = dec.decode(s.addr);
      c.column = (c.column + 1) % colsPerRow;
      return dec.encode(c);
    }
    return randomLine(s);
  }

  const sink = {
    readCompleted(id: number, _accepted: number, done: number) {
      completions.push(done, id);
    },
    columnIssued(id: number, _w: boolean, hit: boolean, cycle: number) {
      if (cycle < opts.warmupCycles) return;
      // writes carry -(1 + stream * channels + channel): their request slot is
      // recycled when they are acknowledged, long before the WRITE issues
      let stream: number;
      let ch: number;
      if (id < 0) {
        const k = -id - 1;
        stream = Math.floor(k / config.channels);
        ch = k % config.channels;
      } else {
        stream = reqStream[id];
        ch = channelOfReq[id];
      }
      const s = st[stream];
      s.columns++;
      if (hit) s.hits++;
      busBursts[ch]++;
    },
  };
  let channelOfReq = new Int32Array(1 << 12);
  mem.setSink(sink);

  function newReq(stream: number, now: number, w: boolean, ch: number): number {
    let id: number;
    if (freeReq.length) id = freeReq.pop()!;
    else {
      id = nextReq++;
      if (id >= reqStream.length) {
        const n = reqStream.length * 2;
        const a = new Int32Array(n); a.set(reqStream); reqStream = a;
        const b = new Float64Array(n); b.set(reqIssue); reqIssue = b;
        const c = new Uint8Array(n); c.set(reqWrite); reqWrite = c;
        const d = new Int32Array(n); d.set(channelOfReq); channelOfReq = d;
      }
    }
    reqStream[id] = stream;
    reqIssue[id] = now;
    reqWrite[id] = w ? 1 : 0;
    channelOfReq[id] = ch;
    return id;
  }

  function finish(id: number, now: number): void {
    const s = st[reqStream[id]];
    s.outstanding--;
    if (now >= opts.warmupCycles) {
      s.completed++;
      if (!reqWrite[id]) {
        s.reads++;
        s.latencySum += now - reqIssue[id];
      }
    }
    freeReq.push(id);
  }

  let now = 0;
  let rr = 0;
  while (now < end) {
    // data returns
    while (completions.peekTime() <= now) finish(completions.pop(), now);
    // streams issue
    for (let k = 0; k < st.length; k++) {
      const i = (rr + k) % st.length;
      const s = st[i];
      if (s.nextIssue > now || s.outstanding >= s.spec.maxOutstanding) continue;
      const w = s.rng.next() >= s.spec.readFraction;
      const addr = s.addr;
      const ch = mem.channelOf(addr);
      const id = newReq(i, now, w, ch);
      ingress[ch].push(id);
      ingressAddr[ch].push(addr);
      s.outstanding++;
      if (now >= opts.warmupCycles) s.issued++;
      s.addr = nextAddress(s);
      s.nextIssue = now + Math.max(1, Math.round(s.rng.exp(s.gapMeanCycles)));
    }
    rr = (rr + 1) % Math.max(1, st.length);
    // ingress: one per channel per cycle
    let added = false;
    for (let ch = 0; ch < config.channels; ch++) {
      const q = ingress[ch];
      if (q.length === 0) continue;
      const id = q[0];
      const addr = ingressAddr[ch][0];
      const w = reqWrite[id] === 1;
      if (!mem.willAccept(addr, w)) continue;
      q.shift();
      ingressAddr[ch].shift();
      mem.accept(addr, w, now, w ? -1 - (reqStream[id] * config.channels + ch) : id);
      added = true;
      if (w) completions.push(now + 1, id);
    }
    const changed = mem.tick(now);
    if (added || changed) {
      now++;
      continue;
    }
    // skip idle cycles
    let t = Math.min(mem.nextEventCycle(now), completions.peekTime(), end);
    for (const s of st) if (s.outstanding < s.spec.maxOutstanding && s.nextIssue < t) t = s.nextIssue;
    // a blocked ingress head can only move after the controller changes: covered above
    now = t > now ? t : now + 1;
  }
  const windowSec = opts.measureCycles * tCk * 1e-9;
  const tBurst = config.timingCycles.tBurst;
  return {
    streams: st.map((s) => ({
      id: s.spec.id,
      issued: s.issued,
      achievedRequestsPerSec: s.completed / windowSec,
      avgReadLatencyNs: s.reads > 0 ? (s.latencySum / s.reads) * tCk : 0,
      rowHitRate: s.columns > 0 ? s.hits / s.columns : 0,
    })),
    channelUtilisation: Array.from(busBursts, (b) => (b * tBurst) / opts.measureCycles),
    cycles: end,
  };
}
