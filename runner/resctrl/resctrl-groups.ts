// resctrl groups for the runner's tasks: a control group (CAT mask, MBA
// level) created the first time a task gets one of those, named
// umbra-<run>-<task>; before that, a monitoring group under mon_groups/ when
// CMT/MBM exist, so occupancy and bandwidth are observed for every task.
// Threads and children created later inherit their creator's group.
import { join } from 'node:path';
import type { HostFs } from '../fs/host-fs.js';
import { tryReadText } from '../fs/host-fs.js';
import type { JournaledHost } from '../journal/journaled-host.js';
import { catMaskProblem, fullMask } from './cat-mask.js';
import type { ResctrlInfo } from './resctrl-info.js';

export class ResctrlRefusal extends Error {
  override readonly name = 'ResctrlRefusal';
}

export interface ResctrlMonSample {
  llcOccupancyBytes?: number;
  mbmTotalBytes?: number;
  mbmLocalBytes?: number;
}

interface TaskGroups {
  ctrl?: string;
  mon?: string;
}

export class ResctrlGroups {
  private readonly groups = new Map<string, TaskGroups>();
  private ctrlCount = 0;

  constructor(
    private readonly fs: HostFs,
    private readonly info: ResctrlInfo,
    private readonly host: JournaledHost,
    private readonly runName: string,
  ) {}

  private name(task: string): string {
    return `${this.runName}-${task}`;
  }

  /** Closids a run may use: all but the default group's. */
  private closidLimit(): number {
    const limits = [this.info.cat?.numClosids, this.info.mba?.numClosids].filter((n): n is number => n !== undefined);
    return limits.length ? Math.min(...limits) - 1 : 0;
  }

  /** Start monitoring a task (if CMT/MBM exist). tids: every thread of its processes. */
  monitor(task: string, tids: number[]): void {
    if (!this.info.mon) return;
    const g = this.groups.get(task) ?? {};
    if (g.ctrl || g.mon) return;
    const dir = join(this.info.root, 'mon_groups', this.name(task));
    this.host.mkdir(dir, 'resctrl');
    g.mon = dir;
    this.groups.set(task, g);
    this.addTids(dir, tids);
  }

  private ensureCtrl(task: string, tids: number[]): string {
    const g = this.groups.get(task) ?? {};
    if (g.ctrl) return g.ctrl;
    const limit = this.closidLimit();
    if (this.ctrlCount >= limit) throw new ResctrlRefusal(`no free resctrl CLOSID: this run uses ${this.ctrlCount} of the ${limit} available`);
    const dir = join(this.info.root, this.name(task));
    this.host.mkdir(dir, 'resctrl');
    this.ctrlCount++;
    g.ctrl = dir;
    this.groups.set(task, g);
    // Joining the control group takes the threads out of the monitoring group,
    // which is then empty; its counters continue in the control group's mon_data.
    this.addTids(dir, tids);
    if (g.mon) {
      this.fs.rmdir(g.mon);
      g.mon = undefined;
    }
    return dir;
  }

  private addTids(dir: string, tids: number[]): void {
    for (const tid of tids) {
      try {
        this.fs.writeText(join(dir, 'tasks'), String(tid));
      } catch {
        // the thread exited meanwhile
      }
    }
  }

  /** mask 0 = unrestricted (the full mask). */
  setCacheMask(task: string, mask: number, tids: number[]): void {
    const cat = this.info.cat;
    if (!cat) throw new ResctrlRefusal(this.info.catReason ?? this.info.reason ?? 'no cache allocation');
    const m = mask === 0 ? fullMask(cat.totalWays) : mask;
    const problem = catMaskProblem(m, { totalWays: cat.totalWays, minWays: cat.minWays, sparseAllowed: cat.sparseAllowed });
    if (problem) throw new ResctrlRefusal(problem);
    const dir = this.ensureCtrl(task, tids);
    const line = `${cat.resource}:${cat.domains.map((d) => `${d}=${m.toString(16)}`).join(';')}\n`;
    this.host.write(join(dir, 'schemata'), line);
  }

  /** pct of peak bandwidth; must sit on the MBA granularity and above its minimum. */
  setMemBandwidthPct(task: string, pct: number, tids: number[]): void {
    const mba = this.info.mba;
    if (!mba) throw new ResctrlRefusal(this.info.mbaReason ?? this.info.reason ?? 'no memory bandwidth allocation');
    if (!(pct > 0 && pct <= 100)) throw new ResctrlRefusal(`memory bandwidth must be in (0, 100]%, got ${pct}`);
    if (pct < mba.minPct) throw new ResctrlRefusal(`memory bandwidth ${pct}% is below the MBA minimum ${mba.minPct}%`);
    if (mba.maxValue === 100 && pct % mba.granularityPct !== 0) throw new ResctrlRefusal(`memory bandwidth ${pct}% is not a multiple of the MBA granularity ${mba.granularityPct}%`);
    const value = mba.maxValue === 100 ? pct : Math.max(1, Math.round((mba.maxValue * pct) / 100));
    const dir = this.ensureCtrl(task, tids);
    this.host.write(join(dir, 'schemata'), `MB:${mba.domains.map((d) => `${d}=${value}`).join(';')}\n`);
  }

  /** Occupancy and cumulative bandwidth bytes, summed over cache domains. */
  read(task: string): ResctrlMonSample {
    const g = this.groups.get(task);
    const dir = g?.ctrl ?? g?.mon;
    if (!dir || !this.info.mon) return {};
    const monData = join(dir, 'mon_data');
    let domains: string[] = [];
    try {
      domains = this.fs.list(monData);
    } catch {
      return {};
    }
    const out: ResctrlMonSample = {};
    const add = (key: keyof ResctrlMonSample, file: string) => {
      let sum = 0;
      let any = false;
      for (const d of domains) {
        const v = Number((tryReadText(this.fs, join(monData, d, file)) ?? '').trim());
        if (Number.isFinite(v)) {
          sum += v;
          any = true;
        }
      }
      if (any) out[key] = sum;
    };
    if (this.info.mon.features.includes('llc_occupancy')) add('llcOccupancyBytes', 'llc_occupancy');
    if (this.info.mon.features.includes('mbm_total_bytes')) add('mbmTotalBytes', 'mbm_total_bytes');
    if (this.info.mon.features.includes('mbm_local_bytes')) add('mbmLocalBytes', 'mbm_local_bytes');
    return out;
  }

  groupOf(task: string): TaskGroups | undefined {
    return this.groups.get(task);
  }
}
