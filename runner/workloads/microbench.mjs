#!/usr/bin/env node
// Built-in second-class workloads for hosts without stress-ng, run as child
// processes of the runner:
//   node microbench.mjs --kind stream|chase|cpu|io|idle [--seconds N]
//                       [--bytes N] [--workers N] [--dir D]
// Every 50 ms it prints "progress <units done so far>" (bytes for stream/io,
// loads for chase, multiply-adds for cpu) so the runner can report progress
// per second. Plain JavaScript with no project imports: it runs without a
// build step. --workers N runs N copies of the kernel on worker threads.
import { closeSync, fsyncSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

function parseArgs(argv) {
  const arg = (name, dflt) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
  };
  return {
    kind: arg('kind', 'cpu'),
    seconds: Number(arg('seconds', '0')),
    bytes: Number(arg('bytes', String(64 * 1024 * 1024))),
    workers: Number(arg('workers', '1')),
    dir: arg('dir', tmpdir()),
  };
}

const KINDS = ['stream', 'chase', 'cpu', 'io', 'idle'];

// Runs one kernel in this thread, adding units done to counts[slot].
function runKernel(o, counts, slot, shouldStop, onDone) {
  const add = (n) => { counts[slot] += n; };
  let ioDir = null;
  const cleanup = () => { if (ioDir) rmSync(ioDir, { recursive: true, force: true }); };
  // Slices of ~5 ms, yielding between them so timers and signals are handled.
  const loop = (slice) => {
    const tick = () => {
      if (shouldStop()) { cleanup(); return onDone(); }
      const t0 = Date.now();
      while (Date.now() - t0 < 5) add(slice());
      setImmediate(tick);
    };
    tick();
  };
  if (o.kind === 'cpu') {
    let x = 1;
    loop(() => {
      for (let i = 0; i < 100000; i++) x = (Math.imul(x, 1103515245) + 12345) | 0;
      return x === 42 ? 100001 : 100000;
    });
  } else if (o.kind === 'stream') {
    const n = Math.floor(o.bytes / 16);
    const a = new Float64Array(n).fill(1);
    const b = new Float64Array(n).fill(2);
    const chunk = 1 << 16;
    let pos = 0;
    loop(() => {
      const end = Math.min(n, pos + chunk);
      a.set(b.subarray(pos, end), pos);
      const moved = (end - pos) * 16;
      pos = end >= n ? 0 : end;
      return moved;
    });
  } else if (o.kind === 'chase') {
    // A full-period LCG over the cache lines (Hull–Dobell: n a power of two,
    // c odd, a ≡ 1 mod 4) is one cycle with irregular strides, so each step is
    // a dependent load the prefetchers cannot predict. No randomness needed.
    const lines = 2 ** Math.floor(Math.log2(o.bytes / 64));
    const next = new Int32Array(lines * 16);
    for (let i = 0; i < lines; i++) next[i * 16] = (((Math.imul(i, 1664525) + 1013904223) >>> 0) % lines) * 16;
    let p = 0;
    loop(() => {
      for (let i = 0; i < 20000; i++) p = next[p];
      return p < 0 ? 20001 : 20000;
    });
  } else if (o.kind === 'io') {
    ioDir = mkdtempSync(join(o.dir, 'umbra-io-'));
    const block = Buffer.alloc(1 << 20, 7);
    const fileBytes = Math.max(block.length, Math.min(o.bytes, 64 << 20));
    let off = 0;
    const fd = openSync(join(ioDir, 'data'), 'w+');
    loop(() => {
      writeSync(fd, block, 0, block.length, off);
      fsyncSync(fd);
      readSync(fd, block, 0, block.length, off);
      off = (off + block.length) % fileBytes;
      return 2 * block.length;
    });
    return () => { try { closeSync(fd); } catch {} cleanup(); };
  } else {
    const t = setInterval(() => { if (shouldStop()) { clearInterval(t); onDone(); } }, 200);
  }
  return cleanup;
}

if (isMainThread) {
  const o = parseArgs(process.argv);
  if (!KINDS.includes(o.kind) || !(o.seconds >= 0) || !(o.bytes >= 65536) || !(Number.isInteger(o.workers) && o.workers >= 1 && o.workers <= 256)) {
    process.stderr.write(`microbench: --kind must be one of ${KINDS.join('|')}, --seconds >= 0, --bytes >= 65536, --workers 1..256\n`);
    process.exit(2);
  }
  const counts = new Float64Array(new SharedArrayBuffer(8 * o.workers));
  const endAt = o.seconds > 0 ? Date.now() + o.seconds * 1000 : Infinity;
  let stopping = false;
  const report = () => process.stdout.write(`progress ${counts.reduce((a, b) => a + b, 0)}\n`);
  const workers = [];
  let cleanup = () => {};
  const finish = () => {
    if (stopping) return;
    stopping = true;
    cleanup();
    for (const w of workers) w.terminate();
    report();
    process.exit(0);
  };
  process.on('SIGTERM', finish);
  process.on('SIGINT', finish);
  setInterval(report, 50).unref();
  for (let i = 1; i < o.workers; i++) {
    workers.push(new Worker(fileURLToPath(import.meta.url), { workerData: { o, counts, slot: i, endAt } }));
  }
  cleanup = runKernel(o, counts, 0, () => stopping || Date.now() >= endAt, finish);
} else {
  const { o, counts, slot, endAt } = workerData;
  runKernel(o, counts, slot, () => Date.now() >= endAt, () => {});
}
