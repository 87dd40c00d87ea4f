// Reactive feedback controller in the style of Heracles (ISCA 2015) with the
// thresholds of PARTIES (ASPLOS 2019), acting on what has already happened:
//
//   slack = (SLO p99 - measured p99) / SLO p99, per first-class task, per interval
//   slack < 0               SLO danger: disable second-class work (pause, or the
//                           lowest CPU quota without a freezer) and upsize
//   slack < upsizeSlack     upsize by one unit: a core when the task is using
//                           most of its cores, else an LLC way
//   slack > downsizeSlack   downsize by one core (then one way) when the task
//                           uses little of what it has and its last upsize is
//                           holdIntervals old
//   second-class work is re-enabled once every first-class task has kept
//   slack >= upsizeSlack for holdIntervals intervals;
//   memory bandwidth (Heracles' DRAM controller): total bandwidth above
//   bandwidthHighPct of peak lowers the second-class MBA cap by one step, below
//   bandwidthLowPct raises it by one.
// Tasks without a latency signal use CPU utilisation instead (above 0.9 =
// upsize, below downsizeUtilisation = downsize). Units are reserved and used
// at once: no prediction, no warm-up. By default it acts every tick (the
// fastest this loop allows; Heracles' own loop is 15 s, PARTIES' 0.1 s).
import { z } from 'zod';
import type { Snapshot, TaskId, TaskSample } from '../platform.js';
import { durationNs, floorsSchema, resourceAmountsSchema } from '../config/common.js';
import type { FirstAmounts, Partition } from '../common/partition.js';
import { activeOnly, PartitionPolicy } from './base.js';

export const reactiveConfigSchema = z.strictObject({
  /** Default: every control period. */
  intervalNs: durationNs('intervalNs').optional(),
  upsizeSlack: z.number().default(0.05),
  downsizeSlack: z.number().default(0.2),
  downsizeUtilisation: z.number().gt(0).max(1).default(0.6),
  holdIntervals: z.number().int().min(0).default(5),
  /** Starting share of the machine for first-class work (the controller moves from there). */
  initialFirstClassShare: z.number().gt(0).max(1).default(0.5),
  bandwidthHighPct: z.number().gt(0).max(100).default(90),
  bandwidthLowPct: z.number().min(0).max(100).default(70),
  minRequests: z.number().int().min(1).default(20),
  floors: floorsSchema.default({}),
  secondClassFloor: resourceAmountsSchema.prefault({}),
});
export type ReactiveConfig = z.output<typeof reactiveConfigSchema>;

interface Held {
  cores: number;
  ways: number;
  lastUpsize: number;
}

export class ReactivePolicy extends PartitionPolicy {
  private readonly held = new Map<TaskId, Held>();
  private interval = 0;
  private nextAtNs = -Infinity;
  private secondDisabled = false;
  private calmIntervals = 0;
  private secondMbaPct = 100;

  constructor(
    name: string,
    private readonly cfg: ReactiveConfig,
  ) {
    super(name, cfg);
  }

  private slackOf(t: TaskSample): number | undefined {
    const l = t.latency;
    if (l && l.requests >= this.cfg.minRequests) return Number.isFinite(l.p99Ns) ? (l.sloP99Ns - l.p99Ns) / l.sloP99Ns : -1;
    if (l && l.requests > 0 && !Number.isFinite(l.p99Ns)) return -1;
    const util = t.allocation.cores.length ? t.cpuCores / t.allocation.cores.length : 0;
    if (!l) return util > 0.9 ? 0 : util < this.cfg.downsizeUtilisation ? 1 : 0.1;
    return undefined;
  }

  protected amounts(snap: Snapshot, firsts: TaskSample[], seconds: TaskSample[]): Map<TaskId, FirstAmounts> {
    const caps = this.caps!;
    const anySecond = seconds.length > 0;
    const useWays = !!caps.cacheWays;
    for (const f of firsts) {
      if (this.held.has(f.id)) continue;
      const n = Math.max(1, firsts.length);
      this.held.set(f.id, {
        cores: Math.max(this.floorOf(f.id, 'cores'), Math.floor((this.capacity('cores') * this.cfg.initialFirstClassShare) / n)),
        ways: useWays ? Math.max(this.floorOf(f.id, 'cacheWays'), Math.floor((this.capacity('cacheWays') * this.cfg.initialFirstClassShare) / n)) : 0,
        lastUpsize: -Infinity,
      });
    }
    for (const id of [...this.held.keys()]) if (!firsts.some((f) => f.id === id)) this.held.delete(id);
    const period = this.cfg.intervalNs ?? this.periodNs ?? 0;
    if (snap.timeNs >= this.nextAtNs) {
      this.nextAtNs = snap.timeNs + period;
      this.interval++;
      this.control(snap, firsts, anySecond);
    }
    const out = new Map<TaskId, FirstAmounts>();
    const coreWant = new Map(firsts.map((f) => [f.id, this.held.get(f.id)!.cores]));
    const cores = this.fit('cores', firsts, coreWant, anySecond);
    const ways = useWays ? this.fit('cacheWays', firsts, new Map(firsts.map((f) => [f.id, this.held.get(f.id)!.ways])), anySecond) : undefined;
    for (const f of firsts) {
      const h = this.held.get(f.id)!;
      h.cores = cores.get(f.id)!;
      if (ways) h.ways = ways.get(f.id)!;
      const a: FirstAmounts = { task: f.id, cores: activeOnly(h.cores) };
      if (ways) a.ways = activeOnly(h.ways);
      out.set(f.id, a);
    }
    return out;
  }

  private control(snap: Snapshot, firsts: TaskSample[], anySecond: boolean): void {
    const caps = this.caps!;
    let danger = false;
    let calm = true;
    for (const f of firsts) {
      const h = this.held.get(f.id)!;
      const slack = this.slackOf(f);
      if (slack === undefined) continue;
      const util = f.allocation.cores.length ? f.cpuCores / f.allocation.cores.length : 0;
      const maxCores = this.capOf(f.id, 'cores', firsts, anySecond);
      const maxWays = caps.cacheWays ? this.capOf(f.id, 'cacheWays', firsts, anySecond) : 0;
      if (slack < this.cfg.upsizeSlack) calm = false;
      if (slack < 0) {
        danger = true;
        h.cores = Math.min(maxCores, h.cores + 1);
        if (caps.cacheWays) h.ways = Math.min(maxWays, h.ways + 1);
        h.lastUpsize = this.interval;
      } else if (slack < this.cfg.upsizeSlack) {
        if ((util >= 0.8 || !caps.cacheWays || h.ways >= maxWays) && h.cores < maxCores) h.cores++;
        else if (caps.cacheWays && h.ways < maxWays) h.ways++;
        h.lastUpsize = this.interval;
      } else if (slack > this.cfg.downsizeSlack && this.interval - h.lastUpsize >= this.cfg.holdIntervals && util < this.cfg.downsizeUtilisation) {
        if (h.cores > this.floorOf(f.id, 'cores')) h.cores--;
        else if (caps.cacheWays && h.ways > this.floorOf(f.id, 'cacheWays')) h.ways--;
      }
    }
    if (danger) {
      this.secondDisabled = true;
      this.calmIntervals = 0;
    } else if (calm) {
      this.calmIntervals++;
      if (this.secondDisabled && this.calmIntervals >= this.cfg.holdIntervals) this.secondDisabled = false;
    } else this.calmIntervals = 0;
    const mb = caps.memBandwidth;
    if (mb) {
      const total = snap.tasks.reduce((s, t) => s + (t.state === 'exited' ? 0 : (t.memBandwidthBytesPerSec ?? 0)), 0);
      const pct = (100 * total) / mb.peakBytesPerSec;
      if (pct > this.cfg.bandwidthHighPct) this.secondMbaPct = Math.max(mb.minPct, this.secondMbaPct - mb.stepPct);
      else if (pct < this.cfg.bandwidthLowPct) this.secondMbaPct = Math.min(100, this.secondMbaPct + mb.stepPct);
      if (this.secondMbaPct !== 100) this.secondMbaPct = Math.max(mb.minPct, Math.round(this.secondMbaPct / mb.stepPct) * mb.stepPct);
    }
  }

  protected override adjustSecond(_snap: Snapshot, part: Partition, _firsts: TaskSample[], seconds: TaskSample[]): void {
    const caps = this.caps!;
    for (const s of seconds) {
      const p = part.second.get(s.id)!;
      const b = this.baseline.get(s.id)!;
      if (caps.memBandwidth) p.memBandwidthPct = Math.min(b.mbaPct, this.secondMbaPct);
      if (caps.freezer) p.paused = this.secondDisabled ? true : b.paused;
      if (caps.throttle) p.cpuPct = this.secondDisabled && !caps.freezer ? 5 : b.quotaPct;
      if (this.secondDisabled) p.quarantine = `${this.name}: SLO danger, second-class work disabled`;
    }
  }
}
