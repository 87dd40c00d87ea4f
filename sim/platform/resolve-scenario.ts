// Turns a validated scenario into what the simulator runs: the machine, each
// task's kernel (preset + overrides), its demand profile (traces loaded and
// time-scaled) and its initial allocation.
import { isAbsolute, resolve } from 'node:path';
import { InputError } from '../../util/errors.js';
import { rngFor } from '../../util/rng.js';
import { loadSeriesCsv } from '../../traces/series-csv.js';
import { defaultMachine, loadMachineDescription, parseMachineDescription, type MachineDescription } from '../machine/machine-description.js';
import type { Kernel } from '../workloads/kernel.js';
import { KERNELS, kernelNames } from '../workloads/kernels/index.js';
import { ConstantProfile, phaseProfile, traceProfile, type DemandProfile } from '../workloads/demand-profile.js';
import { parseIdList, scenarioSchema, type DemandSpec, type ScenarioSpec, type TaskSpec } from './scenario.js';
import { describeZodError } from '../../util/zod-errors.js';
import { bankColourCount } from '../dram/page-colouring.js';

export interface ResolvedTask {
  id: string;
  cls: 'first' | 'second';
  kernel: Kernel;
  load: DemandProfile;
  sloP99Ns: number;
  threads: number;
  cores: number[];
  wayMask: number;
  colours: number[];
  mbaPct: number;
  ioWeight: number;
}

export interface ResolvedScenario {
  machine: MachineDescription;
  llcMode: 'fast' | 'exact';
  quantumNs: number;
  tasks: ResolvedTask[];
}

export function parseScenario(raw: unknown, where = 'scenario'): ScenarioSpec {
  const res = scenarioSchema.safeParse(raw);
  if (!res.success) throw new InputError(describeZodError(res.error), where);
  return res.data;
}

/** Resolve file references relative to baseDir; `seed` picks trace offsets marked "seed". */
export async function resolveScenario(spec: ScenarioSpec, opts: { baseDir: string; seed: number | string; where?: string }): Promise<ResolvedScenario> {
  const where = opts.where ?? 'scenario';
  const machine =
    spec.machine === undefined
      ? defaultMachine()
      : typeof spec.machine === 'string'
        ? loadMachineDescription(isAbsolute(spec.machine) ? spec.machine : resolve(opts.baseDir, spec.machine))
        : parseMachineDescription(spec.machine, `${where}: machine`);
  const colours = bankColourCount(machine.dram);
  const tasks: ResolvedTask[] = [];
  for (const [i, t] of spec.tasks.entries()) {
    const field = `${where}: field "tasks[${i}]`;
    const preset = KERNELS[t.kernel];
    if (!preset) throw new InputError(`unknown kernel "${t.kernel}"; expected one of ${kernelNames().join(', ')}`, `${field}.kernel"`);
    const kernel: Kernel = { ...preset, ...(t.overrides ?? {}) } as Kernel;
    if (t.class === 'first' && !kernel.instrPerRequest) throw new InputError(`kernel "${t.kernel}" has no instrPerRequest; a first-class service needs one (set it in overrides)`, `${field}.kernel"`);
    const load = await resolveDemand(t, opts, field);
    const cores = parseIdList(t.cores);
    for (const c of cores) if (c >= machine.cores.count) throw new InputError(`core ${c} does not exist on a ${machine.cores.count}-core machine`, `${field}.cores"`);
    let wayMask = 0;
    if (t.ways !== undefined) {
      const ways = parseIdList(t.ways);
      for (const w of ways) if (w >= machine.llc.ways) throw new InputError(`way ${w} does not exist in a ${machine.llc.ways}-way LLC`, `${field}.ways"`);
      wayMask = ways.reduce((m, w) => m | (1 << w), 0);
    }
    const bank = t.bankColours !== undefined ? parseIdList(t.bankColours) : [];
    for (const c of bank) if (c >= colours) throw new InputError(`bank colour ${c} does not exist (the DRAM has ${colours})`, `${field}.bankColours"`);
    tasks.push({
      id: t.id,
      cls: t.class,
      kernel,
      load,
      sloP99Ns: Math.round((t.sloP99Ms ?? 0) * 1e6),
      threads: t.threads ?? Math.max(1, cores.length),
      cores,
      wayMask,
      colours: bank,
      mbaPct: t.memBandwidthPct ?? 100,
      ioWeight: t.ioWeight ?? machine.io.weightDefault,
    });
  }
  return { machine, llcMode: spec.llcMode, quantumNs: Math.round(spec.quantumUs * 1000), tasks };
}

async function resolveDemand(t: TaskSpec, opts: { baseDir: string; seed: number | string }, field: string): Promise<DemandProfile> {
  const d: DemandSpec | undefined = t.load;
  if (!d) return new ConstantProfile(1);
  if ('constant' in d) return new ConstantProfile(d.constant);
  if ('phases' in d) return phaseProfile(d.phases.map((p) => ({ durationNs: Math.round(p.ms * 1e6), value: p.value })), d.loop);
  const path = isAbsolute(d.trace) ? d.trace : resolve(opts.baseDir, d.trace);
  const series = await loadSeriesCsv(path, d.column ? { column: d.column } : {});
  const n = series.values.length;
  const length = Math.min(d.length ?? n, n);
  if (length < 2) throw new InputError(`trace ${d.trace} has fewer than 2 samples`, `${field}.load"`);
  let offset: number;
  if (d.offset === 'seed') offset = Math.floor(rngFor(opts.seed, `trace-offset/${t.id}`).next() * (n - length + 1));
  else offset = d.offset;
  if (offset + length > n) throw new InputError(`offset ${offset} + length ${length} runs past the trace's ${n} samples`, `${field}.load.offset"`);
  const [lo, hi] = d.scaleTo;
  if (t.class === 'second' && hi > 1) throw new InputError('a second-class load is the share of threads runnable: scaleTo must lie in [0, 1]', `${field}.load.scaleTo"`);
  return traceProfile(series.values, {
    sampleNs: Math.round(d.sampleMs * 1e6),
    resolutionNs: Math.min(Math.round(d.sampleMs * 1e6), 1_000_000),
    scaleTo: { lo, hi },
    offset,
    length,
    loop: true,
  });
}
