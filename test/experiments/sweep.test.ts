// Sweeps in this process (the CLI tests cover worker threads): byte-identical
// results for the same spec and seeds, resuming, an interrupted run never
// looking complete, shards + merge equal to the unsharded sweep.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSpecFile } from '../../experiments/spec/spec-source.js';
import { runSweep } from '../../experiments/sweep/run-sweep.js';
import { mergeSweeps } from '../../experiments/sweep/merge.js';
import { METRIC_NAMES } from '../../experiments/metrics/definitions.js';
import { fixtureCopy, read } from './helpers.js';

let dir: string;
let spec: string;
beforeAll(() => {
  const c = fixtureCopy('sweep');
  dir = c.dir;
  spec = join(c.specs, 'small.yaml');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (out: string, extra: Record<string, unknown> = {}) => runSweep(readSpecFile(spec), { outDir: join(dir, out), workers: 1, quiet: true, version: 'test', ...extra });

/** Every deterministic output file of a run folder, by relative path. */
function outputs(out: string): Record<string, string> {
  const files: Record<string, string> = {};
  const base = join(dir, out);
  for (const f of ['results.json', 'results.csv', 'run.json']) files[f] = read(join(base, f));
  // (dot files are temporaries of writes in progress or killed: never read as results)
  for (const sub of ['cells', 'alone']) for (const f of readdirSync(join(base, sub)).filter((x) => !x.startsWith('.')).sort()) files[`${sub}/${f}`] = read(join(base, sub, f));
  return files;
}

describe('a sweep', () => {
  it('writes results.json with mean and interval per policy and metric, and results.csv with every run', async () => {
    const r = await run('a');
    expect(r.missing).toBe(0);
    const res = JSON.parse(read(join(dir, 'a', 'results.json')));
    expect(res.policies.map((p: { name: string }) => p.name)).toEqual(['idle', 'grow']);
    for (const p of res.policies) {
      for (const m of METRIC_NAMES.filter((x) => x !== 'decideUsP99')) expect(Object.keys(p.metrics[m]).sort()).toEqual(['hi', 'lo', 'mean', 'n']);
      expect(p.metrics.sloViolationPct.mean).toBeGreaterThanOrEqual(0);
      expect(p.metrics.sloViolationPct.lo).toBeLessThanOrEqual(p.metrics.sloViolationPct.mean);
    }
    expect(res.seeds).toEqual([1, 2]);
    expect(res.umbra).toBe('test');
    expect(res.spec.name).toBe('small');
    // wall-clock figures live apart from the byte-identical results
    const timing = JSON.parse(read(join(dir, 'a', 'timing.json')));
    expect(timing.policies[0].metrics.decideUsP99.mean).toBeGreaterThan(0);
    const csv = read(join(dir, 'a', 'results.csv')).trim().split('\n');
    expect(csv[0]).toBe('point,pointLabel,policy,seed,sloViolationPct,p99OverSlo,emuPct,beThroughputPct,hoardedPct,leadTimeMs,forecastSmape,churnPerSec');
    expect(csv.slice(1).map((l) => l.split(',').slice(2, 4).join(','))).toEqual(['idle,1', 'idle,2', 'grow,1', 'grow,2']);
    // the toy "grow" policy acts and exposes forecasts; "idle" never acts
    const idle = res.policies[0].metrics;
    const grow = res.policies[1].metrics;
    expect(idle.churnPerSec.mean).toBe(0);
    expect(idle.forecastSmape.mean).toBeNull();
    expect(grow.forecastSmape.n).toBe(2);
  });

  it('is byte-identical when run again', async () => {
    await run('b');
    expect(outputs('b')).toEqual(outputs('a'));
  });

  it('resumes: only missing jobs run again, and the results do not change', async () => {
    await run('c');
    rmSync(join(dir, 'c', 'cells', 'p0-grow-s2.json'));
    rmSync(join(dir, 'c', 'results.json'));
    const r = await run('c');
    expect(r.ran).toBe(1);
    expect(r.alreadyDone).toBe(7);
    expect(outputs('c')).toEqual(outputs('a'));
  });

  it('an interrupted run leaves no results file; a truncated job file counts as not done', async () => {
    // the state a kill leaves: some jobs done, one half-written temp file, one job file cut short
    await run('d', { shard: { index: 0, count: 2 } });
    const out = join(dir, 'd');
    expect(existsSync(join(out, 'results.json'))).toBe(false);
    expect(existsSync(join(out, 'results.csv'))).toBe(false);
    const cell = readdirSync(join(out, 'cells'))[0];
    writeFileSync(join(out, 'cells', cell), read(join(out, 'cells', cell)).slice(0, 50));
    writeFileSync(join(out, 'cells', '.p0-idle-s2.json.tmp-999999-0'), '{"half');
    const r = await run('d');
    expect(r.alreadyDone).toBe(3);
    expect(r.ran).toBe(5);
    expect(outputs('d')).toEqual(outputs('a'));
  });

  it('shards merged are byte-identical to the unsharded sweep', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await run(`s${i}`, { shard: { index: i, count: 3 } });
      expect(r.results).toBeNull();
    }
    const m = mergeSweeps([0, 1, 2].map((i) => join(dir, `s${i}`)), join(dir, 'merged'), 'test');
    expect(m.jobs).toBe(8);
    expect(outputs('merged')).toEqual(outputs('a'));
  });

  it('merging refuses folders of different sweeps and incomplete sets', async () => {
    await run('half', { shard: { index: 0, count: 2 } });
    expect(() => mergeSweeps([join(dir, 'half')], join(dir, 'm2'), 'test')).toThrow(/jobs are in none of the folders.*did every shard finish/);
    const other = spec.replace('small.yaml', 'small-other.yaml');
    writeFileSync(other, read(spec).replace('seeds: 2', 'seeds: 1'));
    await runSweep(readSpecFile(other), { outDir: join(dir, 'other'), workers: 1, quiet: true, version: 'test' });
    expect(() => mergeSweeps([join(dir, 'half'), join(dir, 'other')], join(dir, 'm3'), 'test')).toThrow(/another spec/);
  });

  it('a changed spec drops the old results but reuses every job whose inputs did not change', async () => {
    await run('e');
    const more = spec.replace('small.yaml', 'small-3seeds.yaml');
    writeFileSync(more, read(spec).replace('seeds: 2', 'seeds: 3'));
    const r = await runSweep(readSpecFile(more), { outDir: join(dir, 'e'), workers: 1, quiet: true, version: 'test' });
    expect(r.alreadyDone).toBe(8);
    expect(r.ran).toBe(4);
    const res = JSON.parse(read(join(dir, 'e', 'results.json')));
    expect(res.seeds).toEqual([1, 2, 3]);
    // the first two seeds' runs are the same runs as before
    const before = read(join(dir, 'a', 'results.csv')).trim().split('\n').slice(1);
    const after = read(join(dir, 'e', 'results.csv')).trim().split('\n').slice(1);
    for (const line of before) expect(after).toContain(line);
    expect(readFileSync(join(dir, 'e', 'cells', 'p0-idle-s1.json'), 'utf8')).toBe(read(join(dir, 'a', 'cells', 'p0-idle-s1.json')));
  });
});
