// A task's cache profile, measured once from its access stream (optionally on a
// sample of the LLC's sets, chosen by a hash of the set index; the default
// profiles every set, because skewed streams such as Zipf concentrate their
// hottest lines in a few sets and a set sample misses or over-weights them):
//
// - missRatioByWays[k]: miss ratio with k ways of every set to itself, from
//   per-set LRU stack distances (LRU's stack property gives every k in one pass);
// - footprint(n): expected distinct lines a task touches in one set during n of
//   its accesses to that set, from the per-set reuse-time distribution
//   (fp(n) = sum_{k<n} P(RT > k), Xiang et al., "HOTL", ASPLOS 2013).
//
// The fast LLC model composes these: tasks sharing ways split them by the
// footprint each makes within the common eviction time (natural partition),
// and each task's miss ratio is its curve at the capacity it ends up holding.
import type { AccessPattern } from '../workloads/access-pattern.js';

export interface CacheProfile {
  key: string;
  sets: number;
  ways: number;
  /** missRatioByWays[k] for k = 0..ways (index 0 is always 1). */
  missRatioByWays: Float64Array;
  /**
   * Curves over n = the mean number of own accesses per set (over all sets)
   * within an eviction time, tabulated at log-spaced nGrid:
   * occupancyAt[i] = lines per set the task holds (averaged over all sets);
   * reuseMissAt[i] = share of its accesses whose reuse takes longer.
   * Both account for how unevenly its accesses fall on sets (rate buckets) and
   * for Poisson arrival of own accesses.
   */
  nGrid: Float64Array;
  occupancyAt: Float64Array;
  reuseMissAt: Float64Array;
  /**
   * Access-weighted mean of a set's own access rate over the all-set mean
   * (S * sum_s a_s^2 / A^2): 1 when the task spreads evenly over the sets, more
   * when it is sparse (fewer lines than sets) or skewed (hot lines).
   */
  rateConcentration: number;
  /** Distinct lines per set in the whole working set (footprint's limit). */
  linesPerSet: number;
  /** Sampled accesses the profile was measured from. */
  sampledAccesses: number;
}

export interface ProfileOptions {
  /** One in `sampleEvery` sets is sampled (1 = every set). */
  sampleEvery?: number;
  /** Accesses generated before measuring (default: adaptive, until first touches fall below 0.2%). */
  warmupAccesses?: number;
  /** Accesses generated while measuring. */
  measureAccesses?: number;
}

const CHUNK = 1 << 16;

function sampledSet(set: number, sampleEvery: number): boolean {
  // hash the set index so strided patterns are not aliased with the sampling
  return (Math.imul(set, 0x9e3779b1) >>> 0) % sampleEvery === 0;
}

/** Reuse-time histogram bins: exact up to 32, then 16 bins per octave. */
class ReuseHistogram {
  readonly edges: number[] = [];
  readonly counts: Float64Array;
  infinite = 0;
  total = 0;
  constructor(maxReuse: number) {
    for (let i = 1; i <= 32; i++) this.edges.push(i);
    let e = 32;
    while (e < maxReuse) {
      e = Math.ceil(e * Math.pow(2, 1 / 16));
      this.edges.push(e);
    }
    this.counts = new Float64Array(this.edges.length);
  }
  add(rt: number): void {
    this.total++;
    const edges = this.edges;
    if (rt > edges[edges.length - 1]) {
      this.infinite++;
      return;
    }
    if (rt <= 32) {
      this.counts[rt - 1]++;
      return;
    }
    let lo = 32;
    let hi = edges.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (edges[mid] >= rt) hi = mid;
      else lo = mid + 1;
    }
    this.counts[lo]++;
  }
  /**
   * Footprint at log-spaced window lengths: fp(n) = sum_{k=0}^{n-1} P(RT > k).
   * Within a bin, reuse times are spread uniformly, so P(RT > k) falls linearly.
   */
  survivalTable(): { n: Float64Array; survival: Float64Array } {
    const ns: number[] = [0];
    const sv: number[] = [1];
    let survival = 1;
    for (let b = 0; b < this.edges.length; b++) {
      survival -= this.counts[b] / Math.max(1, this.total);
      ns.push(this.edges[b]);
      sv.push(Math.max(0, survival));
    }
    return { n: Float64Array.from(ns), survival: Float64Array.from(sv) };
  }
  footprintTable(linesPerSet: number): { n: Float64Array; fp: Float64Array } {
    const total = this.total;
    const ns: number[] = [0];
    const fps: number[] = [0];
    let survival = 1; // P(RT > k) at the start of the current bin
    let fp = 0;
    let prevEdge = 0; // bin covers reuse times (prevEdge, edge]
    for (let b = 0; b < this.edges.length; b++) {
      const edge = this.edges[b];
      const width = edge - prevEdge;
      const p = this.counts[b] / total;
      // sum over k in [prevEdge, edge) of survival decreasing linearly by p over the bin
      fp += width * survival - (p * (width - 1)) / 2;
      survival -= p;
      if (survival < 0) survival = 0;
      ns.push(edge);
      fps.push(Math.min(fp, linesPerSet));
      prevEdge = edge;
    }
    // Beyond the histogram only "infinite" reuses remain: footprint keeps growing
    // linearly at that rate until the working set is exhausted.
    const tailRate = this.infinite / Math.max(1, total);
    if (tailRate > 0 && fp < linesPerSet) {
      let n = prevEdge;
      while (fp < linesPerSet) {
        const next = n * 2;
        fp = Math.min(linesPerSet, fp + (next - n) * tailRate);
        n = next;
        ns.push(n);
        fps.push(fp);
      }
    }
    // enforce monotone non-decreasing
    for (let i = 1; i < fps.length; i++) if (fps[i] < fps[i - 1]) fps[i] = fps[i - 1];
    return { n: Float64Array.from(ns), fp: Float64Array.from(fps) };
  }
}

/**
 * Profile an access stream for an LLC of `sets` x `ways`. The pattern should
 * come from a fixed profiling seed so the profile is a property of the kernel,
 * not of the run.
 */
export function profilePattern(pattern: AccessPattern, sets: number, ways: number, opts: ProfileOptions = {}): CacheProfile {
  const sampleEvery = Math.max(1, Math.min(opts.sampleEvery ?? 1, sets));
  const linesPerSet = pattern.workingSetLines / sets;
  const measure = opts.measureAccesses ?? 4_000_000;
  const depth = ways; // stack depth needed for the curve
  const isPow2 = (sets & (sets - 1)) === 0;
  const setOf = (line: number) => (isPow2 ? line & (sets - 1) : line % sets);

  // Per sampled set: an LRU stack of the `depth` most recent lines, and a per-set access counter.
  const slot = new Int32Array(sets).fill(-1);
  let nSampled = 0;
  for (let s = 0; s < sets; s++) if (sampledSet(s, sampleEvery)) slot[s] = nSampled++;
  const stacks = new Int32Array(nSampled * depth).fill(-1);
  const setClock = new Float64Array(nSampled);
  // last per-set access time of each line (NaN = never seen)
  const lastSeen = new Float64Array(pattern.workingSetLines).fill(NaN);
  const stackHits = new Float64Array(depth + 1); // [d] = accesses at stack distance d (0 = MRU); [depth] = deeper
  let recordReuse: (slot: number, reuseTime: number) => void = () => {};
  let sampled = 0;

  const buf = new Int32Array(CHUNK);
  let firstTouches = 0;
  const run = (accesses: number, record: boolean) => {
    let left = accesses;
    while (left > 0) {
      const n = Math.min(CHUNK, left);
      pattern.fill(buf, 0, n);
      left -= n;
      for (let i = 0; i < n; i++) {
        const line = buf[i];
        const sl = slot[setOf(line)];
        if (sl < 0) continue;
        const t = setClock[sl]++;
        const prev = lastSeen[line];
        lastSeen[line] = t;
        const base = sl * depth;
        let d = 0;
        while (d < depth && stacks[base + d] !== line) d++;
        // move to front
        const from = d < depth ? d : depth - 1;
        for (let j = from; j > 0; j--) stacks[base + j] = stacks[base + j - 1];
        stacks[base] = line;
        const first = prev !== prev; // NaN: never seen
        if (first) firstTouches++;
        if (!record) continue;
        sampled++;
        stackHits[d]++;
        // A line first touched after the warm-up was last used before it began:
        // its reuse is longer than anything measured (a miss at any finite
        // eviction time, a hit only if it is never evicted).
        recordReuse(sl, first ? Infinity : t - prev);
      }
    }
  };
  // Warm up until the stream's first touches have died down (skewed streams
  // have a long tail of rarely used lines), within a budget.
  const warmMin = opts.warmupAccesses ?? Math.min(3 * pattern.workingSetLines, 24_000_000);
  const warmMax = opts.warmupAccesses ?? Math.max(warmMin, 48_000_000);
  let warmed = 0;
  const clockBeforeLastWarm = new Float64Array(nSampled);
  while (warmed < warmMax) {
    const step = warmed < warmMin ? warmMin - warmed : Math.min(2_000_000, warmMax - warmed);
    firstTouches = 0;
    clockBeforeLastWarm.set(setClock);
    run(step, false);
    warmed += step;
    if (warmed >= warmMin && firstTouches / step < 0.002) break;
  }
  // Rate buckets: sets ranked by how often the task touched them late in the
  // warm-up, cut into groups of equal access share (hot sets end up in small
  // groups); sets it did not touch at all form a bucket of their own, so they
  // are not counted as holding lines of the sets it does use.
  const warmRate = Float64Array.from(setClock, (c, i) => c - clockBeforeLastWarm[i]);
  const order = Array.from({ length: nSampled }, (_, i) => i).sort((a, b) => warmRate[a] - warmRate[b] || a - b);
  const totalWarm = warmRate.reduce((x, y) => x + y, 0);
  const bucketOf = new Int32Array(nSampled);
  {
    let acc = 0;
    for (const i of order) {
      acc += warmRate[i];
      bucketOf[i] = warmRate[i] === 0 ? N_BUCKETS : Math.max(0, Math.min(N_BUCKETS - 1, Math.floor((acc / totalWarm) * N_BUCKETS - 1e-9)));
    }
  }
  const histograms = Array.from({ length: N_BUCKETS + 1 }, () => new ReuseHistogram(Math.max(1024, 64 * Math.ceil(linesPerSet) + 64)));
  const bucketSets = new Float64Array(N_BUCKETS + 1);
  for (let i = 0; i < nSampled; i++) bucketSets[bucketOf[i]]++;
  const clockAtMeasure = Float64Array.from(setClock);
  recordReuse = (sl: number, rt: number) => histograms[bucketOf[sl]].add(rt);
  run(measure, true);

  let sumSq = 0;
  let sumA = 0;
  const bucketAccesses = new Float64Array(N_BUCKETS + 1);
  for (let i = 0; i < nSampled; i++) {
    const a = setClock[i] - clockAtMeasure[i];
    sumSq += a * a;
    sumA += a;
    bucketAccesses[bucketOf[i]] += a;
  }
  const rateConcentration = sumA > 0 ? (nSampled * sumSq) / (sumA * sumA) : 1;

  const missRatioByWays = new Float64Array(ways + 1);
  let cum = 0;
  for (let k = 0; k <= ways; k++) {
    missRatioByWays[k] = sampled === 0 ? 1 : 1 - cum / sampled;
    if (k < depth) cum += stackHits[k];
  }

  // Distinct lines the task has in each bucket's sets (caps its footprint there).
  const bucketLines = new Float64Array(N_BUCKETS + 1);
  for (let line = 0; line < pattern.workingSetLines; line++) {
    if (lastSeen[line] !== lastSeen[line]) continue;
    const sl = slot[setOf(line)];
    if (sl >= 0) bucketLines[bucketOf[sl]]++;
  }
  // Per bucket b: share of sets f_b, share of accesses g_b, rate multiplier
  // r_b = g_b / f_b; its footprint and reuse survival in own accesses.
  const buckets: { f: number; g: number; r: number; fp: { n: Float64Array; fp: Float64Array }; sv: { n: Float64Array; survival: Float64Array } }[] = [];
  for (let b = 0; b <= N_BUCKETS; b++) {
    if (bucketSets[b] === 0 || bucketAccesses[b] === 0 || histograms[b].total === 0) continue;
    const f = bucketSets[b] / nSampled;
    const g = bucketAccesses[b] / Math.max(1, sumA);
    const linesPerSetHere = bucketLines[b] / bucketSets[b];
    buckets.push({ f, g, r: g / f, fp: histograms[b].footprintTable(Math.max(1, linesPerSetHere)), sv: histograms[b].survivalTable() });
  }
  const nGrid: number[] = [];
  for (let k = 0; k <= (GRID_MAX_EXP - GRID_MIN_EXP) * GRID_PER_OCTAVE; k++) nGrid.push(Math.pow(2, GRID_MIN_EXP + k / GRID_PER_OCTAVE));
  const occupancyAt = new Float64Array(nGrid.length);
  const reuseMissAt = new Float64Array(nGrid.length);
  nGrid.forEach((n, i) => {
    let occ = 0;
    let miss = 0;
    for (const b of buckets) {
      const nb = b.r * n;
      occ += b.f * poissonMean(nb, (k) => tableAt(b.fp.n, b.fp.fp, k));
      miss += b.g * poissonMean(nb, (k) => tableAt(b.sv.n, b.sv.survival, k));
    }
    occupancyAt[i] = Math.min(occ, linesPerSet);
    reuseMissAt[i] = miss;
  });
  for (let i = 1; i < nGrid.length; i++) {
    if (occupancyAt[i] < occupancyAt[i - 1]) occupancyAt[i] = occupancyAt[i - 1];
    if (reuseMissAt[i] > reuseMissAt[i - 1]) reuseMissAt[i] = reuseMissAt[i - 1];
  }
  return {
    key: pattern.key,
    sets,
    ways,
    missRatioByWays,
    nGrid: Float64Array.from(nGrid),
    occupancyAt,
    reuseMissAt,
    rateConcentration,
    linesPerSet,
    sampledAccesses: sampled,
  };
}

const N_BUCKETS = 8;

// The curves' grid: n = 2^(GRID_MIN_EXP + k / GRID_PER_OCTAVE), so a lookup is a log, not a search.
const GRID_MIN_EXP = -6;
const GRID_MAX_EXP = 24;
const GRID_PER_OCTAVE = 8;

/** Interpolate a curve tabulated on the log grid. */
function gridAt(ys: Float64Array, n: number): number {
  const x = (Math.log2(n) - GRID_MIN_EXP) * GRID_PER_OCTAVE;
  if (x <= 0) return ys[0];
  const last = ys.length - 1;
  if (x >= last) return ys[last];
  const i = Math.floor(x);
  const f = x - i;
  return ys[i] + f * (ys[i + 1] - ys[i]);
}

// Own accesses to a set arrive at random times, so a window holding n of them
// on average holds Poisson(n). For small n this matters (a task touching a set
// once per eviction time neither holds exactly one line there nor reuses at
// exactly n); beyond POISSON_LIMIT the distribution is narrow enough to ignore.
const POISSON_LIMIT = 48;

function poissonMean(n: number, f: (k: number) => number): number {
  if (n >= POISSON_LIMIT) return f(n);
  let pk = Math.exp(-n);
  let sum = pk * f(0);
  let mass = pk;
  const kMax = Math.ceil(n + 10 * Math.sqrt(n) + 10);
  for (let k = 1; k <= kMax; k++) {
    pk *= n / k;
    sum += pk * f(k);
    mass += pk;
  }
  return sum / mass;
}

/** Piecewise-linear interpolation in a table with increasing xs. */
function tableAt(xs: Float64Array, ys: Float64Array, x: number): number {
  if (x <= xs[0]) return ys[0];
  const last = xs.length - 1;
  if (x >= xs[last]) return ys[last];
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid;
    else hi = mid;
  }
  const f = (x - xs[lo]) / (xs[hi] - xs[lo]);
  return ys[lo] + f * (ys[hi] - ys[lo]);
}

/** Lines per set the task holds when its lines live n mean own accesses after last use. */
export function occupancyAtMean(p: CacheProfile, n: number): number {
  if (n === Infinity) return p.linesPerSet;
  if (n <= 0) return 0;
  return gridAt(p.occupancyAt, n);
}

/** Share of the task's accesses that miss when lines live n mean own accesses after last use. */
export function reuseMissAtMean(p: CacheProfile, n: number): number {
  if (n === Infinity) return 0;
  if (n <= 0) return 1;
  return gridAt(p.reuseMissAt, n);
}

/** Miss ratio at a (possibly fractional) number of ways per set, interpolated. */
export function missRatioAt(p: CacheProfile, waysPerSet: number): number {
  if (waysPerSet <= 0) return 1;
  const k = Math.min(waysPerSet, p.ways);
  const i = Math.floor(k);
  if (i >= p.ways) return p.missRatioByWays[p.ways];
  const f = k - i;
  return p.missRatioByWays[i] * (1 - f) + p.missRatioByWays[i + 1] * f;
}

