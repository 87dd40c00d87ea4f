// The load generator's sender, on its own thread so requests leave at their
// intended times to within tens of microseconds (a libuv timer on the main
// thread only wakes once a millisecond, which put a ~1 ms floor under every
// latency measured). Plain JavaScript with no project imports, like
// microbench.mjs: it runs from the sources (vitest) and from dist/ alike.
//
// The main thread owns the connections and reads the replies (its event loop
// wakes as soon as one arrives, so reply times are exact); this thread only
// writes requests, to the same sockets' file descriptors, at their times. The
// schedule comes from the main thread (all randomness stays in util/rng.ts
// there) through shared memory:
//   ctrl[WRITE]      requests scheduled so far (main advances it)
//   ctrl[SENT]       requests handled so far, sent or dropped (this thread)
//   ctrl[COMPLETED]  replies received (main), for the outstanding limit
//   ctrl[STOP]       set by main; this thread returns, then main closes sockets
// Per request i (ring slot i % cap): times[] intended time (ns since start),
// keys[], isGet[], and, written here, status[] (1 sent, 2 dropped) and lagNs[].
// Waiting: Atomics.wait until shortly before the next request (its wake-up
// overshoots by ~50-100 us), then a short spin to the exact time.
import { writeSync } from 'node:fs';
import { setPriority } from 'node:os';
import { workerData } from 'node:worker_threads';

const WRITE = 0;
const SENT = 1;
const STOP = 2;
const COMPLETED = 3;
const WAKE = 4;
const DROPPED = 5;
const ERRORS = 6;

const d = workerData;
if (typeof d.nice === 'number') {
  try {
    setPriority(d.nice); // this thread only (Linux nice is per thread)
  } catch {
    // not permitted: keep the default
  }
}
const ctrl = new Int32Array(d.ctrl);
const times = new Float64Array(d.times);
const keys = new Int32Array(d.keys);
const isGet = new Uint8Array(d.isGet);
const status = new Uint8Array(d.status);
const lagNs = new Float64Array(d.lagNs);
const cap = d.cap;
const fds = d.fds;
const start = BigInt(d.startNs);
const slackNs = d.slackNs ?? 120_000;
const maxOutstanding = d.maxOutstanding;
const value = 'v'.repeat(d.valueBytes);
const now = () => Number(process.hrtime.bigint() - start);

/** Bytes a connection could not take yet (EAGAIN), written first at the next chance. */
const backlog = fds.map(() => []);
let sentOk = 0;

function command(i) {
  const key = `umbra:k:${keys[i % cap]}`;
  const args = isGet[i % cap] ? ['GET', key] : ['SET', key, value];
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return Buffer.from(s);
}

/** Write buf (or queue it behind what is already waiting); false if the connection is broken. */
function write(c, buf) {
  const q = backlog[c];
  if (buf) q.push(buf);
  while (q.length) {
    const b = q[0];
    let n = 0;
    try {
      n = writeSync(fds[c], b);
    } catch (err) {
      if (err && err.code === 'EAGAIN') return true;
      q.length = 0;
      return false;
    }
    if (n < b.length) {
      q[0] = b.subarray(n);
      return true;
    }
    q.shift();
  }
  return true;
}

let sent = 0;
while (Atomics.load(ctrl, STOP) === 0) {
  for (let c = 0; c < fds.length; c++) if (backlog[c].length) write(c, null);
  const written = Atomics.load(ctrl, WRITE);
  if (sent >= written) {
    Atomics.wait(ctrl, WAKE, 0, 2);
    continue;
  }
  const t = times[sent % cap];
  let n = now();
  if (t - n > slackNs) {
    // Wake up a little early (never sleep past 5 ms, so STOP and backlogs are seen).
    Atomics.wait(ctrl, WAKE, 0, Math.min(5, (t - n - slackNs) / 1e6));
    continue;
  }
  while (n < t) n = now();
  const completed = Atomics.load(ctrl, COMPLETED);
  while (sent < written && times[sent % cap] <= n) {
    const slot = sent % cap;
    lagNs[slot] = n - times[slot];
    const c = sent % fds.length;
    if (sentOk - completed >= maxOutstanding) {
      Atomics.store(status, slot, 2);
      Atomics.add(ctrl, DROPPED, 1);
    } else {
      // Marked sent before the write: the reply can only come after it.
      Atomics.store(status, slot, 1);
      if (write(c, command(sent))) sentOk++;
      else {
        Atomics.store(status, slot, 2);
        Atomics.add(ctrl, ERRORS, 1);
      }
    }
    sent++;
  }
  Atomics.store(ctrl, SENT, sent);
}
