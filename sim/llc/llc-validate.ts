// Checks fast mode against exact mode: the same task mix is replayed access by
// access through the exact LRU cache (interleaved in proportion to the tasks'
// access rates) and solved by the fast model from profiles; per-task miss
// ratios are compared.
import { rngFor } from '../../util/rng.js';
import { makePattern, patternKey, type PatternSpec } from '../workloads/kernel.js';
import { KERNELS } from '../workloads/kernels/index.js';
import { LlcExact, type LlcGeometry } from './llc-exact.js';
import { solveLlcSharing } from './llc-fast-model.js';
import { profileFor } from './profile-cache.js';

export interface ValidationTask {
  /** Kernel preset name (its access pattern is used) or an explicit pattern. */
  kernel?: string;
  pattern?: PatternSpec;
  /** Relative LLC access rate. */
  rate: number;
  /** Way mask; 0 = all ways. */
  mask: number;
}

export interface ValidationCase {
  name: string;
  geometry: LlcGeometry;
  tasks: ValidationTask[];
}

export interface ValidationTaskResult {
  label: string;
  exactMissRatio: number;
  fastMissRatio: number;
  /** |fast - exact| in percentage points of miss ratio. */
  absErrorPct: number;
  exactOccupancyWays: number;
  fastOccupancyWays: number;
}

export interface ValidationResult {
  name: string;
  tasks: ValidationTaskResult[];
  exactAccesses: number;
}

function patternOf(t: ValidationTask): PatternSpec {
  if (t.pattern) return t.pattern;
  const k = t.kernel ? KERNELS[t.kernel] : undefined;
  if (!k) throw new Error(`unknown kernel "${t.kernel}"`);
  return k.pattern;
}

/**
 * Replay the mix through the exact cache; returns per-task miss ratio and mean
 * occupancy (ways per set). Warms up until every task's first touches have
 * died down (skewed streams have long tails of rarely used lines), so the
 * measured window is in steady state; every miss in it counts.
 */
export function runExact(c: ValidationCase, seed: number, opts = { minWarmTurnovers: 10, maxWarmTurnovers: 120, measureTurnovers: 20 }): { missRatio: number[]; occupancyWays: number[]; accesses: number } {
  const llc = new LlcExact(c.geometry, Math.max(1, c.tasks.length));
  const sets = llc.sets;
  const cacheLines = llc.lines;
  const patterns = c.tasks.map((t, i) => makePattern(patternOf(t), c.geometry.lineBytes, rngFor(seed, `llc-validate/${c.name}/${i}`)));
  c.tasks.forEach((t, i) => llc.setTaskMask(i, t.mask === 0 ? llc.fullMask : t.mask));
  // Task i's lines live in its own 4 GiB slice of the address space: block = slice + line.
  const sliceLines = 1 << 26;
  const maxRate = Math.max(...c.tasks.map((t) => t.rate));
  const chunk = 256;
  const per = c.tasks.map((t) => (t.rate / maxRate) * chunk);
  const credit = new Float64Array(c.tasks.length);
  const seen = patterns.map((p) => new Uint8Array(p.workingSetLines));
  const firstTouches = new Float64Array(c.tasks.length);
  const issued = new Float64Array(c.tasks.length);
  const bufs = c.tasks.map(() => new Int32Array(chunk + 1));
  let accesses = 0;
  const run = (total: number) => {
    let done = 0;
    while (done < total) {
      for (let i = 0; i < c.tasks.length; i++) {
        credit[i] += per[i];
        const n = Math.floor(credit[i]);
        if (n === 0) continue;
        credit[i] -= n;
        const buf = bufs[i];
        patterns[i].fill(buf, 0, n);
        const base = (i % 31) * sliceLines;
        const seenI = seen[i];
        for (let j = 0; j < n; j++) {
          const line = buf[j];
          if (seenI[line] === 0) {
            seenI[line] = 1;
            firstTouches[i]++;
          }
          buf[j] = line + base;
        }
        issued[i] += n;
        llc.accessBatch(i, buf, 0, n);
        done += n;
      }
    }
    accesses += done;
  };
  run(opts.minWarmTurnovers * cacheLines);
  for (let t = opts.minWarmTurnovers; t < opts.maxWarmTurnovers; t += 2) {
    firstTouches.fill(0);
    issued.fill(0);
    run(2 * cacheLines);
    let settled = true;
    for (let i = 0; i < c.tasks.length; i++) if (issued[i] > 0 && firstTouches[i] / issued[i] > 0.002) settled = false;
    if (settled) break;
  }
  llc.resetCounters();
  const occSum = new Float64Array(c.tasks.length);
  const samples = 5;
  for (let s = 0; s < samples; s++) {
    run((opts.measureTurnovers * cacheLines) / samples);
    for (let i = 0; i < c.tasks.length; i++) occSum[i] += llc.occupancyLines[i] / sets;
  }
  return {
    missRatio: c.tasks.map((_, i) => llc.misses[i] / Math.max(1, llc.hits[i] + llc.misses[i])),
    occupancyWays: Array.from(occSum, (x) => x / samples),
    accesses,
  };
}

export function runFast(c: ValidationCase): { missRatio: number[]; occupancyWays: number[] } {
  const sets = c.geometry.sizeBytes / (c.geometry.ways * c.geometry.lineBytes);
  const res = solveLlcSharing(
    c.geometry.ways,
    c.tasks.map((t) => ({
      profile: profileFor(patternOf(t), c.geometry.lineBytes, sets, c.geometry.ways),
      accessesPerSec: t.rate,
      mask: t.mask,
    })),
  );
  return { missRatio: Array.from(res.missRatio), occupancyWays: Array.from(res.occupancyWays) };
}

export function validateCase(c: ValidationCase, seed = 1): ValidationResult {
  const exact = runExact(c, seed);
  const fast = runFast(c);
  return {
    name: c.name,
    exactAccesses: exact.accesses,
    tasks: c.tasks.map((t, i) => ({
      label: `${t.kernel ?? patternKey(patternOf(t), c.geometry.lineBytes)}#${i}`,
      exactMissRatio: exact.missRatio[i],
      fastMissRatio: fast.missRatio[i],
      absErrorPct: Math.abs(fast.missRatio[i] - exact.missRatio[i]) * 100,
      exactOccupancyWays: exact.occupancyWays[i],
      fastOccupancyWays: fast.occupancyWays[i],
    })),
  };
}

function range(first: number, count: number): number {
  return ((1 << count) - 1) << first;
}

/**
 * The shipped workloads on a given LLC: each kernel alone at several way
 * counts, and the co-locations the policies create (shared, disjoint
 * partitions, a first-class task with reserved ways next to second-class tasks
 * confined to the rest, and nested masks).
 */
export function shippedValidationCases(geometry: LlcGeometry): ValidationCase[] {
  const W = geometry.ways;
  const cases: ValidationCase[] = [];
  const kernels = ['kv', 'search', 'stream', 'chase', 'thrash', 'compute', 'io'];
  for (const k of kernels) {
    for (const ways of [2, Math.floor(W / 2), W]) {
      cases.push({ name: `${k} alone, ${ways} ways`, geometry, tasks: [{ kernel: k, rate: 1, mask: range(0, ways) }] });
    }
  }
  const all = range(0, W);
  cases.push({ name: 'kv + thrash sharing all ways', geometry, tasks: [{ kernel: 'kv', rate: 1, mask: all }, { kernel: 'thrash', rate: 2, mask: all }] });
  cases.push({ name: 'search + stream sharing all ways', geometry, tasks: [{ kernel: 'search', rate: 1, mask: all }, { kernel: 'stream', rate: 3, mask: all }] });
  cases.push({
    name: 'kv + search + chase + compute sharing all ways',
    geometry,
    tasks: [
      { kernel: 'kv', rate: 2, mask: all },
      { kernel: 'search', rate: 1, mask: all },
      { kernel: 'chase', rate: 2, mask: all },
      { kernel: 'compute', rate: 0.2, mask: all },
    ],
  });
  const lcWays = Math.max(2, Math.floor((W * 3) / 8));
  cases.push({
    name: `kv with ${lcWays} reserved ways, thrash + stream confined to the rest`,
    geometry,
    tasks: [
      { kernel: 'kv', rate: 1, mask: range(0, lcWays) },
      { kernel: 'thrash', rate: 2, mask: range(lcWays, W - lcWays) },
      { kernel: 'stream', rate: 2, mask: range(lcWays, W - lcWays) },
    ],
  });
  cases.push({
    name: `kv + search on all ways, chase + thrash nested in ${Math.max(1, W / 4)} ways`,
    geometry,
    tasks: [
      { kernel: 'kv', rate: 1, mask: all },
      { kernel: 'search', rate: 1, mask: all },
      { kernel: 'chase', rate: 1, mask: range(0, Math.max(1, W / 4)) },
      { kernel: 'thrash', rate: 2, mask: range(0, Math.max(1, W / 4)) },
    ],
  });
  return cases;
}
