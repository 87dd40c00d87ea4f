// `umbra merge DIR...`: gather the job files of a sharded sweep (one folder
// per shard, e.g. from a Slurm array or a Kubernetes Indexed Job) into one
// folder and write the results. The results depend only on the job files, so
// they are byte-identical to the same sweep run unsharded.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import type { PreparedExperiment } from '../spec/prepare.js';
import { jobDone, writeResults, type ResultsJson } from './aggregate.js';
import { allJobs } from './jobs.js';
import { EXPERIMENT_FILE, runManifest } from './run-sweep.js';

export interface MergeSummary {
  outDir: string;
  jobs: number;
  copied: number;
  results: ResultsJson;
}

function readJsonFile<T>(path: string, what: string): T {
  if (!existsSync(path)) throw new InputError(`no ${what} here: is this the --out folder of \`umbra run\`?`, path);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new InputError(`unreadable ${what}: ${(err as Error).message}`, path);
  }
}

export function mergeSweeps(dirs: string[], outDir: string | undefined, version: string): MergeSummary {
  if (dirs.length === 0) throw new InputError('name at least one run folder to merge');
  const abs = dirs.map((d) => resolve(d));
  const out = resolve(outDir ?? abs[0]);
  const manifests = abs.map((d) => readJsonFile<{ specHash: string; name: string }>(join(d, 'run.json'), 'run.json'));
  const first = manifests[0];
  manifests.forEach((m, i) => {
    if (m.specHash !== first.specHash) throw new InputError(`holds a run of another spec (hash ${m.specHash.slice(0, 12)}, not ${first.specHash.slice(0, 12)} as in ${abs[0]}); merge only shards of one sweep`, abs[i]);
  });
  const exp = readJsonFile<PreparedExperiment>(join(abs[0], EXPERIMENT_FILE), EXPERIMENT_FILE);
  const jobs = allJobs(exp);
  let copied = 0;
  const missing: string[] = [];
  for (const j of jobs) {
    if (jobDone(out, j)) continue;
    const from = abs.find((d) => d !== out && jobDone(d, j));
    if (!from) {
      missing.push(j.file);
      continue;
    }
    const files = j.kind === 'cell' ? [j.timingFile, j.file] : [j.file];
    for (const f of files) {
      if (!existsSync(join(from, f))) continue;
      // written beside and renamed: a target never looks complete half-written
      writeFileAtomic(join(out, f), readFileSync(join(from, f)));
    }
    copied++;
  }
  if (missing.length > 0) {
    throw new InputError(`${missing.length} of ${jobs.length} jobs are in none of the folders (e.g. ${missing.slice(0, 3).join(', ')}); did every shard finish?`, abs.join(' '));
  }
  writeFileAtomic(join(out, 'run.json'), JSON.stringify(runManifest(exp, jobs, version), null, 2) + '\n');
  if (out !== abs[0]) writeFileAtomic(join(out, EXPERIMENT_FILE), JSON.stringify(exp) + '\n');
  const results = writeResults(exp, jobs, out, version);
  return { outDir: out, jobs: jobs.length, copied, results };
}
