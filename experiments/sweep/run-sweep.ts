// `umbra run`: prepare the spec, list the jobs, skip the ones already done
// (resume), run the rest (this shard's share) on workers, and write the
// results once every job of the sweep is there.
//
// Output folder:
//   run.json            what is being run (spec hash, seeds, points, jobs): the same for every shard
//   experiment.json     the prepared experiment (with this machine's paths): what merge and report read
//   traces/             series extracted from other trace formats, as t_s,value
//   alone/*.json        alone baselines; cells/*.json one file per (point, policy, seed)
//   timing/*.json       wall-clock measurements of each cell (not byte-reproducible)
//   results.csv, timing.json, timing.csv, then results.json (written last: present = complete)
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { prepareExperiment, type Overrides, type PreparedExperiment } from '../spec/prepare.js';
import type { SpecSource } from '../spec/spec-source.js';
import { writeResults, jobDone, type ResultsJson } from './aggregate.js';
import { allJobs, shardJobs, type Job, type Shard } from './jobs.js';
import { runJobsPool } from './pool.js';
import { createProgress } from './progress.js';

export const EXPERIMENT_FILE = 'experiment.json';

export interface RunOptions extends Overrides {
  outDir: string;
  workers?: number;
  shard?: Shard;
  quiet?: boolean;
  version: string;
}

export interface RunSummary {
  outDir: string;
  experiment: PreparedExperiment;
  jobs: number;
  /** This run's share (all jobs unless sharded). */
  mine: number;
  alreadyDone: number;
  ran: number;
  /** Present when every job of the sweep is done. */
  results: ResultsJson | null;
  missing: number;
}

export function runManifest(exp: PreparedExperiment, jobs: Job[], version: string): Record<string, unknown> {
  return {
    umbra: version,
    name: exp.name,
    specHash: exp.specHash,
    spec: exp.effectiveSpec,
    seeds: exp.seeds,
    points: exp.points.map((p) => ({ index: p.index, label: p.label, values: p.values, policies: p.policies.map((q) => q.label) })),
    jobs: jobs.map((j) => ({ file: j.file, hash: j.hash })),
  };
}

/**
 * Leftover temporary files of an interrupted run (never complete, never read).
 * Only old ones: another shard writing into the same folder (a shared volume)
 * may be between writing and renaming one right now.
 */
export function removeTempFiles(dir: string, olderThanMs = 10 * 60_000): void {
  if (!existsSync(dir)) return;
  const now = Date.now();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) removeTempFiles(p, olderThanMs);
    else if (/^\..*\.tmp-\d+-\d+$/.test(e.name)) {
      try {
        if (now - statSync(p).mtimeMs > olderThanMs) rmSync(p, { force: true });
      } catch {
        // renamed or removed meanwhile
      }
    }
  }
}

export async function runSweep(src: SpecSource, opts: RunOptions): Promise<RunSummary> {
  const outDir = resolve(opts.outDir);
  mkdirSync(outDir, { recursive: true });
  const exp = await prepareExperiment(src, { ...opts, traceCacheDir: join(outDir, 'traces') });
  const jobs = allJobs(exp);
  const manifest = runManifest(exp, jobs, opts.version);
  const manifestText = JSON.stringify(manifest, null, 2) + '\n';
  // results from another spec (or another version of this one) no longer hold: remove them before running
  if (existsSync(join(outDir, 'results.json'))) {
    const stale = (() => {
      try {
        return (JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8')) as { specHash?: string }).specHash !== exp.specHash;
      } catch {
        return true;
      }
    })();
    if (stale) for (const f of ['results.json', 'results.csv', 'timing.json', 'timing.csv']) rmSync(join(outDir, f), { force: true });
  }
  writeFileAtomic(join(outDir, 'run.json'), manifestText);
  writeFileAtomic(join(outDir, EXPERIMENT_FILE), JSON.stringify(exp) + '\n');
  removeTempFiles(outDir);
  const mineJobs = shardJobs(jobs, opts.shard);
  const index = new Map(jobs.map((j, i) => [j, i]));
  const todo = mineJobs.filter((j) => !jobDone(outDir, j)).map((j) => index.get(j)!);
  const alreadyDone = mineJobs.length - todo.length;
  const progress = createProgress(jobs, { quiet: opts.quiet, prefix: opts.shard ? `umbra shard ${opts.shard.index}/${opts.shard.count}` : 'umbra' });
  progress.start(todo, alreadyDone);
  await runJobsPool(exp, jobs, todo, { outDir, workers: opts.workers ?? 1, progress });
  progress.finish();
  const missing = jobs.filter((j) => !jobDone(outDir, j)).length;
  const results = missing === 0 ? writeResults(exp, jobs, outDir, opts.version) : null;
  return { outDir, experiment: exp, jobs: jobs.length, mine: mineJobs.length, alreadyDone, ran: todo.length, results, missing };
}
