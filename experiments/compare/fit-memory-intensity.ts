// Second-class kernels' memory intensity, fitted to the host from alone runs
// only (the analogue of the service-demand fit in compare-run.ts).
//
// A kernel preset describes a generic job: the `stream` preset moves a few
// GB/s in the simulator, while the host's streaming copy, helped by the
// hardware prefetchers, keeps far more misses in flight and moves several
// times that. What a co-located service feels is that traffic, so the
// simulated kernel's alone memory bandwidth is made to match the host's
// stressor's alone bandwidth, with one knob: the memory intensity k, which
// multiplies the kernel's LLC accesses per instruction (apki) and its misses
// in flight (mlp) together. At a given DRAM latency that leaves its CPI, and
// so its instruction rate and its sensitivity to latency
// (apki/mlp x latency), unchanged and multiplies its traffic by k; through
// Little's law k x mlp is the misses in flight the host's copy sustains.
// (mlp alone could not do it: the preset's apki and core CPI cap the stream
// kernel near 11 GB/s on a 2.6 GHz core however many misses overlap.)
// The simulated bandwidth grows with k less than linearly (more traffic, more
// DRAM queueing), so k is searched for (fitIntensity), each try a simulated
// alone run, until within FIT_TOLERANCE; if the simulated DRAM cannot carry
// the target, the nearest k is kept and the shortfall noted.
import type { RunFigures } from './compare-figures.js';

export const FIT_TOLERANCE = 0.01;
const MAX_STEPS = 8;
/** Below this log-log slope of bandwidth in k the simulated memory is saturated. */
const MIN_SLOPE = 0.05;
/** mlp stays >= 1 (a kernel scaled down keeps at least one miss in flight). */
const MIN_MLP = 1;

export interface MemoryFit {
  task: string;
  kernel: string;
  /** Host alone bandwidth (read + write bytes/s) and where it came from; null when the host reports none. */
  hostBytesPerSec: number | null;
  hostSource: string | null;
  presetApki: number;
  presetMlp: number;
  simPresetBytesPerSec: number | null;
  /** Fitted intensity and the kernel fields it gives; null when not fitted. */
  intensity: number | null;
  apki: number | null;
  mlp: number | null;
  simFittedBytesPerSec: number | null;
  /** Simulated alone runs the fit took (after the preset's). */
  steps: number;
  note: string | null;
}

/**
 * The host's alone memory bandwidth of a second-class job: the platform's
 * memory-bandwidth counter (resctrl MBM) when it reported one, else the
 * built-in stream stressor's progress, which counts bytes read + written.
 */
export function hostMemBandwidth(kernel: string, f: RunFigures['be'][string] | undefined): { bytesPerSec: number; source: string } | null {
  if (!f) return null;
  if (f.memBandwidthBytesPerSec !== undefined && f.memBandwidthBytesPerSec > 0) return { bytesPerSec: f.memBandwidthBytesPerSec, source: 'the memory-bandwidth counter (resctrl MBM)' };
  if (kernel === 'stream' && f.progressPerSec > 0) return { bytesPerSec: f.progressPerSec, source: "the built-in stream stressor's progress (bytes read + written)" };
  return null;
}

export function intensityFields(presetApki: number, presetMlp: number, k: number): { apki: number; mlp: number } {
  return { apki: presetApki * k, mlp: Math.max(MIN_MLP, presetMlp * k) };
}

/**
 * Find k with simulated alone bandwidth `bwAt(k)` (bytes/s) within
 * FIT_TOLERANCE of `target`, starting from the preset's `bw1` = bwAt(1).
 * The first step assumes bandwidth proportional to k; later steps are secant
 * steps on log k vs log bandwidth through the two nearest points (between
 * the nearest points on either side of the target once it is bracketed),
 * which converge in a few steps even close to saturation. When the
 * bandwidth no longer grows with k (log-log slope under MIN_SLOPE) the
 * target is out of reach and the nearest point is kept.
 */
export async function fitIntensity(target: number, bw1: number, bwAt: (k: number) => Promise<number>): Promise<{ k: number; bytesPerSec: number; steps: number; reached: boolean }> {
  const pts: { k: number; bw: number }[] = [{ k: 1, bw: bw1 }];
  const miss = (p: { bw: number }) => Math.abs(p.bw / target - 1);
  const nearest = () => pts.reduce((a, b) => (miss(b) < miss(a) ? b : a));
  let steps = 0;
  while (steps < MAX_STEPS && miss(nearest()) > FIT_TOLERANCE) {
    let next: number;
    if (pts.length === 1) next = target / bw1;
    else {
      const below = pts.filter((p) => p.bw < target).sort((a, b) => b.bw - a.bw)[0];
      const above = pts.filter((p) => p.bw > target).sort((a, b) => a.bw - b.bw)[0];
      const [a, b] = below && above ? [below, above] : [...pts].sort((x, y) => miss(x) - miss(y)).slice(0, 2);
      const slope = (Math.log(b.bw) - Math.log(a.bw)) / (Math.log(b.k) - Math.log(a.k));
      if (!(slope >= MIN_SLOPE)) break; // saturated (or not increasing): out of reach
      const from = miss(a) < miss(b) ? a : b;
      next = from.k * Math.exp((Math.log(target) - Math.log(from.bw)) / slope);
      // stay within the bracket when there is one; otherwise no wild jumps
      if (below && above) next = Math.min(Math.max(next, below.k), above.k);
      else next = Math.min(Math.max(next, from.k / 16), from.k * 16);
    }
    steps++;
    pts.push({ k: next, bw: await bwAt(next) });
  }
  const best = nearest();
  return { k: best.k, bytesPerSec: best.bw, steps, reached: miss(best) <= FIT_TOLERANCE };
}
