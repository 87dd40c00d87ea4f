// From a spec file to what the sweep runs: overrides applied, fields
// validated (the workloads by the simulator's own scenario schema), sweep
// points expanded, policies listed (with the ablations) and checked against
// their knob schemas, traces in other formats extracted to `t_s,value` series,
// and a hash of everything the results depend on (spec and trace contents).
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { InputError } from '../../util/errors.js';
import { scenarioSchema, type ScenarioSpec } from '../../sim/platform/scenario.js';
import { resolveScenario } from '../../sim/platform/resolve-scenario.js';
import { detectFormat } from '../../traces/detect-format.js';
import { extractSeries } from '../../traces/extract-series.js';
import { SERIES_FORMAT } from '../../traces/formats.js';
import { seriesCsvText } from '../../traces/write-series.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { canonicalJson, sha256 } from '../common/canonical-json.js';
import { checkPolicy, type PolicyRef } from '../policies/policy-source.js';
import { ABLATIONS, TRACE_SELECTION_KEYS, specSchema, traceSelectionSchema, type ExperimentSpec, type PolicyEntry } from './schema.js';
import { specError, type FieldPath, type SpecSource } from './spec-source.js';
import { setPath, sweepPoints } from './sweep.js';
import { bestIssue } from './zod-issue.js';

export interface Overrides {
  /** Run seeds 1..n instead of the spec's. */
  seeds?: number;
  /** Run this long; a warm-up keeps its share of the run when the run gets shorter. */
  durationMs?: number;
}

export interface PrepareOptions extends Overrides {
  /** Where extracted traces are written (default: a folder in the OS temp dir). */
  traceCacheDir?: string;
  /** Resolve each point's scenario once to check kernels, cores, traces (default true). */
  checkScenario?: boolean;
}

export interface PreparedPoint {
  index: number;
  label: string;
  values: Record<string, unknown>;
  spec: ExperimentSpec;
  /** What the simulator runs: trace paths absolute, other formats already extracted. */
  scenario: ScenarioSpec;
  policies: PolicyRef[];
  /** First-class tasks whose peak rate the spec gives (skips the search). */
  peakRps: Record<string, number>;
  /** Hash of the scenario's content (trace contents, not paths). */
  scenarioKey: string;
  /** Per task: hash of what its alone baseline depends on (the task, the machine, the run's timing). */
  aloneKeys: Record<string, string>;
}

export interface PreparedExperiment {
  name: string;
  specPath: string;
  baseDir: string;
  /** The spec as written, with the overrides applied: what results.json records. */
  effectiveSpec: Record<string, unknown>;
  spec: ExperimentSpec;
  seeds: number[];
  points: PreparedPoint[];
  specHash: string;
  /** Content hash of every trace file used, by absolute path. */
  traceHashes: Record<string, string>;
  /** Content hash of machine files and policy modules, by absolute path (job keys use these, not paths). */
  fileHashes: Record<string, string>;
}

export function applyOverrides(raw: Record<string, unknown>, o: Overrides): Record<string, unknown> {
  const out = structuredClone(raw);
  if (o.seeds !== undefined) out.seeds = o.seeds;
  if (o.durationMs !== undefined) {
    const before = typeof raw.durationMs === 'number' ? raw.durationMs : undefined;
    out.durationMs = o.durationMs;
    if (typeof raw.warmupMs === 'number' && before !== undefined && o.durationMs < before) out.warmupMs = Math.round((raw.warmupMs * o.durationMs) / before);
  }
  return out;
}

export async function prepareExperiment(src: SpecSource, opts: PrepareOptions = {}): Promise<PreparedExperiment> {
  const raw = applyOverrides(src.raw as Record<string, unknown>, opts);
  const base = validateSpec(src, raw, '');
  const seeds = Array.isArray(base.seeds) ? base.seeds : Array.from({ length: base.seeds }, (_, i) => i + 1);
  const cacheDir = opts.traceCacheDir ?? join(tmpdir(), 'umbra-trace-cache');
  const traces = new TraceCache(src, cacheDir);
  const fileHashes: Record<string, string> = {};
  const points: PreparedPoint[] = [];
  for (const sp of sweepPoints(base.sweep)) {
    let rawP: unknown = raw;
    for (const [path, value] of Object.entries(sp.values)) rawP = setPath(rawP, path, value);
    const spec = validateSpec(src, rawP as Record<string, unknown>, sp.label);
    const { scenario, peakRps } = await buildScenario(src, spec, traces, sp.label);
    const policies = policyRefs(src, spec);
    for (const p of policies) if (p.module && existsSync(p.module)) fileHashes[p.module] ??= sha256(readFileSync(p.module));
    if (typeof scenario.machine === 'string' && existsSync(scenario.machine)) fileHashes[scenario.machine] ??= sha256(readFileSync(scenario.machine));
    for (const [i, p] of policies.entries()) {
      // listed policies are checked at their entry; ablations (added after them) at the ablations field
      const base: FieldPath = i < spec.policies.length ? ['policies', i] : ['ablations'];
      const entryIsString = i < spec.policies.length && typeof spec.policies[i] === 'string';
      await checkPolicy(p, (field, message) => specError(src, entryIsString || base[0] === 'ablations' ? base : [...base, ...field], pointLabel(sp.label, message)));
    }
    if (opts.checkScenario !== false) await checkScenario(src, scenario, seeds[0], sp.label);
    const keyed = traces.contentKeyed(scenario) as Record<string, unknown>;
    if (typeof scenario.machine === 'string') keyed.machine = fileHashes[scenario.machine] ?? scenario.machine;
    const timing = { durationMs: spec.durationMs, warmupMs: spec.warmupMs, controlPeriodMs: spec.controlPeriodMs };
    const scenarioKey = sha256(canonicalJson({ scenario: keyed, ...timing }));
    const { tasks: keyedTasks, ...machineEtc } = keyed as { tasks: { id: string }[] };
    const aloneKeys = Object.fromEntries(keyedTasks.map((t) => [t.id, sha256(canonicalJson({ task: t, ...machineEtc, ...timing }))]));
    points.push({ index: sp.index, label: sp.label, values: sp.values, spec, scenario, policies, peakRps, scenarioKey, aloneKeys });
  }
  if (base.platform === 'hardware' && points.some((p) => p.policies.some((q) => q.name === 'oracle'))) {
    throw specError(src, ['policies'], 'the oracle needs perfect foresight, which only the simulator has (platform: sim)');
  }
  const specHash = sha256(canonicalJson({ spec: raw, traces: Object.values(traces.hashes).sort(), files: Object.values(fileHashes).sort() }));
  return {
    name: base.name ?? (src.path ? src.path.replace(/^.*\//, '').replace(/\.(ya?ml|json)$/i, '') : 'experiment'),
    specPath: src.path,
    baseDir: src.baseDir,
    effectiveSpec: raw,
    spec: base,
    seeds,
    points,
    specHash,
    traceHashes: traces.hashes,
    fileHashes,
  };
}

function pointLabel(label: string, message: string): string {
  return label ? `${message} (sweep point ${label})` : message;
}

function validateSpec(src: SpecSource, raw: Record<string, unknown>, pointLabel: string): ExperimentSpec {
  const res = specSchema.safeParse(raw);
  if (!res.success) {
    const issue = bestIssue(res.error);
    throw specError(src, issue.path, pointLabel ? `${issue.message} (sweep point ${pointLabel})` : issue.message);
  }
  return res.data;
}

/** The policies of a point: the listed ones, then the requested ablations; labels must be unique. */
export function policyRefs(src: SpecSource, spec: ExperimentSpec): PolicyRef[] {
  const refs: PolicyRef[] = [];
  const add = (e: PolicyEntry, field: FieldPath) => {
    const ref: PolicyRef =
      typeof e === 'string'
        ? { label: e, name: e, knobs: {} }
        : { label: e.label ?? e.name, name: e.name, knobs: e.knobs ?? {}, ...(e.module ? { module: isAbsolute(e.module) ? e.module : resolve(src.baseDir, e.module) } : {}) };
    if (!/^[A-Za-z0-9_.+-]+$/.test(ref.label)) throw specError(src, field, `policy name "${ref.label}" cannot label results (letters, digits, _ . + - only); give a label`);
    if (refs.some((r) => r.label === ref.label)) throw specError(src, field, `two policies are labelled "${ref.label}"; give one a distinct label`);
    refs.push(ref);
  };
  spec.policies.forEach((e, i) => add(e, ['policies', i]));
  const abl = spec.ablations === true ? (Object.keys(ABLATIONS) as (keyof typeof ABLATIONS)[]) : spec.ablations || [];
  const shadowKnobs = refs.find((r) => r.name === 'shadow')?.knobs ?? {};
  for (const a of abl) {
    const name = ABLATIONS[a];
    if (!refs.some((r) => r.label === name)) refs.push({ label: name, name, knobs: structuredClone(shadowKnobs) });
  }
  return refs;
}

async function buildScenario(src: SpecSource, spec: ExperimentSpec, traces: TraceCache, pointLabel: string): Promise<{ scenario: ScenarioSpec; peakRps: Record<string, number> }> {
  const peakRps: Record<string, number> = {};
  const tasks: unknown[] = [];
  for (const [i, w0] of spec.workloads.entries()) {
    const w = structuredClone(w0) as Record<string, unknown>;
    if (w.peakRps !== undefined) {
      if (typeof w.peakRps !== 'number' || !(w.peakRps > 0)) throw specError(src, ['workloads', i, 'peakRps'], 'expected a positive request rate (requests/s)');
      if (w.class !== 'first') throw specError(src, ['workloads', i, 'peakRps'], 'only a first-class service has a peak request rate');
      peakRps[String(w.id)] = w.peakRps;
      delete w.peakRps;
    }
    const load = w.load as Record<string, unknown> | undefined;
    if (load && typeof load === 'object' && typeof load.trace === 'string') {
      const sel: Record<string, unknown> = {};
      for (const k of TRACE_SELECTION_KEYS) if (k in load) sel[k] = load[k];
      const r = traceSelectionSchema.safeParse(sel);
      if (!r.success) {
        const issue = bestIssue(r.error);
        throw specError(src, ['workloads', i, 'load', ...issue.path], issue.message);
      }
      w.load = await traces.prepare(load, ['workloads', i, 'load']);
    }
    tasks.push(w);
  }
  const scenarioRaw: Record<string, unknown> = { tasks };
  if (spec.machine !== undefined) scenarioRaw.machine = typeof spec.machine === 'string' && !isAbsolute(spec.machine) ? resolve(src.baseDir, spec.machine) : spec.machine;
  if (spec.llcMode !== undefined) scenarioRaw.llcMode = spec.llcMode;
  if (spec.quantumUs !== undefined) scenarioRaw.quantumUs = spec.quantumUs;
  const res = scenarioSchema.safeParse(scenarioRaw);
  if (!res.success) {
    const issue = bestIssue(res.error);
    const field = issue.path[0] === 'tasks' ? ['workloads', ...issue.path.slice(1)] : issue.path;
    throw specError(src, field, pointLabel ? `${issue.message} (sweep point ${pointLabel})` : issue.message);
  }
  return { scenario: res.data, peakRps };
}

/** Resolve the scenario once so unknown kernels, missing cores or unreadable traces fail at validation. */
async function checkScenario(src: SpecSource, scenario: ScenarioSpec, seed: number, pointLabel: string): Promise<void> {
  try {
    await resolveScenario(scenario, { baseDir: src.baseDir, seed, where: 'scenario' });
  } catch (err) {
    if (!(err instanceof InputError) || !err.where?.startsWith('scenario')) throw err;
    const msg = err.message.slice(err.where.length + 2);
    const m = /tasks\[(\d+)\]\.?([\w.]*)/.exec(err.where);
    let field: FieldPath = [];
    if (m) field = ['workloads', Number(m[1]), ...m[2].split('.').filter(Boolean)];
    else if (err.where.includes('machine')) field = ['machine'];
    const inner = /^field "([^"]*)": (.*)$/.exec(msg);
    if (inner && field[0] === 'machine') throw specError(src, ['machine', ...inner[1].split('.')], inner[2]);
    throw specError(src, field, pointLabel ? `${msg} (sweep point ${pointLabel})` : msg);
  }
}

/**
 * Trace files: plain `t_s,value` series are used where they are; any other
 * format (or a request to resample) is extracted once into the cache folder.
 * Remembers each file's content hash so results are keyed by data, not paths.
 */
class TraceCache {
  readonly hashes: Record<string, string> = {};
  private readonly done = new Map<string, Record<string, unknown>>();
  constructor(
    private readonly src: SpecSource,
    private readonly dir: string,
  ) {}

  async prepare(load: Record<string, unknown>, field: FieldPath): Promise<Record<string, unknown>> {
    const file = String(load.trace);
    const abs = isAbsolute(file) ? file : resolve(this.src.baseDir, file);
    if (!existsSync(abs) || !statSync(abs).isFile()) throw specError(this.src, [...field, 'trace'], `trace file ${abs} does not exist`);
    const sel = Object.fromEntries(TRACE_SELECTION_KEYS.filter((k) => k in load).map((k) => [k, load[k]])) as Record<string, unknown>;
    const rest = Object.fromEntries(Object.entries(load).filter(([k]) => !(TRACE_SELECTION_KEYS as readonly string[]).includes(k)));
    const st = statSync(abs);
    const key = canonicalJson({ abs, size: st.size, mtime: st.mtimeMs, sel, column: load.column ?? null });
    const finish = (o: Record<string, unknown>) => {
      const merged: Record<string, unknown> = { ...rest, ...o };
      if (merged.column === undefined) delete merged.column;
      return merged;
    };
    const memo = this.done.get(key);
    if (memo) return finish(memo);
    let out: Record<string, unknown>;
    try {
      const needsExtract = Object.keys(sel).length > 0 || (await detectFormat(abs)).format !== SERIES_FORMAT;
      if (!needsExtract) {
        this.hashes[abs] = sha256(readFileSync(abs));
        out = { trace: abs };
      } else {
        const s = await extractSeries(abs, {
          ...(sel.format !== undefined ? { format: String(sel.format) } : {}),
          ...(sel.entity !== undefined ? { entity: String(sel.entity) } : {}),
          ...(sel.by !== undefined ? { by: String(sel.by) } : {}),
          ...(sel.aggregate !== undefined ? { aggregate: sel.aggregate as 'mean' } : {}),
          ...(sel.stepSeconds !== undefined ? { stepSeconds: Number(sel.stepSeconds) } : {}),
          ...(typeof load.column === 'string' ? { column: load.column } : {}),
        });
        if (s.values.length < 2) throw new InputError(`the extracted series has ${s.values.length} sample(s); a workload needs at least 2`, abs);
        const text = seriesCsvText(s.t, s.values);
        const hash = sha256(text);
        const path = join(this.dir, `${hash.slice(0, 24)}.csv`);
        if (!existsSync(path)) {
          mkdirSync(this.dir, { recursive: true });
          writeFileAtomic(path, text);
        }
        this.hashes[path] = hash;
        out = { trace: path, column: undefined };
      }
    } catch (err) {
      // a problem at a line of the data file is reported there; anything else (no such entity, column or format) is the spec's
      if (err instanceof InputError && !/:\d+(:\d+)?$/.test(err.where ?? '')) throw specError(this.src, [...field, 'trace'], err.where === abs ? `${abs}: ${err.message.slice(abs.length + 2)}` : err.message);
      throw err;
    }
    this.done.set(key, out);
    return finish(out);
  }

  /** The scenario with each trace path replaced by its content hash. */
  contentKeyed(scenario: ScenarioSpec): unknown {
    return {
      ...scenario,
      tasks: scenario.tasks.map((t) => (t.load && 'trace' in t.load ? { ...t, load: { ...t.load, trace: this.hashes[t.load.trace] ?? t.load.trace } } : t)),
    };
  }
}
