// What the real-host control loop costs: 16 started tasks, a 10 ms loop of
// observe -> decide -> apply -> advance, and a small policy that flips a quota
// every 10th tick so apply() does real writes.
//
// Reported, as percent of one core over the measured wall time:
//  - workCpuPct: the loop's own work (observe + decide + apply): the main
//    thread's CPU time during the ticks (CLOCK_THREAD_CPUTIME_ID via the
//    addon; without it, the ticks' wall time, an upper bound); target <= 1%;
//  - processCpuPct: everything the runner process used (every thread's
//    scheduler runtime from /proc/self/task/*/schedstat), sleeps included;
//  - idleLoopCpuPct: the same process running the same loop with no work at
//    all (just advance), measured right after: the cost of waking a Node
//    process 100 times a second on this host, which no loop can go below.
// And the tick latency (observe+decide+apply) and wake-up lateness, p50/p99.
import { readdirSync, readFileSync } from 'node:fs';
import type { Action, Policy, Snapshot } from '../policies/platform.js';
import { percentileSorted } from './workloads/latency-window.js';
import { startHostPlatform, type HostPlatformOptions } from './host-setup.js';
import type { CgroupChoice } from './cgroup/select-backend.js';
import { nativeAddon } from '../native/addon.js';

export interface HostLoopBenchOptions {
  tasks?: number;
  seconds?: number;
  periodNs?: number;
  /** false = pure-JS fallback (no native addon). */
  native?: boolean;
  cgroup?: CgroupChoice;
  sleepMode?: HostPlatformOptions['sleepMode'];
  journalDir?: string;
}

export interface HostLoopBenchResult {
  tasks: number;
  ticks: number;
  seconds: number;
  periodNs: number;
  workCpuPct: number;
  /** How workCpuPct was measured. */
  workCpuClock: 'thread-cputime' | 'wall';
  processCpuPct: number;
  idleLoopCpuPct: number;
  /** observe + decide + apply, per tick. */
  tickP50Ns: number;
  tickP99Ns: number;
  tickMaxNs: number;
  /** How late advance() returned relative to the tick deadline. */
  wakeLateP50Ns: number;
  wakeLateP99Ns: number;
  native: boolean;
  fs: string;
  sleep: 'native' | 'timer';
  cgroupVersion: 1 | 2 | null;
  actionsApplied: number;
  actionsRefused: number;
  budgetPct: number;
  /** workCpuPct <= budgetPct. */
  meetsBudget: boolean;
}

/** Every 10th tick, flip one task's quota between 50% and 100%. */
class QuotaFlipPolicy implements Policy {
  readonly name = 'bench-quota-flip';
  private tick = 0;
  decide(s: Snapshot): Action[] {
    const t = this.tick++;
    if (t % 10 !== 0 || s.tasks.length === 0) return [];
    const task = s.tasks[(t / 10) % s.tasks.length];
    return [{ kind: 'throttle', task: task.id, cpuPct: task.allocation.cpuQuotaPct < 100 ? 100 : 50 }];
  }
}

const monoNs = () => Number(process.hrtime.bigint());

/** CPU time of every thread of this process, ns (scheduler runtime, not tick-sampled). */
export function processRuntimeNs(): number {
  let sum = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      sum += Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // thread exited
    }
  }
  return sum;
}

export async function benchHostLoop(o: HostLoopBenchOptions = {}): Promise<HostLoopBenchResult> {
  const n = o.tasks ?? 16;
  const seconds = o.seconds ?? 5;
  const periodNs = o.periodNs ?? 10_000_000;
  // Idle tasks: the loop's cost does not depend on what the tasks do, and
  // busy ones would compete with the runner for the cores being measured.
  const opts: HostPlatformOptions = {
    tasks: Array.from({ length: n }, (_, i) => ({ id: `t${i}`, class: i === 0 ? 'first' : 'second', workload: { kind: 'command', argv: ['sleep', String(Math.ceil(2 * seconds) + 60)] } })),
    native: o.native,
    cgroup: o.cgroup,
    sleepMode: o.sleepMode,
    journalDir: o.journalDir,
    killGraceMs: 500,
  };
  const { platform } = await startHostPlatform(opts);
  const policy = new QuotaFlipPolicy();
  const ticks: number[] = [];
  const late: number[] = [];
  let applied = 0;
  let refused = 0;
  const total = Math.round((seconds * 1e9) / periodNs);
  try {
    // Warm-up: JIT, first reads.
    let next = platform.now();
    for (let i = 0; i < Math.round(1e9 / periodNs); i++) {
      platform.apply(policy.decide(platform.observe()));
      next += periodNs;
      await platform.advance(next);
    }
    const run0 = processRuntimeNs();
    const wall0 = monoNs();
    next = platform.now();
    let workNs = 0;
    const cpuNow = nativeAddon()?.threadCpuNs ?? monoNs;
    for (let i = 0; i < total; i++) {
      const t0 = monoNs();
      const c0 = cpuNow();
      const snap = platform.observe();
      const r = platform.apply(policy.decide(snap));
      workNs += cpuNow() - c0;
      ticks.push(monoNs() - t0);
      applied += r.applied.length;
      refused += r.refused.length;
      next += periodNs;
      await platform.advance(next);
      late.push(Math.max(0, platform.now() - next));
    }
    const wallNs = monoNs() - wall0;
    const processCpuPct = ((processRuntimeNs() - run0) * 100) / wallNs;
    // The floor: the same advance() loop doing nothing.
    const idle0 = processRuntimeNs();
    const idleWall0 = monoNs();
    next = platform.now();
    for (let i = 0; i < total; i++) {
      next += periodNs;
      await platform.advance(next);
    }
    const idleLoopCpuPct = ((processRuntimeNs() - idle0) * 100) / (monoNs() - idleWall0);
    const sortedTicks = Float64Array.from(ticks).sort();
    const sortedLate = Float64Array.from(late).sort();
    const rt = platform.rt;
    const workCpuPct = (workNs * 100) / wallNs;
    return {
      tasks: n,
      ticks: total,
      seconds: wallNs / 1e9,
      periodNs,
      workCpuPct,
      workCpuClock: nativeAddon() ? 'thread-cputime' : 'wall',
      processCpuPct,
      idleLoopCpuPct,
      tickP50Ns: percentileSorted(sortedTicks, 0.5),
      tickP99Ns: percentileSorted(sortedTicks, 0.99),
      tickMaxNs: sortedTicks[sortedTicks.length - 1] ?? 0,
      wakeLateP50Ns: percentileSorted(sortedLate, 0.5),
      wakeLateP99Ns: percentileSorted(sortedLate, 0.99),
      native: rt.addon !== null,
      fs: rt.fs.kind,
      sleep: platform.sleepKind(),
      cgroupVersion: rt.backend?.version ?? null,
      actionsApplied: applied,
      actionsRefused: refused,
      budgetPct: 1,
      meetsBudget: workCpuPct <= 1,
    };
  } finally {
    await platform.close();
  }
}
