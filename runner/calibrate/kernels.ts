// The three calibration kernels, each native (C++ in the addon) when it
// loaded and plain JavaScript otherwise. Results say which one ran: the JS
// pointer chase pays a few ns of interpreter work per step, so its small-
// working-set latencies overstate L1/L2 latency.
import type { UmbraNative } from '../../native/addon.js';
import { rngFor } from '../../util/rng.js';

export type KernelImpl = 'native' | 'js';

const LINE_BYTES = 64;
const INTS_PER_LINE = LINE_BYTES / 4;
const nowNs = () => Number(process.hrtime.bigint());

/** ns per dependent load over a random single cycle of cache lines spanning workingSetBytes. */
export function pointerChaseNs(addon: UmbraNative | null, workingSetBytes: number, accesses: number, seed: number | string): number {
  const rng = rngFor(seed, `calibrate/chase/${workingSetBytes}`);
  if (addon) return addon.pointerChase(workingSetBytes, accesses, rng.int(2 ** 31)).nsPerAccess;
  const lines = Math.max(2, Math.floor(workingSetBytes / LINE_BYTES));
  // Sattolo's algorithm: a random permutation that is a single cycle.
  const order = new Int32Array(lines);
  for (let i = 0; i < lines; i++) order[i] = i;
  for (let i = lines - 1; i > 0; i--) {
    const j = rng.int(i);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const next = new Int32Array(lines * INTS_PER_LINE);
  for (let i = 0; i < lines; i++) next[i * INTS_PER_LINE] = order[i] * INTS_PER_LINE;
  let p = 0;
  for (let i = 0; i < lines; i++) p = next[p];
  const t0 = nowNs();
  for (let i = 0; i < accesses; i++) p = next[p];
  const t1 = nowNs();
  if (p === -1) throw new Error('unreachable');
  return (t1 - t0) / accesses;
}

/** Copy bandwidth (bytes read + written per second) over workingSetBytes. */
export function streamBytesPerSec(addon: UmbraNative | null, workingSetBytes: number, reps: number): number {
  if (addon) return addon.streamBandwidth(workingSetBytes, reps).bytesPerSec;
  const n = Math.floor(workingSetBytes / 16);
  const a = new Float64Array(n).fill(1);
  const b = new Float64Array(n).fill(2);
  const t0 = nowNs();
  for (let r = 0; r < reps; r++) (r & 1 ? a : b).set(r & 1 ? b : a);
  const t1 = nowNs();
  return (2 * n * 8 * reps) / ((t1 - t0) / 1e9);
}

/** 64-bit (native) or 32-bit (JS) multiply-adds per second on one core, 8 independent chains. */
export function computeOpsPerSec(addon: UmbraNative | null, iterations: number): number {
  if (addon) return addon.computeRate(iterations).opsPerSec;
  let x0 = 1, x1 = 2, x2 = 3, x3 = 4, x4 = 5, x5 = 6, x6 = 7, x7 = 8;
  const t0 = nowNs();
  for (let i = 0; i < iterations; i++) {
    x0 = (Math.imul(x0, 1664525) + 1013904223) | 0;
    x1 = (Math.imul(x1, 1664525) + 1013904223) | 0;
    x2 = (Math.imul(x2, 1664525) + 1013904223) | 0;
    x3 = (Math.imul(x3, 1664525) + 1013904223) | 0;
    x4 = (Math.imul(x4, 1664525) + 1013904223) | 0;
    x5 = (Math.imul(x5, 1664525) + 1013904223) | 0;
    x6 = (Math.imul(x6, 1664525) + 1013904223) | 0;
    x7 = (Math.imul(x7, 1664525) + 1013904223) | 0;
  }
  const t1 = nowNs();
  if ((x0 ^ x1 ^ x2 ^ x3 ^ x4 ^ x5 ^ x6 ^ x7) === 0.5) throw new Error('unreachable');
  return (8 * iterations) / ((t1 - t0) / 1e9);
}
