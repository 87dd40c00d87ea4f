// `umbra export slurm SPEC --out DIR` without a cluster: the scripts it
// writes, run the way Slurm runs them (each array task is sweep.sbatch with
// SLURM_ARRAY_TASK_ID set, the merge step is merge.sbatch), give results
// byte-identical to an unsharded run; a missing or incomplete shard makes the
// merge exit 1 naming it and writing nothing; submit.sh calls sbatch with the
// array and an afterok dependency (checked with a stand-in sbatch that
// records its arguments); bad options exit 2. Also the law behind the
// `--array=` lists merge prints. The real-cluster run is slurm-cluster.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { fixtureCopy, read, runCli, UMBRA_BIN } from './helpers.js';
import { arraySpec } from '../../experiments/export/shard-status.js';

let dir: string;
let spec: string;
let jobs = 0;
const SHARDS = 3;

beforeAll(async () => {
  ({ dir } = fixtureCopy('slurm-export'));
  spec = join(dir, 'test', 'experiments', 'fixtures', 'small.yaml');
  const v = await runCli(['validate', spec, '--json']);
  expect(v.code, v.stderr).toBe(0);
  jobs = (JSON.parse(v.stdout) as { jobs: number }).jobs;
  const ref = await runCli(['run', spec, '--out', join(dir, 'reference'), '--workers', '1', '--quiet']);
  expect(ref.code, ref.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((res) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      res({ code, stdout, stderr });
    });
  });
}

/** Slurm's side of an array task: the batch script with the task's variables. */
const runTask = (out: string, i: number) => sh('bash', [join(out, 'sweep.sbatch')], { SLURM_ARRAY_TASK_ID: String(i), SLURM_CPUS_PER_TASK: '1' });
const runMerge = (out: string) => sh('bash', [join(out, 'merge.sbatch')]);
const sameResults = (a: string, b: string) => {
  for (const f of ['results.json', 'results.csv']) expect(read(join(a, f)), f).toBe(read(join(b, f)));
};
/** Jobs shard i of n owns: i, i+n, i+2n, ... */
const owned = (i: number, n: number) => Math.ceil((jobs - i) / n);

describe('umbra export slurm --out DIR', () => {
  it('writes sweep.sbatch (the array), merge.sbatch and submit.sh, executable and valid bash', async () => {
    const out = join(dir, 'files');
    const r = await runCli(['export', 'slurm', spec, '--shards', String(SHARDS), '--out', out, '--partition', 'short', '--time', '00:30:00', '--cpus-per-task', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { files: string[]; shards: number; jobs: number };
    expect(j.shards).toBe(SHARDS);
    expect(j.jobs).toBe(jobs);
    expect(j.files.map((f) => f.slice(out.length + 1)).sort()).toEqual(['merge.sbatch', 'submit.sh', 'sweep.json', 'sweep.sbatch']);
    expect(JSON.parse(read(join(out, 'sweep.json')))).toMatchObject({ kind: 'slurm', shards: SHARDS, jobs });
    for (const f of j.files.filter((x) => !x.endsWith('.json'))) {
      expect(statSync(f).mode & 0o111, f).not.toBe(0);
      const syntax = await sh('bash', ['-n', f]);
      expect(syntax.code, `${f}: ${syntax.stderr}`).toBe(0);
    }
    const sweep = read(join(out, 'sweep.sbatch'));
    expect(sweep).toContain(`#SBATCH --array=0-${SHARDS - 1}`);
    expect(sweep).toContain('#SBATCH --cpus-per-task=2');
    expect(sweep).toContain('#SBATCH --partition=short');
    expect(sweep).toContain('#SBATCH --time=00:30:00');
    expect(sweep).toMatch(new RegExp(`run "\\$SPEC" --shard "\\$i/${SHARDS}" --out "\\$OUT/shards/\\$i"`));
    expect(sweep).toContain(`SPEC=${spec}`);
    expect(sweep).toContain(`OUT=${out}`);
    // the default umbra is this installation, by absolute paths
    expect(sweep).toContain(`${process.execPath} ${UMBRA_BIN}`);
    // every #SBATCH line comes before the first command (sbatch stops reading them there)
    const lines = sweep.split('\n');
    const firstCommand = lines.findIndex((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(lines.slice(firstCommand).some((l) => l.startsWith('#SBATCH'))).toBe(false);
    const merge = read(join(out, 'merge.sbatch'));
    expect(merge).toContain(`merge --shards ${SHARDS}`);
    expect(merge).toContain('--out "$OUT/merged"');
    expect(merge).toContain('report "$OUT/merged"');
    expect(existsSync(join(out, 'logs'))).toBe(true);
  });

  it('array tasks run apart then the merge step: byte-identical to the unsharded run, report included', async () => {
    const out = join(dir, 'tasks');
    const r = await runCli(['export', 'slurm', spec, '--shards', String(SHARDS), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    for (let i = 0; i < SHARDS; i++) {
      const t = await runTask(out, i);
      expect(t.code, t.stderr).toBe(0);
    }
    const m = await runMerge(out);
    expect(m.code, m.stderr).toBe(0);
    sameResults(join(out, 'merged'), join(dir, 'reference'));
    expect(existsSync(join(out, 'merged', 'report.html'))).toBe(true);
  }, 120_000);

  it('a missing shard, then an incomplete one: merge exits 1 naming it and writes nothing; rerunning it completes the sweep', async () => {
    const out = join(dir, 'failing');
    expect((await runCli(['export', 'slurm', spec, '--shards', String(SHARDS), '--out', out, '--umbra', `node ${UMBRA_BIN}`])).code).toBe(0);
    expect(read(join(out, 'sweep.sbatch'))).toContain(`run_umbra() { node ${UMBRA_BIN} "$@"; }`);
    for (const i of [0, 2]) expect((await runTask(out, i)).code).toBe(0);
    // shard 1 never started: no folder at all
    const m1 = await runMerge(out);
    expect(m1.code).toBe(1);
    expect(m1.stderr).toContain(`shard 1 missing (0 of ${owned(1, SHARDS)} jobs done)`);
    expect(m1.stderr).not.toMatch(/shard [02] (missing|incomplete)/);
    expect(m1.stderr).toContain('--array=1');
    expect(existsSync(join(out, 'merged', 'results.json'))).toBe(false);
    expect(existsSync(join(out, 'merged', 'report.html'))).toBe(false);
    // as a user types it (DIR/shards/*: the shard that never started is not even listed): the count comes from DIR/sweep.json
    const typed = await runCli(['merge', join(out, 'shards', '0'), join(out, 'shards', '2'), '--out', join(out, 'merged')]);
    expect(typed.code).toBe(1);
    expect(typed.stderr).toContain(`shard 1 missing (0 of ${owned(1, SHARDS)} jobs done)`);
    // shard 1 ran but one of its job files is lost (a task killed mid-write leaves only temporary files)
    expect((await runTask(out, 1)).code).toBe(0);
    const cells = join(out, 'shards', '1', 'cells');
    const lost = readdirSync(cells).filter((f) => f.endsWith('.json'))[0];
    rmSync(join(cells, lost));
    const m2 = await runCli(['merge', '--shards', String(SHARDS), ...[0, 1, 2].map((i) => join(out, 'shards', String(i))), '--out', join(out, 'merged'), '--json']);
    expect(m2.code).toBe(1);
    expect(m2.stderr).toContain(`shard 1 incomplete (${owned(1, SHARDS) - 1} of ${owned(1, SHARDS)} jobs done)`);
    const j = JSON.parse(m2.stdout) as { ok: boolean; unfinishedShards: { index: number; done: number; jobs: number }[]; missingJobs: string[] };
    expect(j.ok).toBe(false);
    expect(j.unfinishedShards).toEqual([{ index: 1, jobs: owned(1, SHARDS), done: owned(1, SHARDS) - 1 }]);
    expect(j.missingJobs).toEqual([`cells/${lost}`]);
    expect(existsSync(join(out, 'merged', 'results.json'))).toBe(false);
    // rerun only that task (it resumes: only the lost job runs), merge again
    const again = await runTask(out, 1);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).toMatch(/ran 1 job/);
    const m3 = await runMerge(out);
    expect(m3.code, m3.stderr).toBe(0);
    sameResults(join(out, 'merged'), join(dir, 'reference'));
  }, 120_000);

  it('merge without --shards still refuses an incomplete sweep (exit 1) and says how to name the shards', async () => {
    const out = join(dir, 'noshards');
    const r = await runCli(['run', spec, '--out', join(out, 'a'), '--shard', `0/${SHARDS}`, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const m = await runCli(['merge', join(out, 'a'), '--out', join(out, 'merged')]);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(new RegExp(`${jobs - owned(0, SHARDS)} of ${jobs} jobs missing`));
    expect(m.stderr).toContain('--shards N');
    expect(existsSync(join(out, 'merged', 'results.json'))).toBe(false);
  });

  it('submit.sh submits the array, then the merge with afterok on it, prints both ids; "submit.sh 1,2" reruns only those', async () => {
    const out = join(dir, 'submit');
    expect((await runCli(['export', 'slurm', spec, '--shards', String(SHARDS), '--out', out])).code).toBe(0);
    // a stand-in sbatch: records its arguments, answers --parsable with the next job id
    const bin = join(dir, 'fake-bin');
    mkdirSync(bin, { recursive: true });
    const log = join(dir, 'sbatch.log');
    writeFileSync(join(bin, 'sbatch'), `#!/bin/bash\nn=$(( $(wc -l < "${log}" 2>/dev/null || echo 0) + 41 ))\necho "$*" >> "${log}"\necho "$n;cluster"\n`);
    chmodSync(join(bin, 'sbatch'), 0o755);
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const first = await sh(join(out, 'submit.sh'), [], env);
    expect(first.code, first.stderr).toBe(0);
    // the ids alone on stdout, for scripts
    expect(first.stdout).toBe('array job: 41\nmerge job: 42\n');
    const again = await sh(join(out, 'submit.sh'), ['1,2'], env);
    expect(again.code, again.stderr).toBe(0);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls).toHaveLength(4);
    expect(calls[0]).toBe(`--parsable ${out}/sweep.sbatch`);
    expect(calls[1]).toBe(`--parsable --dependency=afterok:41 --kill-on-invalid-dep=yes ${out}/merge.sbatch`);
    expect(calls[2]).toBe(`--parsable --array=1,2 ${out}/sweep.sbatch`);
    expect(calls[3]).toBe(`--parsable --dependency=afterok:43 --kill-on-invalid-dep=yes ${out}/merge.sbatch`);
    const bad = await sh(join(out, 'submit.sh'), ['1;rm -rf /'], env);
    expect(bad.code).toBe(2);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(4);
  });

  it('options sbatch would reject are usage errors (exit 2, one line, no stack)', async () => {
    const cases: [string[], RegExp][] = [
      [['--shards', '0'], /--shards must be in \[1, /],
      [['--time', 'one hour'], /--time expects a Slurm time limit/],
      [['--partition', 'a b'], /--partition expects a partition name/],
      [['--umbra', ' '], /--umbra expects one line of shell/],
      [['--cpus-per-task', '0'], /--cpus-per-task must be in/],
      [['--results', '/scratch/x'], /--results is for the single-file form/],
    ];
    for (const [args, msg] of cases) {
      const r = await runCli(['export', 'slurm', spec, '--out', join(dir, 'bad'), ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(msg);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    const spaced = await runCli(['export', 'slurm', spec, '--out', join(dir, 'with space')]);
    expect(spaced.code).toBe(2);
    expect(spaced.stderr).toMatch(/#SBATCH line/);
    expect(existsSync(join(dir, 'bad', 'sweep.sbatch'))).toBe(false);
  });
});

describe('arraySpec (the --array= list merge prints)', () => {
  const expand = (s: string) =>
    s === ''
      ? []
      : s.split(',').flatMap((p) => {
          const [a, b] = p.split('-').map(Number);
          return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, k) => a + k);
        });
  it('expands back to the sorted distinct indices, with no two ranges that could be joined', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(200), { maxLength: 60 }), (xs) => {
        const s = arraySpec(xs);
        expect(expand(s)).toEqual([...new Set(xs)].sort((a, b) => a - b));
        const parts = s === '' ? [] : s.split(',').map((p) => p.split('-').map(Number));
        for (let k = 1; k < parts.length; k++) expect(parts[k][0]).toBeGreaterThan(parts[k - 1][parts[k - 1].length - 1] + 1);
      }),
    );
  });
});
