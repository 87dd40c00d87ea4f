// Which shards of a sweep are missing or incomplete. A Slurm array task or a
// Kubernetes completion index that failed, was cancelled or never started
// leaves its jobs undone; `umbra merge --shards N` names those shards (shard i
// of N owns jobs i, i+N, i+2N, ... of the canonical job list, as in
// `umbra run --shard i/N`) instead of writing results, so that only they are
// rerun.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../../util/errors.js';
import type { PreparedExperiment } from '../spec/prepare.js';
import { allJobs, type Job } from '../sweep/jobs.js';
import { jobDone } from '../sweep/aggregate.js';
import { EXPERIMENT_FILE } from '../sweep/run-sweep.js';

export interface ShardState {
  index: number;
  jobs: number;
  done: number;
}

export interface SweepCompleteness {
  name: string;
  jobs: number;
  done: number;
  /** Job files (relative to a run folder) that no folder holds. */
  missingJobs: string[];
  /** Named folders that hold no run (absent, or no run.json): a shard that never started. */
  emptyFolders: string[];
  /** Per shard, when the shard count is known. */
  shards: ShardState[] | null;
  /** Shards with a job missing (all of them missing: `done` is 0). */
  unfinishedShards: ShardState[];
}

/** An incomplete sweep: exit 1 (the run failed; the input is fine). */
export class IncompleteSweepError extends Error {
  override readonly name = 'IncompleteSweepError';
  constructor(
    message: string,
    readonly completeness: SweepCompleteness,
  ) {
    super(message);
  }
}

function holdsRun(dir: string): boolean {
  return existsSync(join(dir, 'run.json')) && existsSync(join(dir, EXPERIMENT_FILE));
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new InputError(`unreadable: ${(err as Error).message}`, path);
  }
}

/**
 * What the folders hold of the sweep. `dirs` are shard folders (some may not
 * exist: a task that never started); `outDir`, when it exists, counts too
 * (merge keeps the jobs already merged there).
 */
export function sweepCompleteness(dirs: string[], shardCount: number | undefined, outDir?: string): SweepCompleteness {
  if (dirs.length === 0) throw new InputError('name at least one run folder to merge');
  const abs = dirs.map((d) => resolve(d));
  for (const d of abs) {
    if (existsSync(d) && !statSync(d).isDirectory()) throw new InputError('not a folder', d);
  }
  const runs = abs.filter(holdsRun);
  const emptyFolders = abs.filter((d) => !holdsRun(d));
  if (runs.length === 0) {
    const what = shardCount !== undefined ? `none of the ${shardCount} shards has started` : 'no run here';
    throw new IncompleteSweepError(`${what}: no folder holds a run of \`umbra run\` (run.json, ${EXPERIMENT_FILE}) in ${abs.join(', ')}`, {
      name: '',
      jobs: 0,
      done: 0,
      missingJobs: [],
      emptyFolders,
      shards: null,
      unfinishedShards: [],
    });
  }
  const manifests = runs.map((d) => readJson<{ specHash: string; name: string }>(join(d, 'run.json')));
  manifests.forEach((m, i) => {
    if (m.specHash !== manifests[0].specHash) {
      throw new InputError(`holds a run of another spec (hash ${String(m.specHash).slice(0, 12)}, not ${String(manifests[0].specHash).slice(0, 12)} as in ${runs[0]}); merge only shards of one sweep`, runs[i]);
    }
  });
  const exp = readJson<PreparedExperiment>(join(runs[0], EXPERIMENT_FILE));
  const jobs = allJobs(exp);
  const where = [...runs];
  const out = outDir !== undefined ? resolve(outDir) : undefined;
  if (out !== undefined && !where.includes(out) && holdsRun(out)) {
    const m = readJson<{ specHash: string }>(join(out, 'run.json'));
    if (m.specHash === manifests[0].specHash) where.push(out);
  }
  const done = jobs.map((j: Job) => where.some((d) => jobDone(d, j)));
  const missingJobs = jobs.filter((_, k) => !done[k]).map((j) => j.file);
  let shards: ShardState[] | null = null;
  if (shardCount !== undefined) {
    shards = Array.from({ length: shardCount }, (_, index) => ({ index, jobs: 0, done: 0 }));
    done.forEach((d, k) => {
      const s = shards![k % shardCount];
      s.jobs++;
      if (d) s.done++;
    });
  }
  return {
    name: exp.name,
    jobs: jobs.length,
    done: done.filter(Boolean).length,
    missingJobs,
    emptyFolders,
    shards,
    unfinishedShards: shards ? shards.filter((s) => s.done < s.jobs) : [],
  };
}

/** Compress shard indices for `sbatch --array=`: 0,1,2,5,7,8 -> "0-2,5,7-8". */
export function arraySpec(indices: number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * Throw an IncompleteSweepError naming what is missing, or return when every
 * job is done. One line: which shards, how much of each is done, how to rerun.
 */
export function assertSweepComplete(c: SweepCompleteness, shardCount: number | undefined): void {
  if (c.missingJobs.length === 0) return;
  const head = `sweep ${c.name ? `"${c.name}" ` : ''}incomplete: ${c.missingJobs.length} of ${c.jobs} jobs missing`;
  if (shardCount !== undefined && c.unfinishedShards.length > 0) {
    const list = c.unfinishedShards.map((s) => `shard ${s.index} ${s.done === 0 ? 'missing' : 'incomplete'} (${s.done} of ${s.jobs} jobs done)`).join(', ');
    const ids = arraySpec(c.unfinishedShards.map((s) => s.index));
    throw new IncompleteSweepError(
      `${head}; ${c.unfinishedShards.length} of ${shardCount} shards missing or incomplete: ${list}. Rerun only those (Slurm: sbatch --array=${ids} sweep.sbatch, or submit.sh ${ids}) and merge again; nothing was merged`,
      c,
    );
  }
  const empty = c.emptyFolders.length > 0 ? `; no run in ${c.emptyFolders.join(', ')}` : '';
  throw new IncompleteSweepError(
    `${head} from every folder (e.g. ${c.missingJobs.slice(0, 3).join(', ')})${empty}; did every shard finish? Pass --shards N to name the shards to rerun; nothing was merged`,
    c,
  );
}

/** What `umbra export slurm --out DIR` records in DIR/sweep.json for the merge. */
export interface ExportRecord {
  kind: 'slurm';
  name: string;
  shards: number;
  jobs: number;
  spec: string;
}
export const EXPORT_RECORD = 'sweep.json';

/**
 * The shard count of folders laid out by `umbra export slurm --out DIR`
 * (DIR/shards/i, with DIR/sweep.json), so that `umbra merge DIR/shards/*`
 * names missing shards without --shards. Null for other folders.
 */
export function exportedShardCount(dirs: string[]): number | null {
  let count: number | null = null;
  for (const d of dirs.map((x) => resolve(x))) {
    if (!/^\d+$/.test(basename(d)) || basename(dirname(d)) !== 'shards') return null;
    const record = join(dirname(dirname(d)), EXPORT_RECORD);
    if (!existsSync(record)) return null;
    let n: unknown;
    try {
      n = (JSON.parse(readFileSync(record, 'utf8')) as Partial<ExportRecord>).shards;
    } catch {
      return null;
    }
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || Number(basename(d)) >= n) return null;
    if (count !== null && count !== n) return null;
    count = n;
  }
  return count;
}
