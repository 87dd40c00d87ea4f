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
import type { CompareRunRecord } from './compare-report.js';

export interface RunnerLoad {
  /** Cores' worth of the runner's CPU per simulated core. */
  load: { core: number; cores: number }[];
  /** The total (cores). */
  cores: number;
}

/** Which task a run label is the alone run (or an alone fitting run: -preset, -fitN) of; null for a co-located run. */
export function aloneTaskOf(label: string, taskIds: readonly string[]): string | null {
  for (const id of taskIds) {
    const prefix = `alone-${id}`;
    if (label === prefix || (label.startsWith(`${prefix}-`) && /^(preset|fit\d+)$/.test(label.slice(prefix.length + 1)))) return id;
  }
  return null;
}

export function runnerLoadFor(
  label: string,
  seed: number,
  o: { fcIds: readonly string[]; beIds: readonly string[]; seed0: number; simCores: readonly number[]; hostRuns: readonly CompareRunRecord[] },
): RunnerLoad | null {
  if (o.simCores.length === 0) return null;
  const runner = (id: string, s: number): number | null => o.hostRuns.find((r) => r.side === 'host' && r.label === `alone-${id}` && r.seed === s)?.hostLoad?.runnerCores ?? null;
  // the host's alone run of a task on this seed, else on the first (the fitting runs' seed)
  const aloneRunner = (id: string, s: number): number | null => runner(id, s) ?? runner(id, o.seed0);
  const spread = (cores: number): RunnerLoad => ({ load: o.simCores.map((core) => ({ core, cores: cores / o.simCores.length })), cores });
  const alone = aloneTaskOf(label, [...o.fcIds, ...o.beIds]);
  if (alone !== null) {
    const c = aloneRunner(alone, label === `alone-${alone}` ? seed : o.seed0);
    return c === null ? null : spread(c);
  }
  const loops = o.beIds.map((id) => aloneRunner(id, seed)).filter((c): c is number => c !== null);
  const controlLoop = loops.length ? loops.reduce((a, b) => a + b, 0) / loops.length : 0;
  let total = controlLoop;
  for (const id of o.fcIds) {
    const c = aloneRunner(id, seed);
    if (c === null) return null;
    total += Math.max(0, c - controlLoop);
  }
  return spread(total);
}
