// The Slurm export on a real Slurm cluster: a single-node cluster brought up
// in a private folder by experiments/slurm/local-cluster.sh (Slurm 22.05 +
// MUNGE from Debian; .ci/run installs them). A small sweep of the demo spec
// (2 policies x 2 seeds, short runs) exported as 4 shards, submitted with the
// exported submit.sh, merged by the dependent job: results byte-identical to
// the same sweep run by `umbra run` in one process. Then a cancelled array
// task: the merge job never runs, `umbra merge` names the shard and exits 1
// without writing results, and resubmitting only that shard completes the
// sweep. The cluster is taken down afterwards whatever happened (and by its
// watchdog if this process dies), and no daemon it started is left running.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { ROOT, ensureBuilt, runCli, tempDir } from './helpers.js';
import { daemonRunning, localClusterUnavailable, startLocalCluster, type LocalSlurmCluster } from '../../experiments/slurm/local-cluster.js';
import { jobStates, scancel, waitForJobs } from '../../experiments/slurm/slurm-jobs.js';

const SHARDS = 4;
const DURATION_MS = '300';
const skipReason = localClusterUnavailable();
if (skipReason) console.warn(`Slurm integration test skipped: ${skipReason}`);

let dir = '';
let spec = '';
let cluster: LocalSlurmCluster | null = null;

/** The demo spec cut down to 2 policies x 2 seeds, its trace paths made absolute so it can live elsewhere. */
function smallDemoSpec(to: string): string {
  const demoPath = join(ROOT, 'experiments', 'specs', 'demo.yaml');
  const demo = parse(readFileSync(demoPath, 'utf8')) as Record<string, unknown> & { workloads: { load?: { trace?: string } }[] };
  for (const w of demo.workloads) if (w.load?.trace) w.load.trace = resolve(join(ROOT, 'experiments', 'specs'), w.load.trace);
  const small = { ...demo, name: 'demo-slurm', seeds: 2, policies: ['shadow', 'static'], ablations: false };
  writeFileSync(to, stringify(small));
  return to;
}

function submit(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ arrayJob: string; mergeJob: string; stdout: string }> {
  return new Promise((res, rej) => {
    execFile(script, args, { env, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return rej(new Error(`${script} ${args.join(' ')} failed: ${stderr || err.message}`));
      const arrayJob = /^array job: (\d+)/m.exec(stdout)?.[1];
      const mergeJob = /^merge job: (\d+)/m.exec(stdout)?.[1];
      if (!arrayJob || !mergeJob) return rej(new Error(`submit.sh printed no job ids: ${stdout}`));
      res({ arrayJob, mergeJob, stdout });
    });
  });
}

const read = (p: string) => readFileSync(p, 'utf8');
function expectSameResults(merged: string, reference: string): void {
  for (const f of ['results.json', 'results.csv']) expect(read(join(merged, f)), f).toBe(read(join(reference, f)));
}

/** The tails of the jobs' logs, shown when an assertion on a job fails. */
function logsOf(exportDir: string): string {
  const logs = join(exportDir, 'logs');
  if (!existsSync(logs)) return '(no logs)';
  return readdirSync(logs)
    .map((f) => `--- ${f}\n${read(join(logs, f)).split('\n').slice(-15).join('\n')}`)
    .join('\n');
}

describe.skipIf(!!skipReason)('umbra export slurm on a real single-node Slurm cluster', () => {
  beforeAll(async () => {
    ensureBuilt();
    dir = tempDir('slurm');
    spec = smallDemoSpec(join(dir, 'demo-small.yaml'));
    cluster = startLocalCluster({ dir: join(dir, 'cluster'), ownerPid: process.pid });
    // the reference: the same sweep in one process
    const ref = await runCli(['run', spec, '--out', join(dir, 'reference'), '--duration', DURATION_MS, '--workers', '1', '--quiet']);
    expect(ref.code, ref.stderr).toBe(0);
  }, 180_000);

  afterAll(() => {
    const daemons = cluster?.daemons ?? [];
    try {
      cluster?.down();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // nothing the helper started is still running
    expect(daemons.map((d) => d.name)).toEqual(expect.arrayContaining(['munged', 'slurmctld', 'slurmd', 'watchdog']));
    expect(daemons.filter(daemonRunning).map((d) => `${d.name} ${d.pid}`)).toEqual([]);
  }, 120_000);

  it('4 shards as a job array, merged by the dependent job: byte-identical to one umbra run', async () => {
    const out = join(dir, 'sweep');
    const ex = await runCli(['export', 'slurm', spec, '--shards', String(SHARDS), '--duration', DURATION_MS, '--out', out]);
    expect(ex.code, ex.stderr).toBe(0);
    expect(read(join(out, 'sweep.sbatch'))).toContain(`#SBATCH --array=0-${SHARDS - 1}`);
    const { arrayJob, mergeJob } = await submit(join(out, 'submit.sh'), [], cluster!.env);
    const states = await waitForJobs(cluster!.env, [arrayJob, mergeJob], 240_000);
    const tasks = states.filter((s) => s.arrayJobId === arrayJob);
    expect(tasks.map((t) => `${t.arrayTaskId} ${t.state}`).sort(), logsOf(out)).toEqual(['0 COMPLETED', '1 COMPLETED', '2 COMPLETED', '3 COMPLETED']);
    expect(states.find((s) => s.jobId === mergeJob)?.state, logsOf(out)).toBe('COMPLETED');
    for (let i = 0; i < SHARDS; i++) expect(existsSync(join(out, 'shards', String(i), 'run.json'))).toBe(true);
    expectSameResults(join(out, 'merged'), join(dir, 'reference'));
    expect(existsSync(join(out, 'merged', 'report.html'))).toBe(true);
  }, 300_000);

  it('a cancelled array task: merge names the shard and exits 1 writing nothing; resubmitting that shard completes the sweep', async () => {
    const out = join(dir, 'cancelled');
    const ex = await runCli(['export', 'slurm', spec, '--shards', String(SHARDS), '--duration', DURATION_MS, '--out', out]);
    expect(ex.code, ex.stderr).toBe(0);
    const first = await submit(join(out, 'submit.sh'), [], cluster!.env);
    const victim = SHARDS - 1;
    await scancel(cluster!.env, `${first.arrayJob}_${victim}`);
    const states = await waitForJobs(cluster!.env, [first.arrayJob, first.mergeJob], 240_000);
    expect(states.find((s) => s.arrayJobId === first.arrayJob && s.arrayTaskId === String(victim))?.state ?? 'CANCELLED').toBe('CANCELLED');
    // the merge job depended on every task succeeding: it never ran
    const merge = states.find((s) => s.jobId === first.mergeJob);
    expect(merge?.state).toBe('CANCELLED');
    expect(existsSync(join(out, 'merged', 'results.json'))).toBe(false);

    const folders = Array.from({ length: SHARDS }, (_, i) => join(out, 'shards', String(i)));
    const m = await runCli(['merge', '--shards', String(SHARDS), ...folders, '--out', join(out, 'merged')]);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(new RegExp(`shard ${victim} (missing|incomplete)`));
    expect(m.stderr).not.toMatch(/shard [0-2] (missing|incomplete)/);
    expect(m.stderr).toContain(`--array=${victim}`);
    expect(m.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(out, 'merged', 'results.json'))).toBe(false);
    expect(existsSync(join(out, 'merged', 'results.csv'))).toBe(false);

    const again = await submit(join(out, 'submit.sh'), [String(victim)], cluster!.env);
    const after = await waitForJobs(cluster!.env, [again.arrayJob, again.mergeJob], 240_000);
    expect(after.filter((s) => s.arrayJobId === again.arrayJob).map((t) => `${t.arrayTaskId} ${t.state}`), logsOf(out)).toEqual([`${victim} COMPLETED`]);
    expect(after.find((s) => s.jobId === again.mergeJob)?.state, logsOf(out)).toBe('COMPLETED');
    expectSameResults(join(out, 'merged'), join(dir, 'reference'));
    // the earlier shards were not rerun: their array job is the first one
    expect((await jobStates(cluster!.env, first.arrayJob)).filter((s) => s.state === 'COMPLETED')).toHaveLength(SHARDS - 1);
  }, 300_000);
});
