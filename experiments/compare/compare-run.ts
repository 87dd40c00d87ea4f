// `umbra compare SPEC`: one scenario on the calibrated simulator and on this
// host, with the same policies and seeds, side by side.
//
//  1. The machine: --machine FILE, else the spec's machine, else measured now
//     (calibrateHostAll, quick) and mapped (machineFromCalibration); written to
//     OUT/machine.yaml. The spec's scenario is restated for that machine's
//     core count when it differs (scale-scenario.ts).
//  2. Per seed, on each platform: every first-class service alone on its
//     initial cores, every second-class job alone, then the whole scenario
//     under each policy; the experiments' control loop drives both platforms,
//     with the no-op policy for the alone runs.
//  3. Service demand (on by default, --no-fit-service turns it off): the
//     simulator's kv kernel carries a generic 150k instructions per request;
//     redis on a host does much less. The first seed's alone runs give CPU
//     seconds per completed request on both platforms, and instrPerRequest is
//     scaled by their ratio for every simulated run. Only alone runs are used,
//     so the co-located results are a prediction, not a fit.
//  4. Second-class memory intensity (on by default, --no-fit-memory turns it
//     off): each second-class kernel's apki and mlp are scaled together so
//     its simulated alone memory bandwidth matches the host stressor's alone
//     bandwidth on the first seed (fit-memory-intensity.ts). Alone runs only.
//  5. Knobs (on by default, --sim-knobs all turns it off): the simulated
//     platform offers only the knobs the host offered (host-knobs.ts), so a
//     policy makes the same kind of decisions on both.
//  6. Measurement path (on by default, --no-fit-path turns it off): a host
//     latency runs from the load generator's intended send time through the
//     socket, redis's event loop and the client's reply handling; a simulated
//     one is queueing and service only. Each seed's alone runs give the
//     difference per service (window p99 and mean), which is added to that
//     seed's simulated latencies as a constant (compare-report.ts): per seed,
//     since the host's alone latency drifts from run to run (one seed's 670 us
//     against the next two's 380-400 us here). Alone runs only.
//  7. Figures per (policy, seed, service) and the simulator's error
//     (compare-figures.ts); compare.json and compare.md (compare-report.ts),
//     plus each run's figures and metrics under runs/.
// Hardware runs are not byte-reproducible (timing, the kernel's scheduling,
// other tenants); the simulated side is, for the same inputs.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Policy, Snapshot } from '../../policies/platform.js';
import { loadMachineDescription, parseMachineDescription, type MachineDescription } from '../../sim/machine/machine-description.js';
import type { ScenarioSpec, TaskSpec } from '../../sim/platform/scenario.js';
import { SimPlatform } from '../../sim/platform/sim-platform.js';
import { aloneTaskOf, runnerLoadFor } from './runner-load.js';
import { KERNELS } from '../../sim/workloads/kernels/index.js';
import { calibrateHostAll } from '../../runner/calibrate/calibrate-host.js';
import { machineDescriptionYaml, machineFromCalibration } from '../../runner/calibrate/machine-from-calibration.js';
import { startHardwareRun, hostCoreIds } from '../../runner/scenario/hardware-run.js';
import { HostMappingError, hostTasksForScenario } from '../../runner/scenario/host-scenario.js';
import { cpuLoadBetween, readCpuTimes } from '../../runner/probe/cpu-load.js';
import { UsageError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { noopPolicy } from '../alone/noop-policy.js';
import { runControlLoop } from '../loop/control-loop.js';
import type { Recording } from '../loop/recording.js';
import { runMetrics } from '../metrics/run-metrics.js';
import { resolveFor } from '../platforms/sim.js';
import { checkedHardwareSettings, specFieldOf } from '../platforms/hardware.js';
import { createPolicy, type PolicyRef } from '../policies/policy-source.js';
import { prepareExperiment, type PreparedExperiment, type PreparedPoint } from '../spec/prepare.js';
import { specError, type SpecSource } from '../spec/spec-source.js';
import { runFigures, type RunFigures } from './compare-figures.js';
import { buildComparison, type Comparison, type CompareRunRecord, type PathFit, type ServiceFit } from './compare-report.js';
import { scaleScenario } from './scale-scenario.js';
import { fitServiceDemand } from './fit-service-demand.js';
import { HostKnobsPlatform, knobsMissingOnHost } from './host-knobs.js';
import type { Capabilities } from '../../policies/platform.js';
import { fitIntensity, hostMemBandwidth, intensityFields, type MemoryFit } from './fit-memory-intensity.js';
import { apkiForFootprint, measureServiceFootprint, type ServiceFootprintFit } from './fit-service-footprint.js';
import type { HostTaskSpec } from '../../runner/host-task-spec.js';

export type PlatformSide = 'host' | 'sim';

export interface CompareOptions {
  outDir: string;
  /** A machine description file for the simulator (default: the spec's, else calibrate now). */
  machine?: string;
  /** Measure the host now even if the spec names a machine. */
  calibrate?: boolean;
  seeds?: number;
  durationMs?: number;
  /** Sweep point to compare (default 0). */
  point?: number;
  /** Scale the simulated service demand to the host's (default true). */
  fitService?: boolean;
  /** Measure first-class services' LLC accesses per request on the host with cachegrind and simulate them (default true). */
  fitFootprint?: boolean;
  /** Scale second-class kernels' memory intensity to the host stressors' alone bandwidth (default true). */
  fitMemory?: boolean;
  /** The simulated platform's knobs: the host's (default) or all the simulator has. */
  simKnobs?: 'host' | 'all';
  /** Add the host's measurement path (alone latency difference) to simulated latencies (default true). */
  fitPath?: boolean;
  /** With the runner's threads pinned (hardware.clientCores), run their CPU and charge their wake-ups, measured in the host's alone runs, on the same simulated cores (default true; runner-load.ts). */
  fitRunner?: boolean;
  /** Second-class implementation on the host (default: the spec's hardware.stressors, else builtin, which reports progress). */
  stressors?: 'auto' | 'stress-ng' | 'builtin';
  version: string;
  log?: (line: string) => void;
}

interface MachineChoice {
  ref: string | Record<string, unknown>;
  machine: MachineDescription;
  source: string;
  notes: string[];
}

async function chooseMachine(src: SpecSource, point: PreparedPoint, o: CompareOptions): Promise<MachineChoice> {
  if (o.machine) {
    const abs = resolve(o.machine);
    return { ref: abs, machine: loadMachineDescription(abs), source: `--machine ${o.machine}`, notes: [] };
  }
  const specMachine = point.scenario.machine;
  if (specMachine !== undefined && !o.calibrate) {
    if (typeof specMachine === 'string') return { ref: specMachine, machine: loadMachineDescription(specMachine), source: `the spec's machine (${specMachine})`, notes: [] };
    return { ref: specMachine, machine: parseMachineDescription(specMachine, `${src.name}: machine`), source: "the spec's inline machine", notes: [] };
  }
  o.log?.('calibrating this host (quick) for the simulator\'s machine description ...');
  const cal = await calibrateHostAll({ quick: true });
  const mapping = machineFromCalibration(cal);
  const path = join(o.outDir, 'machine.yaml');
  writeFileAtomic(join(o.outDir, 'calibration.json'), JSON.stringify(cal, null, 2) + '\n');
  writeFileAtomic(path, machineDescriptionYaml(mapping, cal));
  return { ref: path, machine: mapping.machine, source: `measured now (umbra calibrate --quick), ${path}`, notes: mapping.notes };
}

/** The scenario with only these tasks (an alone run), each on its own initial cores. */
function only(s: ScenarioSpec, ids: string[]): ScenarioSpec {
  return { ...s, tasks: s.tasks.filter((t) => ids.includes(t.id)) };
}

function withOverrides(s: ScenarioSpec, perTask: Record<string, Record<string, number>>): ScenarioSpec {
  return {
    ...s,
    tasks: s.tasks.map((t): TaskSpec => (perTask[t.id] !== undefined ? { ...t, overrides: { ...(t.overrides ?? {}), ...perTask[t.id] } } : t)),
  };
}

export async function runCompare(src: SpecSource, o: CompareOptions): Promise<Comparison> {
  const log = o.log ?? (() => {});
  const outDir = resolve(o.outDir);
  mkdirSync(join(outDir, 'runs'), { recursive: true });
  const exp: PreparedExperiment = await prepareExperiment(src, { seeds: o.seeds, durationMs: o.durationMs, traceCacheDir: join(outDir, 'traces') });
  const pi = o.point ?? 0;
  if (!(pi >= 0 && pi < exp.points.length)) throw new UsageError(`--point must be in 0..${exp.points.length - 1}, got ${pi}`);
  const point = exp.points[pi];
  const oracle = point.policies.findIndex((p) => p.name === 'oracle');
  if (oracle >= 0) throw specError(src, ['policies', oracle], 'the oracle needs perfect foresight, which a host does not have; compare runs each policy on both platforms');
  const settings = checkedHardwareSettings(exp);
  const stressors = o.stressors ?? (exp.spec.hardware && 'stressors' in exp.spec.hardware ? settings.stressors : 'builtin');
  const notes: string[] = [];
  const chosen = await chooseMachine(src, point, { ...o, outDir });
  const specResolved = await resolveFor(point.scenario, exp.baseDir, exp.seeds[0]);
  const scaled = scaleScenario({ ...point.scenario, machine: chosen.ref }, specResolved.machine.cores.count, chosen.machine.cores.count);
  notes.push(...scaled.notes);
  const hostCores = point.spec.hardware && Array.isArray((point.spec.hardware as { cores?: unknown }).cores) ? settings.cores! : hostCoreIds();
  if (hostCores.length !== chosen.machine.cores.count) {
    notes.push(`the simulated machine has ${chosen.machine.cores.count} cores and this host ${hostCores.length}: the host runs map cores and rates again (x${+(hostCores.length / chosen.machine.cores.count).toFixed(3)})`);
  }
  let scenario = scaled.scenario;
  const fcIds = scenario.tasks.filter((t) => t.class === 'first').map((t) => t.id);
  const beIds = scenario.tasks.filter((t) => t.class === 'second').map((t) => t.id);
  const durationNs = Math.round(point.spec.durationMs * 1e6);
  const warmupNs = Math.round(point.spec.warmupMs * 1e6);
  const periodNs = Math.round(point.spec.controlPeriodMs * 1e6);
  const runs: CompareRunRecord[] = [];
  let hostCaps: Capabilities | null = null;
  const seed0 = exp.seeds[0];
  /** Measurement path per `${service}@${seed}`. */
  const pathOf: Record<string, PathFit> = {};
  const pathKey = (id: string, seed: number) => `${id}@${seed}`;
  let knobNote: string | null = null;
  // The runner's threads pinned to host cores (clientCores): their CPU goes
  // into the simulated runs on the same cores (runner-load.ts). Core k of
  // the simulated machine is host core hostCores[k] when the counts match.
  let runnerSimCores: number[] | null = null;
  const runnerLoads: { label: string; seed: number; cores: number; wakeupsPerSec: number }[] = [];
  if (settings.clientCores && o.fitRunner !== false) {
    if (hostCores.length === chosen.machine.cores.count && settings.clientCores.every((c) => hostCores.includes(c))) runnerSimCores = settings.clientCores.map((c) => hostCores.indexOf(c));
    else notes.push(`the runner's threads are pinned to host core(s) ${settings.clientCores.join(',')}, which do not map onto the simulated machine's cores one to one: the simulator runs without their CPU`);
  }

  // How the spec's tasks become host workloads (runner/scenario/host-scenario.ts)
  // and how the host runs go: the spec's hardware settings, the stressors as chosen here
  const { cores: _cores, ...hostSettings } = settings;
  const hostMapping = { ...hostSettings, stressors };
  /** A host mapping error as an error on the spec's field. */
  const mappingError = (err: unknown): unknown => (err instanceof HostMappingError ? specError(src, specFieldOf(err), err.message) : err);

  const runOnce = async (side: PlatformSide, sc: ScenarioSpec, seed: number, policy: Policy, label: string): Promise<RunFigures> => {
    const snaps: Snapshot[] = [];
    const resolved = await resolveFor(sc, exp.baseDir, seed);
    let hostNotes: string[] = [];
    let hostLoad: CompareRunRecord['hostLoad'] = null;
    let recordingRef: Recording;
    if (side === 'sim') {
      // with the host's knobs, echoes of a service also run the host's way:
      // extra requests to the service itself (SimPlatformOptions.serviceEcho)
      const hostKnobs = o.simKnobs !== 'all' && hostCaps !== null;
      const background = runnerSimCores ? runnerLoadFor(label, seed, { fcIds, beIds, seed0, simCores: runnerSimCores, hostRuns: runs }) : null;
      if (background) runnerLoads.push({ label, seed, cores: background.cores, wakeupsPerSec: background.wakeupsPerSec });
      const sim = new SimPlatform(resolved, { seed, ...(hostKnobs ? { serviceEcho: 'requests' as const } : {}), ...(background ? { backgroundLoad: background.load } : {}) });
      let platform: SimPlatform | HostKnobsPlatform = sim;
      if (hostKnobs) {
        platform = new HostKnobsPlatform(sim, hostCaps!);
        if (knobNote === null) {
          const missing = knobsMissingOnHost(sim.capabilities(), hostCaps!);
          knobNote =
            (missing.length
              ? `the simulated platform offered only the host's knobs: ${missing.join(', ')} left out (the host has none of them), so the policies decided on both platforms with the same knobs`
              : 'the host offered every knob the simulator has') +
            "; a service's echo ran as on the host, as extra requests to the service at twice its offered rate";
        }
      }
      const r = await runControlLoop(platform, policy, { durationNs, periodNs, onWindow: (s) => snaps.push(s) });
      recordingRef = r.recording;
    } else {
      let run;
      try {
        run = await startHardwareRun({
          scenario: resolved,
          seed,
          durationNs,
          coreIds: hostCores,
          ...hostMapping,
          purpose: `umbra compare ${exp.name}: ${label} seed ${seed}`,
        });
      } catch (err) {
        throw mappingError(err);
      }
      try {
        hostNotes = run.mapping.notes;
        hostCaps ??= run.capabilities();
        const cpu0 = readCpuTimes();
        // every thread's voluntary context switches (getrusage, which keeps
        // the counts of threads that exited: the load generator's are joined
        // when the run closes)
        const wake0 = process.resourceUsage().voluntaryContextSwitches;
        const self0 = process.cpuUsage();
        const wall0 = process.hrtime.bigint();
        const r = await runControlLoop(run, policy, { durationNs, periodNs, onWindow: (s) => snaps.push(s) });
        recordingRef = r.recording;
        const cpu1 = readCpuTimes();
        const wallNs = Number(process.hrtime.bigint() - wall0);
        const self = process.cpuUsage(self0);
        const wakeups = process.resourceUsage().voluntaryContextSwitches - wake0;
        if (cpu0 && cpu1 && snaps.length > 1) {
          const load = cpuLoadBetween(cpu0, cpu1, wallNs);
          const first = snaps[0];
          const last = snaps[snaps.length - 1];
          const tasksNs = last.tasks.reduce((a, t) => a + t.cpuTimeNs - (first.tasks.find((x) => x.id === t.id)?.cpuTimeNs ?? 0), 0);
          // the windows cover a little less than the wall time: scale the tasks' share to it
          const taskCores = tasksNs / Math.max(1, last.timeNs - first.timeNs);
          hostLoad = {
            busyCores: load.busyCores,
            stealCores: load.stealCores,
            runnerCores: ((self.user + self.system) * 1e3) / wallNs,
            runnerWakeupsPerSec: (wakeups * 1e9) / wallNs,
            taskCores,
            otherCores: Math.max(0, load.busyCores - taskCores - ((self.user + self.system) * 1e3) / wallNs),
          };
        }
      } finally {
        const report = await run.close();
        if (!report.complete) throw new Error(`restoring the host after ${label} failed: ${report.failures.map((f) => f.error).join('; ')}; run umbra cleanup`);
      }
    }
    let figures = runFigures(snaps, warmupNs);
    let figuresWithoutPath: RunFigures | undefined;
    if (side === 'sim' && o.fitPath !== false) {
      // a seed's path is fixed when its simulated alone run of a service ends
      // (the host's alone run of the seed ran before it)
      for (const id of fcIds) {
        if (label !== `alone-${id}` || pathOf[pathKey(id, seed)]) continue;
        const h = runs.find((r) => r.side === 'host' && r.label === label && r.seed === seed)?.figures.fc[id];
        const s = figures.fc[id];
        if (!h || !s || h.p99Ns === null || s.p99Ns === null) continue;
        pathOf[pathKey(id, seed)] = { task: id, seed, p99Ns: h.p99Ns - s.p99Ns, meanNs: h.meanNs !== null && s.meanNs !== null ? h.meanNs - s.meanNs : null, hostAloneP99Ns: h.p99Ns, simAloneP99Ns: s.p99Ns };
      }
      const offsets = Object.fromEntries(Object.keys(figures.fc).filter((id) => pathOf[pathKey(id, seed)]).map((id) => [id, pathOf[pathKey(id, seed)]]));
      if (Object.keys(offsets).length) {
        figuresWithoutPath = figures;
        figures = runFigures(snaps, warmupNs, offsets);
      }
    }
    const metrics = runMetrics(recordingRef, { warmupNs, leadCapMs: point.spec.leadCapMs });
    const rec: CompareRunRecord = {
      side,
      label,
      seed,
      figures,
      ...(figuresWithoutPath ? { figuresWithoutPath } : {}),
      sloViolationPct: metrics.sloViolationPct,
      churnPerSec: metrics.churnPerSec,
      appliedByKind: recordingRef.appliedByKind,
      refusedByReason: recordingRef.refusedByReason,
      hostMapping: hostNotes,
      hostLoad,
    };
    runs.push(rec);
    writeFileAtomic(join(outDir, 'runs', `${side}-${label}-s${seed}.json`), JSON.stringify({ ...rec, recording: recordingRef }) + '\n');
    log(`  ${side} ${label} seed ${seed}: ${summary(figures)}`);
    return figures;
  };

  // First-class services' LLC accesses per request, measured on the host
  // (fit-service-footprint.ts); the simulated kernel's apki then follows the
  // instructions per request each run uses (serviceFields).
  const footprints: ServiceFootprintFit[] = [];
  const accessesPerRequest: Record<string, number> = {};
  const presetInstrOf = (id: string) => {
    const task = scenario.tasks.find((t) => t.id === id)!;
    return task.overrides?.instrPerRequest ?? KERNELS[task.kernel]?.instrPerRequest ?? 0;
  };
  if (o.fitFootprint !== false) {
    for (const id of fcIds) {
      const task = scenario.tasks.find((t) => t.id === id)!;
      const fit: ServiceFootprintFit = { task: id, kernel: task.kernel, presetApki: task.overrides?.apki ?? KERNELS[task.kernel]?.apki ?? 0, measured: null, apki: null, instrPerRequest: null, note: null };
      footprints.push(fit);
      if (task.overrides?.apki !== undefined) {
        fit.note = "the spec sets the kernel's apki (overrides.apki)";
        continue;
      }
      let hostTask: HostTaskSpec;
      try {
        hostTask = hostTasksForScenario(await resolveFor(only(scenario, [id]), exp.baseDir, seed0), { ...hostMapping, hostCoreIds: hostCores, durationNs }).tasks[0];
      } catch (err) {
        throw mappingError(err);
      }
      log(`measuring the LLC accesses per request of ${id} with cachegrind (two runs of its service under valgrind) ...`);
      const r = await measureServiceFootprint(hostTask, { seed: seed0, purpose: `umbra compare ${exp.name}: footprint of ${id}`, ...(settings.lockTimeoutMs !== undefined ? { lockTimeoutMs: settings.lockTimeoutMs } : {}) });
      if ('reason' in r) {
        fit.note = r.reason;
        continue;
      }
      fit.measured = r.footprint;
      accessesPerRequest[id] = r.footprint.llcAccessesPerRequest;
    }
  }
  /** A service's kernel fields for `instr` instructions per request: its measured accesses per request kept. */
  const serviceFields = (id: string, instr: number): Record<string, number> =>
    accessesPerRequest[id] !== undefined ? { instrPerRequest: instr, apki: apkiForFootprint(accessesPerRequest[id], instr) } : { instrPerRequest: instr };

  // Service demand fitted on the first seed's alone runs.
  const fits: ServiceFit[] = [];
  const hostAlone0: Record<string, RunFigures> = {};
  const instrOf: Record<string, number> = Object.fromEntries(fcIds.map((id) => [id, presetInstrOf(id)]));
  if (o.fitService !== false && fcIds.length) {
    for (const id of fcIds) {
      log(`fitting the service demand of ${id} on its alone runs (seed ${seed0}) ...`);
      const host = await runOnce('host', only(scenario, [id]), seed0, noopPolicy, `alone-${id}`);
      hostAlone0[id] = host;
      const preset = presetInstrOf(id);
      const simAlone = (instr: number) => withOverrides(only(scenario, [id]), { [id]: serviceFields(id, instr) });
      const simPreset = await runOnce('sim', simAlone(preset), seed0, noopPolicy, `alone-${id}-preset`);
      const perReq = (f: RunFigures) => (f.fc[id] && f.fc[id].completedRps > 0 ? f.fc[id].cpuCores / f.fc[id].completedRps : null);
      const h = perReq(host);
      const s = perReq(simPreset);
      if (h !== null && s !== null && s > 0 && preset > 0) {
        const fit = await fitServiceDemand(preset, h, s, async (instr, step) => perReq(await runOnce('sim', simAlone(instr), seed0, noopPolicy, `alone-${id}-fit${step}`)));
        const { instrPerRequest: instr, simCpuPerRequest: simCpu, steps } = fit;
        instrOf[id] = instr;
        fits.push({ task: id, presetInstrPerRequest: preset, fittedInstrPerRequest: instr, hostCpuUsPerRequest: h * 1e6, simPresetCpuUsPerRequest: s * 1e6, simFittedCpuUsPerRequest: simCpu === null ? null : simCpu * 1e6, steps });
      } else {
        fits.push({ task: id, presetInstrPerRequest: preset, fittedInstrPerRequest: null, hostCpuUsPerRequest: h === null ? null : h * 1e6, simPresetCpuUsPerRequest: s === null ? null : s * 1e6, simFittedCpuUsPerRequest: null, steps: 0 });
        notes.push(`service demand of ${id} not fitted: no completed requests or CPU time in an alone run`);
      }
    }
  }
  // the instructions kept (fitted or preset) with the apki of the measured footprint
  const servicesMeasured = fcIds.filter((id) => fits.some((f) => f.task === id && f.fittedInstrPerRequest !== null) || accessesPerRequest[id] !== undefined);
  scenario = withOverrides(scenario, Object.fromEntries(servicesMeasured.map((id) => [id, serviceFields(id, instrOf[id])])));
  for (const f of footprints) {
    if (accessesPerRequest[f.task] === undefined) continue;
    f.instrPerRequest = instrOf[f.task];
    f.apki = apkiForFootprint(accessesPerRequest[f.task], instrOf[f.task]);
  }

  // Second-class memory intensity fitted on the first seed's alone runs.
  const memoryFits: MemoryFit[] = [];
  const hostAloneBe0: Record<string, RunFigures> = {};
  if (o.fitMemory !== false && beIds.length) {
    const perTask: Record<string, Record<string, number>> = {};
    for (const id of beIds) {
      const task = scenario.tasks.find((t) => t.id === id)!;
      const preset = KERNELS[task.kernel];
      const presetApki = task.overrides?.apki ?? preset?.apki ?? 0;
      const presetMlp = task.overrides?.mlp ?? preset?.mlp ?? 1;
      log(`fitting the memory intensity of ${id} (${task.kernel}) on its alone runs (seed ${seed0}) ...`);
      const host = await runOnce('host', only(scenario, [id]), seed0, noopPolicy, `alone-${id}`);
      hostAloneBe0[id] = host;
      const hostBw = hostMemBandwidth(task.kernel, host.be[id]);
      const simBw = (f: RunFigures) => f.be[id]?.memBandwidthBytesPerSec ?? 0;
      const fit: MemoryFit = { task: id, kernel: task.kernel, hostBytesPerSec: hostBw?.bytesPerSec ?? null, hostSource: hostBw?.source ?? null, presetApki, presetMlp, simPresetBytesPerSec: null, intensity: null, apki: null, mlp: null, simFittedBytesPerSec: null, steps: 0, note: null };
      memoryFits.push(fit);
      if (!hostBw) {
        fit.note = `the host reports no memory bandwidth for a ${task.kernel} stressor (no resctrl MBM; only the built-in stream counts bytes): preset kept`;
        continue;
      }
      if (!(presetApki > 0)) {
        fit.note = 'the kernel makes no LLC accesses (apki 0): nothing to scale';
        continue;
      }
      const preset1 = simBw(await runOnce('sim', only(scenario, [id]), seed0, noopPolicy, `alone-${id}-preset`));
      fit.simPresetBytesPerSec = preset1;
      if (!(preset1 > 0)) {
        fit.note = 'the simulated kernel moved no memory alone (it fits the LLC): preset kept';
        continue;
      }
      let step = 0;
      const r = await fitIntensity(hostBw.bytesPerSec, preset1, async (k) => {
        const f = await runOnce('sim', withOverrides(only(scenario, [id]), { [id]: intensityFields(presetApki, presetMlp, k) }), seed0, noopPolicy, `alone-${id}-fit${++step}`);
        return simBw(f);
      });
      const fields = intensityFields(presetApki, presetMlp, r.k);
      Object.assign(fit, { intensity: r.k, apki: fields.apki, mlp: fields.mlp, simFittedBytesPerSec: r.bytesPerSec, steps: r.steps });
      if (!r.reached) fit.note = `the simulated machine could not carry the host's bandwidth alone: the nearest was ${(r.bytesPerSec / 1e9).toFixed(2)} GB/s`;
      perTask[id] = fields;
    }
    scenario = withOverrides(scenario, perTask);
  }

  const policies: PolicyRef[] = point.policies;
  for (const seed of exp.seeds) {
    for (const side of ['host', 'sim'] as const) {
      for (const id of fcIds) {
        if (side === 'host' && seed === seed0 && hostAlone0[id]) continue;
        await runOnce(side, only(scenario, [id]), seed, noopPolicy, `alone-${id}`);
      }
      for (const id of beIds) {
        if (side === 'host' && seed === seed0 && hostAloneBe0[id]) continue;
        await runOnce(side, only(scenario, [id]), seed, noopPolicy, `alone-${id}`);
      }
      for (const ref of policies) {
        log(`${side}: ${ref.label}, seed ${seed} ...`);
        await runOnce(side, scenario, seed, await createPolicy(ref), ref.label);
      }
    }
  }

  if (runnerSimCores) {
    const ids = [...fcIds, ...beIds];
    const co = runnerLoads.filter((r) => aloneTaskOf(r.label, ids) === null);
    const alone = runnerLoads.filter((r) => aloneTaskOf(r.label, ids) !== null);
    const fmt = (xs: number[], digits: number) => (xs.length ? `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}` : 'none');
    const costNs = chosen.machine.cores.wakeupCostNs ?? 0;
    notes.push(
      `the runner's threads ran on host core(s) ${settings.clientCores!.join(',')} (hardware.clientCores); the simulator ran the same CPU on simulated core(s) ${runnerSimCores.join(',')}, from the host's alone runs (--no-fit-runner leaves it out): ${fmt(co.map((r) => r.cores), 2)} cores in the co-located runs, ${fmt(alone.map((r) => r.cores), 2)} in the alone ones` +
        (costNs > 0
          ? `; and their wake-ups there (${fmt(co.map((r) => r.wakeupsPerSec), 0)} a second co-located, ${fmt(alone.map((r) => r.wakeupsPerSec), 0)} alone), each costing the core's other work the machine's ${+costNs.toFixed(0)} ns (cores.wakeupCostNs)`
          : '; their wake-ups cost nothing more there (the machine description has no cores.wakeupCostNs)'),
    );
  }
  if (o.simKnobs === 'all') notes.push('the simulated platform offered all its knobs (--sim-knobs all), whatever the host had');
  else if (knobNote) notes.push(knobNote);
  const paths = fcIds.flatMap((id) => exp.seeds.filter((seed) => pathOf[pathKey(id, seed)]).map((seed) => pathOf[pathKey(id, seed)]));
  if (o.fitPath !== false) {
    for (const id of fcIds) {
      const missing = exp.seeds.filter((seed) => !pathOf[pathKey(id, seed)]);
      if (missing.length) notes.push(`measurement path of ${id} not fitted for seed(s) ${missing.join(', ')}: an alone run has no latency; those simulated runs are without it`);
    }
  }

  const cmp = buildComparison({
    name: exp.name,
    specPath: src.path,
    version: o.version,
    machine: chosen.machine,
    machineSource: chosen.source,
    machineNotes: chosen.notes,
    seeds: exp.seeds,
    policies: policies.map((p) => p.label),
    fcIds,
    beIds,
    durationMs: point.spec.durationMs,
    warmupMs: point.spec.warmupMs,
    controlPeriodMs: point.spec.controlPeriodMs,
    stressors,
    fits,
    footprints,
    memoryFits,
    paths,
    notes,
    runs,
  });
  return cmp;
}

function summary(f: RunFigures): string {
  const parts: string[] = [];
  for (const [id, s] of Object.entries(f.fc)) parts.push(`${id} p99 ${s.p99Ns === null ? '-' : (s.p99Ns / 1e3).toFixed(0)} us, ${s.completedRps.toFixed(0)} req/s, ${s.cpuCores.toFixed(3)} cores`);
  for (const [id, s] of Object.entries(f.be)) parts.push(`${id} ${s.progressPerSec.toPrecision(3)}/s, ${s.cpuCores.toFixed(2)} cores`);
  return parts.join('; ');
}
