// decide() cost of every policy at 64 tasks (4 first-class services, 60
// second-class jobs) on the synthetic world (bench/synthetic-world.ts): the
// same deterministic snapshot stream for every policy, a discarded pass to
// compile the shared code, a warm-up so shadows, forecasters and histograms
// are past their start-up, then the time of decide() alone per tick
// (observe/apply of the world are not timed): mean, median and p99.
// `umbra bench --json` prints it; `umbra policy-bench` prints more detail.
import { createPolicy, POLICY_NAMES } from './registry.js';
import { SyntheticWorld } from './bench/synthetic-world.js';

export interface PolicyBenchOptions {
  firstClass: number;
  secondClass: number;
  warmupTicks: number;
  ticks: number;
  periodNs: number;
  policies: readonly string[];
}

export const POLICY_BENCH_DEFAULTS: PolicyBenchOptions = { firstClass: 4, secondClass: 60, warmupTicks: 300, ticks: 1000, periodNs: 10_000_000, policies: POLICY_NAMES };

export interface PolicyBenchResult {
  /** Mean wall-clock time of decide() per tick. */
  decideUsPerTick: number;
  /** Median per-tick time (less sensitive than the mean to other jobs preempting this one on a shared machine). */
  decideUsMedian: number;
  /** 99th percentile of the per-tick decide() time. */
  decideUsP99: number;
  actionsPerTick: number;
}

export function benchPolicies(opts: Partial<PolicyBenchOptions> = {}): Record<string, PolicyBenchResult> {
  const o = { ...POLICY_BENCH_DEFAULTS, ...opts };
  const out: Record<string, PolicyBenchResult> = {};
  // one discarded pass first, so the first policy measured does not pay for compiling the code all of them share
  if (o.policies.length) runOnce(o.policies[0], o, Math.min(o.warmupTicks + o.ticks, 400));
  for (const name of o.policies) {
    const world = new SyntheticWorld(o.firstClass, o.secondClass, o.periodNs, 1);
    const policy = createPolicy(name);
    const first = world.observe();
    policy.init?.(world.capabilities(), first);
    let snap = first;
    const times: number[] = [];
    let actions = 0;
    for (let i = 0; i < o.warmupTicks + o.ticks; i++) {
      const t0 = process.hrtime.bigint();
      const acts = policy.decide(snap);
      const dt = Number(process.hrtime.bigint() - t0);
      if (i >= o.warmupTicks) {
        times.push(dt);
        actions += acts.length;
      }
      world.apply(acts);
      world.advance(world.now() + o.periodNs);
      snap = world.observe();
    }
    times.sort((a, b) => a - b);
    const mean = times.reduce((s, x) => s + x, 0) / times.length;
    out[name] = {
      decideUsPerTick: Math.round(mean / 10) / 100,
      decideUsMedian: Math.round(times[Math.floor((times.length - 1) / 2)] / 10) / 100,
      decideUsP99: Math.round(times[Math.floor(0.99 * (times.length - 1))] / 10) / 100,
      actionsPerTick: Math.round((actions / o.ticks) * 100) / 100,
    };
  }
  return out;
}

function runOnce(name: string, o: PolicyBenchOptions, ticks: number): void {
  const world = new SyntheticWorld(o.firstClass, o.secondClass, o.periodNs, 2);
  const policy = createPolicy(name);
  let snap = world.observe();
  policy.init?.(world.capabilities(), snap);
  for (let i = 0; i < ticks; i++) {
    world.apply(policy.decide(snap));
    world.advance(world.now() + o.periodNs);
    snap = world.observe();
  }
}
