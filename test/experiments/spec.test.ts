// Experiment specs: validation with one clear error naming file:line:column
// and field, overrides, sweep points, ablations, trace formats in workloads,
// and the hardware platform's placeholder.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSpecFile, specFromObject } from '../../experiments/spec/spec-source.js';
import { prepareExperiment } from '../../experiments/spec/prepare.js';
import { setPath, sweepPoints } from '../../experiments/spec/sweep.js';
import { allJobs } from '../../experiments/sweep/jobs.js';
import { runSweep } from '../../experiments/sweep/run-sweep.js';
import { InputError } from '../../util/errors.js';
import { alibabaMachineRows } from '../traces/helpers.js';
import { fixtureCopy, specVariant } from './helpers.js';
import { shipped } from '../../util/paths.js';

let dir: string;
let specs: string;
beforeAll(() => {
  ({ dir, specs } = fixtureCopy('spec'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function prepareErr(path: string): Promise<InputError> {
  try {
    await prepareExperiment(readSpecFile(path));
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

/** 1-based line of the first line containing `needle`. */
function lineOf(path: string, needle: string): number {
  return readFileSync(path, 'utf8').split('\n').findIndex((l) => l.includes(needle)) + 1;
}

describe('a valid spec', () => {
  it('every shipped experiment spec (experiments/specs, experiments/compare) is valid', async () => {
    const files = ['experiments/specs', 'experiments/compare'].flatMap((d) =>
      readdirSync(shipped(d))
        .filter((f) => f.endsWith('.yaml') && !f.startsWith('machine-'))
        .map((f) => shipped(join(d, f))),
    );
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      const exp = await prepareExperiment(readSpecFile(f));
      expect(exp.points.length).toBeGreaterThan(0);
    }
  });

  it('prepares into points, policies, seeds and jobs', async () => {
    const exp = await prepareExperiment(readSpecFile(join(specs, 'small.yaml')));
    expect(exp.name).toBe('small');
    expect(exp.seeds).toEqual([1, 2]);
    expect(exp.points).toHaveLength(1);
    expect(exp.points[0].policies.map((p) => p.label)).toEqual(['idle', 'grow']);
    expect(exp.points[0].peakRps).toEqual({ kv: 60000 });
    const jobs = allJobs(exp);
    // 2 policies x 2 seeds cells + 2 second-class jobs x 2 seeds alone baselines (kv's peak is given)
    expect(jobs.filter((j) => j.kind === 'cell')).toHaveLength(4);
    expect(jobs.filter((j) => j.kind === 'alone')).toHaveLength(4);
  });

  it('overrides: seeds 1..n; a shorter run keeps the warm-up share', async () => {
    const exp = await prepareExperiment(readSpecFile(join(specs, 'small.yaml')), { seeds: 4, durationMs: 150 });
    expect(exp.seeds).toEqual([1, 2, 3, 4]);
    expect(exp.spec.durationMs).toBe(150);
    expect(exp.spec.warmupMs).toBe(25);
    const other = await prepareExperiment(readSpecFile(join(specs, 'small.yaml')));
    expect(exp.specHash).not.toBe(other.specHash);
  });

  it('ablations: true adds the five one-mechanism-off variants after the listed policies', async () => {
    const p = specVariant(specs, 'small.yaml', 'abl.yaml', (t) => t.replace(/^policies:[\s\S]*$/m, 'policies:\n  - shadow\n  - static\nablations: true\n'));
    const exp = await prepareExperiment(readSpecFile(p));
    expect(exp.points[0].policies.map((q) => q.label)).toEqual(['shadow', 'static', 'shadow-no-warmup', 'shadow-no-echo', 'shadow-no-weighting', 'shadow-no-quarantine', 'shadow-formula-interference']);
    const some = specVariant(specs, 'small.yaml', 'abl2.yaml', (t) => t.replace(/^policies:[\s\S]*$/m, 'policies:\n  - shadow\nablations: [echo, interference]\n'));
    expect((await prepareExperiment(readSpecFile(some))).points[0].policies.map((q) => q.label)).toEqual(['shadow', 'shadow-no-echo', 'shadow-formula-interference']);
  });

  it('the shipped demo spec is valid and names every policy of the comparison', async () => {
    const exp = await prepareExperiment(readSpecFile(join(process.cwd(), 'experiments', 'specs', 'demo.yaml')));
    expect(exp.points[0].policies.map((p) => p.label).sort()).toEqual(
      ['oracle', 'percentile', 'reactive', 'shadow', 'shadow-formula-interference', 'shadow-no-echo', 'shadow-no-quarantine', 'shadow-no-warmup', 'shadow-no-weighting', 'static'].sort(),
    );
    expect(exp.points[0].scenario.tasks.filter((t) => t.class === 'first' && t.load && 'trace' in t.load)).toHaveLength(2);
    expect(exp.seeds.length).toBeGreaterThanOrEqual(3);
  });
});

describe('errors name the file, line, column and field', () => {
  const cases: { name: string; edit: (t: string) => string; field: string; line: string; message: RegExp }[] = [
    { name: 'negative duration', edit: (t) => t.replace('durationMs: 300', 'durationMs: -3'), field: 'durationMs', line: 'durationMs', message: /expected number to be >0/ },
    { name: 'misspelt top-level field', edit: (t) => t.replace('warmupMs: 50', 'warmupMs: 50\nwarmpuMs: 5'), field: 'warmpuMs', line: 'warmpuMs', message: /unknown field "warmpuMs"/ },
    { name: 'unknown kernel', edit: (t) => t.replace('kernel: stream', 'kernel: streem'), field: 'workloads[1].kernel', line: 'streem', message: /unknown kernel "streem"; expected one of .*stream/ },
    { name: 'scaleTo with one bound', edit: (t) => t.replace('scaleTo: [10000, 30000]', 'scaleTo: [10000]'), field: 'workloads[0].load.scaleTo', line: 'scaleTo', message: /expected array to have >=2 items/ },
    { name: 'a core the machine lacks', edit: (t) => t.replace('cores: 4-5', 'cores: 4-9'), field: 'workloads[2].cores', line: 'cores: 4-9', message: /core 6 does not exist on a 6-core machine/ },
    { name: 'missing trace file', edit: (t) => t.replace('ec2_cpu_utilization_5f5533', 'no_such_series'), field: 'workloads[0].load.trace', line: 'no_such_series', message: /no_such_series\.csv does not exist/ },
    { name: 'first-class without SLO', edit: (t) => t.replace('    sloP99Ms: 0.5\n', ''), field: 'workloads[0].sloP99Ms', line: '- id: kv', message: /needs an SLO/ },
    { name: 'bad knob', edit: (t) => t.replace('knobs: { step: 1 }', 'knobs: { step: 0 }'), field: 'policies[1].knobs.step', line: 'step: 0', message: /step must be a positive integer/ },
    { name: 'duplicate labels', edit: (t) => t.replace('{ name: grow,', '{ name: idle,').replace(', knobs: { step: 1 }', ''), field: 'policies[1]', line: '{ name: idle, module: toy-policies.mjs }\n', message: /two policies are labelled "idle"/ },
    { name: 'warm-up longer than the run', edit: (t) => t.replace('warmupMs: 50', 'warmupMs: 400'), field: 'warmupMs', line: 'warmupMs', message: /less than durationMs/ },
    { name: 'repeated seeds', edit: (t) => t.replace('seeds: 2', 'seeds: [3, 3]'), field: 'seeds', line: 'seeds', message: /distinct/ },
    { name: 'unknown ablation', edit: (t) => t.replace('policies:', 'ablations: [echo, caching]\npolicies:'), field: 'ablations[1]', line: 'ablations', message: /expected one of/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const p = specVariant(specs, 'small.yaml', `bad-${c.name.replace(/\W+/g, '-')}.yaml`, c.edit);
      const e = await prepareErr(p);
      const lineNeedle = c.line.endsWith('\n') ? c.line.slice(0, -1) : c.line;
      const lines = readFileSync(p, 'utf8').split('\n');
      // the reported line is the one holding the field (for duplicates: the second entry)
      const want = c.line.endsWith('\n') ? lines.findIndex((l, i) => l.includes(lineNeedle) && i > lineOf(p, lineNeedle) - 1) + 1 : lineOf(p, lineNeedle);
      expect(e.message).toMatch(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${want}:\\d+: `));
      expect(e.message).toContain(`field "${c.field}"`);
      expect(e.message).toMatch(c.message);
    });
  }

  it('invalid YAML', async () => {
    const p = join(specs, 'broken.yaml');
    writeFileSync(p, 'name: x\nworkloads: [1, 2\npolicies: []\n');
    const e = await prepareErr(p);
    expect(e.message).toMatch(/broken\.yaml:\d+:\d+: invalid YAML/);
  });

  it('a JSON spec is read the same way, with positions', async () => {
    const exp = await prepareExperiment(readSpecFile(join(specs, 'small.yaml')));
    const p = join(specs, 'small.json');
    const json = JSON.stringify({ ...exp.effectiveSpec, durationMs: 'long' }, null, 2);
    writeFileSync(p, json);
    const e = await prepareErr(p);
    expect(e.message).toMatch(new RegExp(`small\\.json:${json.split('\n').findIndex((l) => l.includes('"long"')) + 1}:\\d+: field "durationMs"`));
    writeFileSync(p, JSON.stringify(exp.effectiveSpec));
    expect((await prepareExperiment(readSpecFile(p))).specHash).toBe(exp.specHash);
  });

  it('a missing spec file', async () => {
    expect(() => readSpecFile(join(specs, 'none.yaml'))).toThrow(/none\.yaml: no such file/);
  });

  it('a spec given as an object names the field', async () => {
    await expect(prepareExperiment(specFromObject({ durationMs: 100, workloads: [], policies: ['idle'] }, specs))).rejects.toThrow(/^spec: field "workloads": /);
  });
});

describe('sweeps', () => {
  it('points are the product of the values, last path fastest, labelled by the last path segment', () => {
    const pts = sweepPoints({ 'workloads.kv.sloP99Ms': [0.5, 1], 'policies.grow.knobs.step': [1, 2, 3] });
    expect(pts.map((p) => p.label)).toEqual(['sloP99Ms=0.5,step=1', 'sloP99Ms=0.5,step=2', 'sloP99Ms=0.5,step=3', 'sloP99Ms=1,step=1', 'sloP99Ms=1,step=2', 'sloP99Ms=1,step=3']);
    expect(sweepPoints(undefined)).toEqual([{ index: 0, label: '', values: {} }]);
  });

  it('paths pick list items by index, id or label, and create missing objects', () => {
    const raw = { workloads: [{ id: 'kv', load: { constant: 1 } }], policies: ['shadow', { name: 'x', label: 'y' }] };
    expect(setPath(raw, 'workloads.kv.load.constant', 5)).toEqual({ ...raw, workloads: [{ id: 'kv', load: { constant: 5 } }] });
    expect((setPath(raw, 'policies.shadow.knobs.leadMs', 20) as typeof raw).policies[0]).toEqual({ name: 'shadow', knobs: { leadMs: 20 } });
    expect((setPath(raw, 'policies[1].knobs.a', 1) as typeof raw).policies[1]).toEqual({ name: 'x', label: 'y', knobs: { a: 1 } });
    expect(raw.policies[0]).toBe('shadow'); // the input is not changed
    expect(() => setPath(raw, 'workloads.nope.x', 1)).toThrow(/sweep path "workloads\.nope\.x".*no list item "nope"/);
  });

  it('a spec with a sweep prepares one point per combination, each validated', async () => {
    const p = specVariant(specs, 'small.yaml', 'sweep.yaml', (t) => `${t}sweep:\n  workloads.kv.sloP99Ms: [0.3, 1]\n  policies.grow.knobs.step: [1, 2]\n`);
    const exp = await prepareExperiment(readSpecFile(p));
    expect(exp.points.map((q) => q.label)).toEqual(['sloP99Ms=0.3,step=1', 'sloP99Ms=0.3,step=2', 'sloP99Ms=1,step=1', 'sloP99Ms=1,step=2']);
    expect(exp.points[2].scenario.tasks[0].sloP99Ms).toBe(1);
    expect(exp.points[1].policies[1].knobs).toEqual({ step: 2 });
    // points that share a scenario share their alone baselines
    const alone = allJobs(exp).filter((j) => j.kind === 'alone');
    expect(alone).toHaveLength(4);
    const bad = specVariant(specs, 'small.yaml', 'sweep-bad.yaml', (t) => `${t}sweep:\n  policies.grow.knobs.step: [1, -1]\n`);
    expect((await prepareErr(bad)).message).toMatch(/field "policies\[1\]\.knobs\.step".*\(sweep point step=-1\)/);
  });
});

describe('trace formats in workloads', () => {
  it('an Alibaba machine-usage table drives a second-class job: extracted once into a t_s,value series keyed by content', async () => {
    const rows = [];
    for (let k = 0; k < 30; k++) for (const m of ['m_1', 'm_2']) rows.push({ m, t: 10 * k, cpu: m === 'm_2' ? 20 + ((k * 37) % 60) : 5 });
    const table = join(specs, 'machine_usage.csv');
    writeFileSync(table, alibabaMachineRows(rows));
    const p = specVariant(specs, 'small.yaml', 'alibaba.yaml', (t) =>
      t.replace('load: { phases: [{ ms: 50, value: 1 }, { ms: 50, value: 0.3 }] }', 'load: { trace: machine_usage.csv, format: alibaba-machine-usage, entity: m_2, column: cpu_util_percent, sampleMs: 10, scaleTo: [0.2, 1] }'),
    );
    const cache = join(dir, 'trace-cache');
    const exp = await prepareExperiment(readSpecFile(p), { traceCacheDir: cache });
    const load = exp.points[0].scenario.tasks[2].load as { trace: string; column?: string };
    expect(load.trace.startsWith(cache)).toBe(true);
    expect(load.column).toBeUndefined();
    const text = readFileSync(load.trace, 'utf8').trim().split('\n');
    expect(text[0]).toBe('t_s,value');
    expect(text.slice(1, 4)).toEqual(['0,20', '10,57', '20,34']);
    // other data, other hash
    writeFileSync(table, alibabaMachineRows(rows.map((r) => ({ ...r, cpu: r.cpu === 5 ? 5 : r.cpu + 1 }))));
    const again = await prepareExperiment(readSpecFile(p), { traceCacheDir: cache });
    expect(again.specHash).not.toBe(exp.specHash);
    expect(again.points[0].scenarioKey).not.toBe(exp.points[0].scenarioKey);
  });

  it('an entity missing from the table is a spec error at the trace field', async () => {
    writeFileSync(join(specs, 'mu2.csv'), alibabaMachineRows([{ m: 'm_1', t: 0, cpu: 1 }, { m: 'm_1', t: 10, cpu: 2 }]));
    const p = specVariant(specs, 'small.yaml', 'alibaba-bad.yaml', (t) => t.replace('load: { phases: [{ ms: 50, value: 1 }, { ms: 50, value: 0.3 }] }', 'load: { trace: mu2.csv, entity: m_9, sampleMs: 10, scaleTo: [0, 1] }'));
    const e = await prepareErr(p);
    expect(e.message).toMatch(/field "workloads\[2\]\.load\.trace".*no rows for entity "m_9"/);
  });
});

describe('platform: hardware', () => {
  it('validates, and a task the host cannot run is an input error at its kernel field', async () => {
    const p = specVariant(specs, 'small.yaml', 'hw.yaml', (t) => t.replace('name: small', 'name: small\nplatform: hardware').replace('kernel: kv', 'kernel: search'));
    const exp = await prepareExperiment(readSpecFile(p));
    expect(exp.spec.platform).toBe('hardware');
    const err = await runSweep(readSpecFile(p), { outDir: join(dir, 'hw-out'), workers: 1, quiet: true, version: 'test' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/kernel.*"search" has no real service on a host/);
  });

  it('the oracle is refused on hardware (it needs the simulator\'s foresight)', async () => {
    const p = specVariant(specs, 'small.yaml', 'hw-oracle.yaml', (t) => t.replace('name: small', 'name: small\nplatform: hardware').replace(/^policies:[\s\S]*$/m, 'policies:\n  - static\n  - oracle\n'));
    expect((await prepareErr(p)).message).toMatch(/field "policies": the oracle needs perfect foresight/);
  });
});
