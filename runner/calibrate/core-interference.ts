// Which cores of this host slow each other down when both compute, and by how
// much: the simulator's `cores.interference` (sim/machine/machine-description.ts).
//
// Two cores that are SMT siblings, or two vCPUs the hypervisor runs on one
// physical core, share an execution engine the guest cannot see (lscpu on a VM
// may say one thread per core). So it is measured: the compute kernel (8
// independent multiply-add chains, native) runs pinned on each core alone,
// then on both cores of every pair at once, started together. A pair's
// slowdown is the mean over its two cores of (alone rate / paired rate - 1),
// the CPI increase each suffered from the other. Pairs above
// GROUP_THRESHOLD are linked and the connected cores form a group; the
// machine's computeSlowdown is the mean slowdown of the linked pairs.
// Other load on the host can only lower a rate, so each figure is the best of
// a few repetitions, alternating alone and paired runs; and since on a small
// host one busy neighbour process turns every pair into a three-way share
// (a 2x "slowdown"), each run also measures the host's CPU use by others
// (/proc/stat) and a run during which they used more than
// MAX_BACKGROUND_CORES is repeated (up to 3x the repetitions). If no quiet
// run could be had, the measurement says so (disturbed) and the machine
// mapping leaves the field off rather than trust it.
//
// The multiply-add kernel contends for the core's multiplier as well as its
// issue slots; code with a mix of instructions (a service's) may suffer less
// from a sibling than this kernel does. That is recorded in the notes.
import { join } from 'node:path';
import { nativeAddon, nativeStatus } from '../../native/addon.js';
import { repoRoot } from '../repo-root.js';
import { cpuLoadBetween, readCpuTimes } from '../probe/cpu-load.js';
import { startPinnedWorkers } from './pinned-workers.js';

/** A pair whose cores lose more than this (relative rate) to each other shares a core. */
export const GROUP_THRESHOLD = 0.1;
/** Pairs are measured among at most this many cores (all pairs: the cost is quadratic). */
export const MAX_PAIR_CORES = 16;
/** A run during which other processes used more than this many cores is repeated. */
export const MAX_BACKGROUND_CORES = 0.15;

export interface CorePair {
  cores: [number, number];
  /** Compute rate (multiply-adds/s) of each core while the other one also ran the kernel. */
  pairedOpsPerSec: [number, number];
  /** Mean over the two cores of alone / paired - 1. */
  slowdown: number;
}

export interface CoreInterferenceMeasurement {
  kernel: 'native-compute';
  durationMs: number;
  repeats: number;
  thresholdSlowdown: number;
  /** Host core id -> compute rate alone, multiply-adds/s. */
  aloneOpsPerSec: Record<string, number>;
  pairs: CorePair[];
  /** Groups of host core ids (each linked by pairs above the threshold), and their mean pair slowdown (0 when none). */
  groups: number[][];
  computeSlowdown: number;
  /** Cores left out (more than MAX_PAIR_CORES), if any. */
  unmeasuredCores: number[];
  /** Most CPU (cores' worth) other processes used during a run whose figure was kept. */
  backgroundCores: number;
  /** Some figure comes only from runs during which other processes used more than MAX_BACKGROUND_CORES. */
  disturbed: boolean;
}

export interface CoreInterferenceOptions {
  cores: number[];
  /** Per run (default 250 ms; quick 80 ms). */
  durationMs?: number;
  repeats?: number;
  quick?: boolean;
}

const CHUNK_ITERS = 200_000; // ~0.1 ms at 2 G multiply-adds/s: fine-grained stop, negligible call overhead

/** Run the compute kernel at once on each of `cores` (one pinned thread each); rates in multiply-adds/s, and the other processes' CPU use meanwhile. */
async function runTogether(addonPath: string, cores: number[], durationMs: number): Promise<{ rates: number[]; otherCores: number }> {
  const script = join(repoRoot(), 'runner', 'calibrate', 'pair-worker.mjs');
  const pool = startPinnedWorkers<{ opsPerSec: number }>(script, cores.map((core) => ({ addonPath, core, durationMs, chunkIters: CHUNK_ITERS })), 0, 'pair worker');
  try {
    // every thread pinned and warm, then all start together
    await pool.ready();
    const cpu0 = readCpuTimes();
    const t0 = process.hrtime.bigint();
    pool.go();
    const rates = (await Promise.all(pool.results)).map((m) => m.opsPerSec);
    const wallNs = Number(process.hrtime.bigint() - t0);
    const cpu1 = readCpuTimes();
    // our threads were busy for durationMs each; the rest of the busy time is someone else's
    const otherCores = cpu0 && cpu1 ? Math.max(0, cpuLoadBetween(cpu0, cpu1, wallNs).busyCores - (cores.length * durationMs * 1e6) / wallNs) : 0;
    return { rates, otherCores };
  } finally {
    await pool.terminate();
  }
}

/** Groups from pair slowdowns: cores linked by a pair above the threshold, connected components of two or more. */
export function groupsFromPairs(pairs: Pick<CorePair, 'cores' | 'slowdown'>[], threshold = GROUP_THRESHOLD): { groups: number[][]; computeSlowdown: number } {
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let r = x;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    return r;
  };
  const linked = pairs.filter((p) => p.slowdown > threshold);
  for (const p of linked) {
    for (const c of p.cores) if (!parent.has(c)) parent.set(c, c);
    const [a, b] = p.cores.map(find);
    if (a !== b) parent.set(Math.max(a, b), Math.min(a, b));
  }
  const byRoot = new Map<number, number[]>();
  for (const c of [...parent.keys()].sort((x, y) => x - y)) {
    const r = find(c);
    byRoot.set(r, [...(byRoot.get(r) ?? []), c]);
  }
  const groups = [...byRoot.values()].filter((g) => g.length >= 2).sort((x, y) => x[0] - y[0]);
  const computeSlowdown = linked.length ? linked.reduce((s, p) => s + p.slowdown, 0) / linked.length : 0;
  return { groups, computeSlowdown };
}

/**
 * Measure core interference among `cores` (host ids). Returns { unavailable }
 * with the reason when it cannot: the native addon pins the threads and runs
 * the kernel.
 */
export async function measureCoreInterference(o: CoreInterferenceOptions): Promise<CoreInterferenceMeasurement | { unavailable: string }> {
  if (!nativeAddon()) return { unavailable: `needs the native addon to pin threads to cores (${nativeStatus().reason})` };
  const addonPath = nativeStatus().path;
  const durationMs = o.durationMs ?? (o.quick ? 80 : 250);
  const repeats = o.repeats ?? (o.quick ? 1 : 3);
  const cores = o.cores.slice(0, MAX_PAIR_CORES);
  const pairList: [number, number][] = [];
  for (let i = 0; i < cores.length; i++) for (let j = i + 1; j < cores.length; j++) pairList.push([cores[i], cores[j]]);
  // per measurement: best rates over quiet runs, and over all runs (used only when no run was quiet)
  interface Best { quiet: number[] | null; quietRuns: number; quietBackground: number; any: number[]; leastBackground: number }
  const best = new Map<string, Best>();
  const keys = [...cores.map(String), ...pairList.map((p) => p.join(','))];
  const sets = new Map<string, number[]>([...cores.map((c): [string, number[]] => [String(c), [c]]), ...pairList.map((p): [string, number[]] => [p.join(','), p])]);
  const maxOf = (a: number[] | null, b: number[]) => (a ? a.map((x, i) => Math.max(x, b[i])) : [...b]);
  for (let attempt = 0; attempt < 3 * repeats; attempt++) {
    for (const key of keys) {
      const b = best.get(key) ?? { quiet: null, quietRuns: 0, quietBackground: 0, any: [], leastBackground: Infinity };
      if (b.quietRuns >= repeats) continue;
      const r = await runTogether(addonPath, sets.get(key)!, durationMs);
      b.any = maxOf(b.any.length ? b.any : null, r.rates);
      b.leastBackground = Math.min(b.leastBackground, r.otherCores);
      if (r.otherCores <= MAX_BACKGROUND_CORES) {
        b.quiet = maxOf(b.quiet, r.rates);
        b.quietRuns++;
        b.quietBackground = Math.max(b.quietBackground, r.otherCores);
      }
      best.set(key, b);
    }
    if (keys.every((k) => best.get(k)!.quietRuns >= repeats)) break;
  }
  const figure = (key: string) => {
    const b = best.get(key)!;
    return b.quiet ? { rates: b.quiet, disturbed: false, background: b.quietBackground } : { rates: b.any, disturbed: true, background: b.leastBackground };
  };
  const all = keys.map(figure);
  const alone = new Map(cores.map((c) => [c, figure(String(c)).rates[0]]));
  const paired = new Map(pairList.map((p) => [p.join(','), figure(p.join(',')).rates as [number, number]]));
  const pairs: CorePair[] = pairList.map(([a, b]) => {
    const [ra, rb] = paired.get(`${a},${b}`)!;
    const slowdown = (alone.get(a)! / ra - 1 + (alone.get(b)! / rb - 1)) / 2;
    return { cores: [a, b], pairedOpsPerSec: [ra, rb], slowdown };
  });
  const { groups, computeSlowdown } = groupsFromPairs(pairs);
  return {
    kernel: 'native-compute',
    durationMs,
    repeats,
    thresholdSlowdown: GROUP_THRESHOLD,
    aloneOpsPerSec: Object.fromEntries(cores.map((c) => [String(c), alone.get(c)!])),
    pairs,
    groups,
    computeSlowdown,
    unmeasuredCores: o.cores.slice(MAX_PAIR_CORES),
    backgroundCores: Math.max(0, ...all.map((f) => f.background)),
    disturbed: all.some((f) => f.disturbed),
  };
}
