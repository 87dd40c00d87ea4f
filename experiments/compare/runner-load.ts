// The host runner's own CPU as load in the simulator. When a compare spec
// pins the runner's threads (hardware.clientCores) to a core a task uses,
// the host's task there shares it with them: on the 2-vCPU VM, the control
// loop and the load generator on the job's core took 17-30% of its
// throughput (runner/README.md, "Simulator vs hardware"). The simulator has
// no runner, so it is given the same CPU on the same cores
// (SimPlatformOptions.backgroundLoad), measured in the host's alone runs
// only, like every other fit:
//   - a run with one task alone: what the runner used in the host's run of
//     that task alone (same seed; the fitting runs take seed 1's);
//   - a co-located run: the control loop (the mean over the second-class
//     jobs' alone runs, where no load generator runs) plus, per service, what
//     its load generator added in its alone run over that.
// The same for how often those threads woke (voluntary context switches):
// each wake-up costs the job on that core the machine's cores.wakeupCostNs
// beyond the runner's CPU (runner/calibrate/wakeup-cost.ts), which on the
// 2-vCPU VM was as much again as the CPU itself.
import type { CompareRunRecord } from './compare-report.js';

export interface RunnerLoad {
  /** Cores' worth of the runner's CPU, and its wake-ups per second, per simulated core. */
  load: { core: number; cores: number; wakeupsPerSec: number }[];
  /** The totals (cores; wake-ups per second, 0 where the host runs did not record them). */
  cores: number;
  wakeupsPerSec: number;
}

/** Which task a run label is the alone run (or an alone fitting run: -preset, -fitN) of; null for a co-located run. */
export function aloneTaskOf(label: string, taskIds: readonly string[]): string | null {
  for (const id of taskIds) {
    const prefix = `alone-${id}`;
    if (label === prefix || (label.startsWith(`${prefix}-`) && /^(preset|fit\d+)$/.test(label.slice(prefix.length + 1)))) return id;
  }
  return null;
}

interface Use {
  cores: number;
  wakeupsPerSec: number;
}

export function runnerLoadFor(
  label: string,
  seed: number,
  o: { fcIds: readonly string[]; beIds: readonly string[]; seed0: number; simCores: readonly number[]; hostRuns: readonly CompareRunRecord[] },
): RunnerLoad | null {
  if (o.simCores.length === 0) return null;
  const runner = (id: string, s: number): Use | null => {
    const l = o.hostRuns.find((r) => r.side === 'host' && r.label === `alone-${id}` && r.seed === s)?.hostLoad;
    return l ? { cores: l.runnerCores, wakeupsPerSec: l.runnerWakeupsPerSec ?? 0 } : null;
  };
  // the host's alone run of a task on this seed, else on the first (the fitting runs' seed)
  const aloneRunner = (id: string, s: number): Use | null => runner(id, s) ?? runner(id, o.seed0);
  const k = o.simCores.length;
  const spread = (u: Use): RunnerLoad => ({ load: o.simCores.map((core) => ({ core, cores: u.cores / k, wakeupsPerSec: u.wakeupsPerSec / k })), ...u });
  const alone = aloneTaskOf(label, [...o.fcIds, ...o.beIds]);
  if (alone !== null) {
    const u = aloneRunner(alone, label === `alone-${alone}` ? seed : o.seed0);
    return u === null ? null : spread(u);
  }
  const loops = o.beIds.map((id) => aloneRunner(id, seed)).filter((u): u is Use => u !== null);
  const mean = (f: (u: Use) => number) => (loops.length ? loops.reduce((a, u) => a + f(u), 0) / loops.length : 0);
  const controlLoop: Use = { cores: mean((u) => u.cores), wakeupsPerSec: mean((u) => u.wakeupsPerSec) };
  const total: Use = { ...controlLoop };
  for (const id of o.fcIds) {
    const u = aloneRunner(id, seed);
    if (u === null) return null;
    total.cores += Math.max(0, u.cores - controlLoop.cores);
    total.wakeupsPerSec += Math.max(0, u.wakeupsPerSec - controlLoop.wakeupsPerSec);
  }
  return spread(total);
}
