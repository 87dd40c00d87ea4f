// Percentile recommender in the style of the Kubernetes VPA recommender: every
// first-class task's CPU usage (and LLC occupancy) goes into a decaying
// histogram — exponential buckets (first 0.01 cores, ratio 1.05, as VPA's CPU
// histogram), sample weights growing as 2^(t / halfLife) so old samples count
// half per half-life — and every interval the recommendation is the target
// percentile (p90) plus a margin (15%), with lower (p50) and upper (p95)
// bounds: like VPA's updater, the allocation only changes when it falls
// outside [lower, upper]. A sample taken while the task used >= 95% of its
// cores is censored (it could have used more), so it is bumped x1.2 — the
// CPU analogue of VPA's memory bump after an OOM. Defaults keep VPA's ratio
// of half-life to loop period (24 h / 1 min = 1440); the loop runs every 10
// control periods. Second-class work gets the rest; no quarantine.
import { z } from 'zod';
import type { Snapshot, TaskId, TaskSample } from '../platform.js';
import { durationNs, floorsSchema, resourceAmountsSchema } from '../config/common.js';
import type { FirstAmounts } from '../common/partition.js';
import { activeOnly, PartitionPolicy } from './base.js';

export const percentileConfigSchema = z.strictObject({
  /** Default: 10 control periods. */
  intervalNs: durationNs('intervalNs').optional(),
  /** Default: 1440 intervals (VPA: 24 h half-life, 1 min loop). */
  halfLifeNs: durationNs('halfLifeNs').optional(),
  targetPercentile: z.number().gt(0).lt(1).default(0.9),
  lowerPercentile: z.number().gt(0).lt(1).default(0.5),
  upperPercentile: z.number().gt(0).lt(1).default(0.95),
  marginPct: z.number().min(0).default(15),
  saturationBump: z.number().min(1).default(1.2),
  /** Samples before the first recommendation (until then the task keeps what it started with). */
  minSamples: z.number().int().min(1).default(10),
  floors: floorsSchema.default({}),
  secondClassFloor: resourceAmountsSchema.prefault({}),
});
export type PercentileConfig = z.output<typeof percentileConfigSchema>;

/** VPA-style decaying histogram with exponential buckets. */
export class DecayingHistogram {
  private readonly weights: number[] = [];
  private total = 0;
  private refNs: number | undefined;

  constructor(
    private readonly firstBucket: number,
    private readonly ratio: number,
    private readonly halfLifeNs: () => number,
  ) {}

  private bucketOf(v: number): number {
    if (v < this.firstBucket) return 0;
    return Math.min(2000, Math.floor(Math.log((v * (this.ratio - 1)) / this.firstBucket + 1) / Math.log(this.ratio)));
  }

  /** Upper bound of bucket i (start of bucket i + 1). */
  private bucketEnd(i: number): number {
    return (this.firstBucket * (Math.pow(this.ratio, i + 1) - 1)) / (this.ratio - 1);
  }

  add(v: number, tNs: number): void {
    if (!Number.isFinite(v) || v < 0) return;
    this.refNs ??= tNs;
    let exp = (tNs - this.refNs) / this.halfLifeNs();
    if (exp > 50) {
      // renormalise (as VPA does) so weights stay finite
      const f = Math.pow(2, -exp);
      for (let i = 0; i < this.weights.length; i++) this.weights[i] = (this.weights[i] ?? 0) * f;
      this.total *= f;
      this.refNs = tNs;
      exp = 0;
    }
    const w = Math.pow(2, exp);
    const b = this.bucketOf(v);
    while (this.weights.length <= b) this.weights.push(0);
    this.weights[b] += w;
    this.total += w;
  }

  percentile(p: number): number {
    if (this.total <= 0) return 0;
    let acc = 0;
    for (let i = 0; i < this.weights.length; i++) {
      acc += this.weights[i];
      if (acc >= p * this.total) return this.bucketEnd(i);
    }
    return this.bucketEnd(this.weights.length - 1);
  }
}

interface Track {
  cpu: DecayingHistogram;
  occ: DecayingHistogram;
  samples: number;
  cores: number;
  ways: number;
}

export class PercentilePolicy extends PartitionPolicy {
  private readonly tracks = new Map<TaskId, Track>();
  private nextAtNs = -Infinity;

  constructor(
    name: string,
    private readonly cfg: PercentileConfig,
  ) {
    super(name, cfg);
  }

  private intervalNs(): number {
    return this.cfg.intervalNs ?? 10 * (this.periodNs ?? 10_000_000);
  }

  private halfLifeNs(): number {
    return this.cfg.halfLifeNs ?? 1440 * this.intervalNs();
  }

  protected amounts(snap: Snapshot, firsts: TaskSample[], seconds: TaskSample[]): Map<TaskId, FirstAmounts> {
    const caps = this.caps!;
    const anySecond = seconds.length > 0;
    const wayBytes = caps.cacheWays?.wayBytes ?? 1;
    for (const f of firsts) {
      let t = this.tracks.get(f.id);
      if (!t) {
        t = {
          cpu: new DecayingHistogram(0.01, 1.05, () => this.halfLifeNs()),
          occ: new DecayingHistogram(64 * 1024, 1.05, () => this.halfLifeNs()),
          samples: 0,
          cores: Math.min(this.capOf(f.id, 'cores', firsts, anySecond), Math.max(this.floorOf(f.id, 'cores'), f.allocation.cores.length)),
          ways: caps.cacheWays ? Math.max(this.floorOf(f.id, 'cacheWays'), Math.floor(caps.cacheWays.totalWays / (2 * Math.max(1, firsts.length)))) : 0,
        };
        this.tracks.set(f.id, t);
      }
      if (snap.windowNs > 0) {
        const n = f.allocation.cores.length;
        const saturated = n > 0 && f.cpuCores >= 0.95 * n;
        t.cpu.add(f.cpuCores * (saturated ? this.cfg.saturationBump : 1), snap.timeNs);
        if (f.llcOccupancyBytes !== undefined) t.occ.add(f.llcOccupancyBytes, snap.timeNs);
        t.samples++;
      }
    }
    for (const id of [...this.tracks.keys()]) if (!firsts.some((f) => f.id === id)) this.tracks.delete(id);
    if (snap.timeNs >= this.nextAtNs) {
      this.nextAtNs = snap.timeNs + this.intervalNs();
      const m = 1 + this.cfg.marginPct / 100;
      for (const f of firsts) {
        const t = this.tracks.get(f.id)!;
        if (t.samples < this.cfg.minSamples) continue;
        const target = Math.ceil(t.cpu.percentile(this.cfg.targetPercentile) * m - 1e-9);
        const lower = t.cpu.percentile(this.cfg.lowerPercentile) * m;
        const upper = t.cpu.percentile(this.cfg.upperPercentile) * m;
        if (t.cores < lower || t.cores > Math.ceil(upper)) t.cores = Math.max(1, target);
        if (caps.cacheWays && f.llcOccupancyBytes !== undefined) {
          const wTarget = Math.ceil((t.occ.percentile(this.cfg.targetPercentile) * m) / wayBytes - 1e-9);
          const wLower = (t.occ.percentile(this.cfg.lowerPercentile) * m) / wayBytes;
          const wUpper = Math.ceil((t.occ.percentile(this.cfg.upperPercentile) * m) / wayBytes);
          if (t.ways < wLower || t.ways > wUpper) t.ways = Math.max(caps.cacheWays.minWaysPerMask, wTarget);
        }
      }
    }
    const cores = this.fit('cores', firsts, new Map(firsts.map((f) => [f.id, this.tracks.get(f.id)!.cores])), anySecond);
    const ways = caps.cacheWays ? this.fit('cacheWays', firsts, new Map(firsts.map((f) => [f.id, this.tracks.get(f.id)!.ways])), anySecond) : undefined;
    const out = new Map<TaskId, FirstAmounts>();
    for (const f of firsts) {
      const a: FirstAmounts = { task: f.id, cores: activeOnly(cores.get(f.id)!) };
      if (ways) a.ways = activeOnly(ways.get(f.id)!);
      out.set(f.id, a);
    }
    return out;
  }
}
