// What each task achieves alone on the machine, the denominators of emuPct and
// beThroughputPct (definitions.ts):
// - a second-class job: its mean throughput (progress/s) over the measured
//   windows, alone, with every core and way, same load profile, threads, seed
//   and duration as in the experiment;
// - a first-class service: its peak, the highest constant request rate it
//   serves alone on every core with at most PEAK_MAX_VIOLATION_PCT of windows
//   over its SLO, found by bisection over short probe runs.
// Both run on the experiment's own platform (the simulator, or this host for
// platform: hardware), so the ratios compare like with like. On a host the
// peak search starts a service per probe: give `peakRps` in the spec to skip it.
import type { ScenarioSpec, TaskSpec } from '../../sim/platform/scenario.js';
import { InputError } from '../../util/errors.js';
import { runControlLoop } from '../loop/control-loop.js';
import { runMetrics } from '../metrics/run-metrics.js';
import { resolveFor } from '../platforms/sim.js';
import { createPlatform } from '../platforms/platform-factory.js';
import type { PreparedExperiment, PreparedPoint } from '../spec/prepare.js';
import { noopPolicy } from './noop-policy.js';

export const PEAK_MAX_VIOLATION_PCT = 5;
export const PEAK_PROBE_MS = 400;
export const PEAK_BISECTIONS = 10;

export interface AloneResult {
  role: 'be' | 'fc';
  task: string;
  seed: number;
  /** be: mean progress/s alone; fc: peak requests/s within the SLO. */
  value: number;
  /** fc: every probe (rate, violation %), in the order run. */
  probes?: { rps: number; violationPct: number }[];
}

function aloneTask(point: PreparedPoint, taskId: string): TaskSpec {
  const t = point.scenario.tasks.find((x) => x.id === taskId);
  if (!t) throw new InputError(`no task "${taskId}" in the scenario`);
  return t;
}

async function aloneScenario(exp: PreparedExperiment, point: PreparedPoint, task: TaskSpec, seed: number, load?: TaskSpec['load']): Promise<ScenarioSpec> {
  // every core of the machine; no way, colour, bandwidth or IO restriction
  const resolved = await resolveFor({ ...point.scenario, tasks: [task] }, exp.baseDir, seed);
  const cores = `0-${resolved.machine.cores.count - 1}`;
  const threads = task.threads ?? Math.max(1, resolved.tasks[0].cores.length);
  const alone: TaskSpec = { id: task.id, class: task.class, kernel: task.kernel, cores, ...(task.overrides ? { overrides: task.overrides } : {}) } as TaskSpec;
  if (task.class === 'second') alone.threads = threads;
  if (task.sloP99Ms !== undefined) alone.sloP99Ms = task.sloP99Ms;
  const l = load ?? task.load;
  if (l !== undefined) alone.load = l;
  return { ...point.scenario, tasks: [alone] };
}

async function runAlone(exp: PreparedExperiment, point: PreparedPoint, scenario: ScenarioSpec, seed: number, durationMs: number, warmupMs: number, periodMs: number) {
  const alonePoint: PreparedPoint = { ...point, scenario, spec: { ...point.spec, durationMs, warmupMs } };
  const platform = await createPlatform({ experiment: exp, point: alonePoint, seed, futureHorizonNs: 0 });
  try {
    const { recording } = await runControlLoop(platform, noopPolicy, { durationNs: Math.round(durationMs * 1e6), periodNs: Math.round(periodMs * 1e6) });
    return runMetrics(recording, { warmupNs: Math.round(warmupMs * 1e6), leadCapMs: exp.spec.leadCapMs });
  } finally {
    // a host platform owns processes and cgroups: give them back
    await (platform as { close?: () => Promise<unknown> }).close?.();
  }
}

export async function beAlone(exp: PreparedExperiment, point: PreparedPoint, taskId: string, seed: number): Promise<AloneResult> {
  const task = aloneTask(point, taskId);
  const scenario = await aloneScenario(exp, point, task, seed);
  const m = await runAlone(exp, point, scenario, seed, point.spec.durationMs, point.spec.warmupMs, point.spec.controlPeriodMs);
  return { role: 'be', task: taskId, seed, value: m.beProgress[taskId] ?? 0 };
}

export async function fcPeak(exp: PreparedExperiment, point: PreparedPoint, taskId: string, seed: number): Promise<AloneResult> {
  const task = aloneTask(point, taskId);
  const probe0 = await aloneScenario(exp, point, task, seed, { constant: 1 });
  const resolved = await resolveFor(probe0, exp.baseDir, seed);
  const r = resolved.tasks[0];
  const capacity = (resolved.machine.cores.count * resolved.machine.cores.freqGHz * 1e9) / (r.kernel.cpiCore * (r.kernel.instrPerRequest ?? 1));
  const probeMs = Math.min(point.spec.durationMs, PEAK_PROBE_MS);
  const probes: { rps: number; violationPct: number }[] = [];
  const passes = async (rps: number): Promise<boolean> => {
    const sc = { ...probe0, tasks: [{ ...probe0.tasks[0], load: { constant: rps } }] } as ScenarioSpec;
    const m = await runAlone(exp, point, sc, seed, probeMs, probeMs / 4, point.spec.controlPeriodMs);
    const v = m.sloViolationPct ?? 0;
    probes.push({ rps, violationPct: v });
    return v <= PEAK_MAX_VIOLATION_PCT;
  };
  let lo = 0;
  let hi = capacity;
  for (let i = 0; i < 4 && (await passes(hi)); i++) {
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < PEAK_BISECTIONS; i++) {
    const mid = (lo + hi) / 2;
    if (await passes(mid)) lo = mid;
    else hi = mid;
  }
  return { role: 'fc', task: taskId, seed, value: lo, probes };
}
