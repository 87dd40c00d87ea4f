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

export interface CpuShares {
  /** Cores' worth of CPU each task receives. */
  cpuCores: number[];
  /** First-class: the share of each of its cores a busy worker gets (by core id). */
  workerShare: Map<number, number>[];
  /**
   * Busy fraction of each core: its runnable load (second-class threads at
   * their quota, echo threads, busy first-class workers), capped at 1. Read by
   * the core-interference model (cores.interference).
   */
  coreBusy: Float64Array;
}

const NO_WORKERS: Map<number, number> = new Map();

/** `extraLoad`: other runnable threads per core (e.g. echo bursts). */
export function shareCores(coreCount: number, tasks: CpuTaskInput[], extraLoad?: Float64Array): CpuShares {
  const beLoad = extraLoad ? Float64Array.from(extraLoad) : new Float64Array(coreCount); // runnable second-class threads per core
  const lcLoad = new Float64Array(coreCount); // busy first-class workers per core
  const coreBusy = extraLoad ? Float64Array.from(extraLoad) : new Float64Array(coreCount);
  tasks.forEach((t) => {
    if (t.paused || t.cores.length === 0) return;
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
  });
  for (let c = 0; c < coreCount; c++) coreBusy[c] = Math.min(1, coreBusy[c] + lcLoad[c]);
  const cpuCores: number[] = [];
  const workerShare: Map<number, number>[] = [];
  tasks.forEach((t) => {
    // second-class tasks have no workers: they share one empty map
    const shares = t.firstClass ? new Map<number, number>() : NO_WORKERS;
    let cpu = 0;
    if (!t.paused) {
      const quota = Math.min(1, t.quotaPct / 100);
      if (t.firstClass) {
        for (const c of t.cores) {
          // a busy worker competes with the core's second-class threads and other services' busy workers
          const others = beLoad[c] + Math.max(0, lcLoad[c] - t.workerBusy);
          const share = quota / (1 + others);
          shares.set(c, share);
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
    cpuCores.push(cpu);
    workerShare.push(shares);
  });
  return { cpuCores, workerShare, coreBusy };
}
