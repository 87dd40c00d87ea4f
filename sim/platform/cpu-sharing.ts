// How cores are shared. Every runnable thread on a core gets an equal share
// of it (CFS with equal weights); a second-class task spreads its runnable
// threads evenly over its cpuset; a first-class service runs one worker per
// core of its cpuset, busy for the fraction of time it is serving.

export interface CpuTaskInput {
  cores: number[];
  /** Second-class: runnable threads (threads x activity). First-class: 0 (see busy). */
  runnableThreads: number;
  /** First-class: mean fraction of time each worker is busy. */
  workerBusy: number;
  firstClass: boolean;
  quotaPct: number;
  paused: boolean;
}

/**
 * The shares of one machine's cores, recomputed by share() into arrays kept
 * from call to call (the simulator shares its cores again at every
 * contention solve, over a hundred times a simulated second).
 */
export class CpuSharing {
  /** Cores' worth of CPU each task receives. */
  cpuCores = new Float64Array(0);
  /**
   * Busy fraction of each core: its runnable load (second-class threads at
   * their quota, echo threads, busy first-class workers), capped at 1. Read by
   * the core-interference model (cores.interference).
   */
  readonly coreBusy: Float64Array;
  /** First-class: the share of core c a busy worker of task i gets, at [i * coreCount + c] (0 where it has no worker). */
  private workerShares = new Float64Array(0);
  private readonly beLoad: Float64Array; // runnable second-class threads per core
  private readonly lcLoad: Float64Array; // busy first-class workers per core

  constructor(private readonly coreCount: number) {
    this.coreBusy = new Float64Array(coreCount);
    this.beLoad = new Float64Array(coreCount);
    this.lcLoad = new Float64Array(coreCount);
  }

  /** The share of `core` a busy worker of first-class task `task` gets (by the last share()). */
  workerShare(task: number, core: number): number {
    return this.workerShares[task * this.coreCount + core];
  }

  /** `extraLoad`: other runnable threads per core (e.g. echo bursts). */
  share(tasks: readonly CpuTaskInput[], extraLoad?: Float64Array): this {
    const { coreCount, beLoad, lcLoad, coreBusy } = this;
    const n = tasks.length;
    if (this.cpuCores.length !== n) {
      this.cpuCores = new Float64Array(n);
      this.workerShares = new Float64Array(n * coreCount);
    }
    if (extraLoad) {
      beLoad.set(extraLoad);
      coreBusy.set(extraLoad);
    } else {
      beLoad.fill(0);
      coreBusy.fill(0);
    }
    lcLoad.fill(0);
    for (let i = 0; i < n; i++) {
      const t = tasks[i];
      if (t.paused || t.cores.length === 0) continue;
      if (t.firstClass) {
        for (const c of t.cores) lcLoad[c] += t.workerBusy;
      } else {
        const perCore = t.runnableThreads / t.cores.length;
        const quota = Math.min(1, t.quotaPct / 100);
        for (const c of t.cores) {
          beLoad[c] += perCore;
          coreBusy[c] += perCore * quota;
        }
      }
    }
    for (let c = 0; c < coreCount; c++) coreBusy[c] = Math.min(1, coreBusy[c] + lcLoad[c]);
    for (let i = 0; i < n; i++) {
      const t = tasks[i];
      let cpu = 0;
      if (t.firstClass) this.workerShares.fill(0, i * coreCount, (i + 1) * coreCount);
      if (!t.paused) {
        const quota = Math.min(1, t.quotaPct / 100);
        if (t.firstClass) {
          for (const c of t.cores) {
            // a busy worker competes with the core's second-class threads and other services' busy workers
            const others = beLoad[c] + Math.max(0, lcLoad[c] - t.workerBusy);
            const share = quota / (1 + others);
            this.workerShares[i * coreCount + c] = share;
            cpu += t.workerBusy * share;
          }
        } else {
          const perCore = t.runnableThreads / Math.max(1, t.cores.length);
          for (const c of t.cores) {
            const load = beLoad[c] + lcLoad[c];
            const perThread = load > 1 ? 1 / load : 1;
            cpu += perCore * perThread * quota;
          }
        }
      }
      this.cpuCores[i] = cpu;
    }
    return this;
  }
}
