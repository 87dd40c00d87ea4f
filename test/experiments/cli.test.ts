// The experiment commands end to end through the built CLI: validate, run on
// worker threads (identical results for any --workers), shards + merge, a
// killed run that resumes, export, report, trace; exit codes and one-line errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { fixtureCopy, read, runCli, spawnCli, specVariant } from './helpers.js';
import { fmtInterval } from '../../experiments/report/format.js';
import { alibabaMachineRows } from '../traces/helpers.js';

let dir: string;
let specs: string;
let spec: string;
beforeAll(() => {
  ({ dir, specs } = fixtureCopy('cli'));
  spec = join(specs, 'small.yaml');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const out = (name: string) => join(dir, name);
const same = (a: string, b: string) => {
  for (const f of ['results.json', 'results.csv', 'run.json']) expect(read(join(b, f)), f).toBe(read(join(a, f)));
};

describe('umbra validate', () => {
  it('a valid spec: exit 0, and --json lists seeds, points, policies and jobs', async () => {
    const r = await runCli(['validate', spec, '--seeds', '3', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    expect(j.seeds).toEqual([1, 2, 3]);
    expect(j.points[0].policies).toEqual(['idle', 'grow']);
    expect(j.cells).toBe(6);
  });

  it('an invalid spec: exit 2, one line naming file:line:column and the field, no stack', async () => {
    const bad = specVariant(specs, 'small.yaml', 'cli-bad.yaml', (t) => t.replace('threads: 2\n    cores: 2-3', 'threads: two\n    cores: 2-3'));
    const r = await runCli(['validate', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cli-bad\.yaml:\d+:\d+: field "workloads\[1\]\.threads"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('bad options are usage errors (exit 2)', async () => {
    expect((await runCli(['run', spec, '--out', out('x'), '--shard', '3/3'])).code).toBe(2);
    expect((await runCli(['run', spec, '--out', out('x'), '--workers', '0'])).code).toBe(2);
    expect((await runCli(['run', spec, '--out', out('x'), '--seeds', 'many'])).code).toBe(2);
    expect((await runCli(['run', spec])).code).toBe(2);
  });
});

describe('umbra run', () => {
  it('results do not depend on the number of worker threads', async () => {
    const one = await runCli(['run', spec, '--out', out('w1'), '--workers', '1', '--quiet']);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/idle .*\n.*grow/s);
    const two = await runCli(['run', spec, '--out', out('w2'), '--workers', '2']);
    expect(two.code).toBe(0);
    // progress on stderr, plain lines when not a terminal
    expect(two.stderr).toMatch(/umbra: 8 job\(s\) to run/);
    expect(two.stderr).toMatch(/umbra: 8\/8 done: .* ETA/);
    same(out('w1'), out('w2'));
    for (const f of readdirSync(join(out('w1'), 'cells'))) expect(read(join(out('w2'), 'cells', f))).toBe(read(join(out('w1'), 'cells', f)));
  });

  it('shards run apart and merged give the unsharded results byte for byte', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await runCli(['run', spec, '--out', out(`sh${i}`), '--shard', `${i}/3`, '--workers', '2', '--json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).complete).toBe(false);
      expect(existsSync(join(out(`sh${i}`), 'results.json'))).toBe(false);
    }
    const m = await runCli(['merge', out('sh0'), out('sh1'), out('sh2'), '--out', out('merged')]);
    expect(m.code).toBe(0);
    same(out('w1'), out('merged'));
  });

  it('a killed run leaves no results file, and rerunning resumes to the same results', async () => {
    const slow = specVariant(specs, 'small.yaml', 'slow.yaml', (t) => t.replace('durationMs: 300', 'durationMs: 1500'));
    const full = await runCli(['run', slow, '--out', out('slow-full'), '--workers', '1', '--quiet']);
    expect(full.code).toBe(0);
    const child = spawnCli(['run', slow, '--out', out('slow-killed'), '--workers', '1']);
    const cells = join(out('slow-killed'), 'cells');
    await new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const poll = setInterval(() => {
        const n = existsSync(cells) ? readdirSync(cells).filter((f) => f.endsWith('.json')).length : 0;
        if (n >= 1) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        } else if (Date.now() - t0 > 50_000) {
          clearInterval(poll);
          child.kill('SIGKILL');
          reject(new Error('no cell finished in time'));
        }
      }, 20);
    });
    await new Promise((r) => child.on('exit', r));
    expect(existsSync(join(out('slow-killed'), 'results.json'))).toBe(false);
    const again = await runCli(['run', slow, '--out', out('slow-killed'), '--workers', '2', '--json']);
    expect(again.code).toBe(0);
    const j = JSON.parse(again.stdout);
    expect(j.alreadyDone).toBeGreaterThanOrEqual(1);
    expect(j.ran).toBe(j.jobs - j.alreadyDone);
    same(out('slow-full'), out('slow-killed'));
  });

  it('platform: hardware with a task the host has no real workload for is refused naming the field (exit 2)', async () => {
    // search has no real service on a host (kv runs as redis-server): hardware-run.test.ts covers the runs that do map
    const hw = specVariant(specs, 'small.yaml', 'hw.yaml', (t) => t.replace('name: small', 'name: small\nplatform: hardware').replace('kernel: kv', 'kernel: search'));
    expect((await runCli(['validate', hw])).code).toBe(0);
    const r = await runCli(['run', hw, '--out', out('hw'), '--quiet']);
    // stderr in the failure message: this is how an abort was found here (the
    // pool terminated the other worker inside a native call; see
    // test/runner/native-worker-terminate.test.ts)
    expect(r.code, `stderr: ${r.stderr}`).toBe(2);
    expect(r.stderr).toMatch(/^umbra: .*field ".*kernel".*search/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('umbra demo', () => {
  it('runs experiments/specs/demo.yaml and reports; umbra run on that file gives the same results', async () => {
    const d = await runCli(['demo', '--out', out('demo'), '--seeds', '1', '--duration', '100', '--json']);
    expect(d.code).toBe(0);
    const j = JSON.parse(d.stdout);
    expect(j.results.map((p: { name: string }) => p.name).sort()).toEqual(
      ['oracle', 'percentile', 'reactive', 'shadow', 'shadow-formula-interference', 'shadow-no-echo', 'shadow-no-quarantine', 'shadow-no-warmup', 'shadow-no-weighting', 'static'].sort(),
    );
    expect(existsSync(join(out('demo'), 'report.html'))).toBe(true);
    const r = await runCli(['run', join('experiments', 'specs', 'demo.yaml'), '--out', out('demo-run'), '--seeds', '1', '--duration', '100', '--quiet']);
    expect(r.code).toBe(0);
    same(out('demo'), out('demo-run'));
  });
});

describe('umbra export', () => {
  it('slurm: a job array with one 0-based shard per task, into its own folder', async () => {
    const r = await runCli(['export', 'slurm', spec, '--shards', '3', '--workers', '2', '--results', '/scratch/u', '--duration', '200']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^#!\/bin\/bash/);
    expect(r.stdout).toContain('#SBATCH --array=0-2');
    expect(r.stdout).toContain('#SBATCH --cpus-per-task=2');
    expect(r.stdout).toContain(`SPEC=${spec}`);
    expect(r.stdout).toMatch(/umbra run "\$SPEC" --out "\$OUT" --shard "\$\{SLURM_ARRAY_TASK_ID\}\/3" --workers "\$\{SLURM_CPUS_PER_TASK:-2\}" --duration 200/);
    expect(r.stdout).toMatch(/umbra merge \/scratch\/u\/shard-\* --out \/scratch\/u\/merged/);
  });

  it('k8s: a ConfigMap with the spec and an Indexed Job whose completion index is the shard', async () => {
    const file = out('job.yaml');
    const r = await runCli(['export', 'k8s', spec, '--shards', '4', '--image', 'reg/umbra:1', '--out', file]);
    expect(r.code).toBe(0);
    const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS());
    const cm = docs.find((d) => d.kind === 'ConfigMap');
    const job = docs.find((d) => d.kind === 'Job');
    expect(cm.data['small.yaml']).toBe(read(spec));
    expect(job.apiVersion).toBe('batch/v1');
    expect(job.spec.completionMode).toBe('Indexed');
    expect(job.spec.completions).toBe(4);
    const c = job.spec.template.spec.containers[0];
    expect(c.image).toBe('reg/umbra:1');
    expect(c.command.join(' ')).toMatch(/--shard \$JOB_COMPLETION_INDEX\/4/);
    expect(c.command.join(' ')).toMatch(/--out \/results\/shard-\$JOB_COMPLETION_INDEX/);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
  });

  it('bad kinds and more shards than jobs are usage errors', async () => {
    expect((await runCli(['export', 'pbs', spec])).code).toBe(2);
    expect((await runCli(['export', 'slurm', spec, '--shards', '99'])).code).toBe(2);
  });
});

describe('umbra report', () => {
  it('writes Markdown, self-contained HTML, SVG+PNG figures and CSV+LaTeX tables whose numbers are the results', async () => {
    const r = await runCli(['report', out('w1'), '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const f of ['latency-kv', 'allocation-cores', 'forecast-kv', 'comparison-sloViolationPct', 'comparison-emuPct', 'tradeoff']) expect(j.figures).toContain(f);
    for (const f of j.figures) {
      expect(read(join(out('w1'), 'figures', `${f}.svg`))).toMatch(/<svg[\s\S]*<\/svg>/);
      expect(readFileSync(join(out('w1'), 'figures', `${f}.png`)).subarray(1, 4).toString()).toBe('PNG');
    }
    const html = read(join(out('w1'), 'report.html'));
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<(script|link|img)\b[^>]*(src|href)=/i);
    expect(html).not.toMatch(/url\(http/);
    const tex = read(join(out('w1'), 'tables', 'summary.tex'));
    expect(tex).toContain('\\toprule');
    expect(tex).toContain('\\textbf{');
    // every cell of the Markdown summary table is the results.json value, formatted
    const res = JSON.parse(read(join(out('w1'), 'results.json')));
    const timing = JSON.parse(read(join(out('w1'), 'timing.json')));
    const md = read(join(out('w1'), 'report.md'));
    const lines = md.split('\n').filter((l) => /^\| (idle|grow) \|/.test(l));
    expect(lines).toHaveLength(2);
    const metrics = ['sloViolationPct', 'p99OverSlo', 'emuPct', 'beThroughputPct', 'hoardedPct', 'leadTimeMs', 'forecastSmape', 'churnPerSec'];
    for (const line of lines) {
      const cells = line.split('|').slice(1, -1).map((c) => c.trim().replace(/\*\*/g, ''));
      const p = res.policies.find((x: { name: string }) => x.name === cells[0]);
      metrics.forEach((m, k) => expect(cells[k + 1], `${cells[0]} ${m}`).toBe(fmtInterval(p.metrics[m].mean, p.metrics[m].lo, p.metrics[m].hi)));
      const t = timing.policies.find((x: { name: string }) => x.name === cells[0]).metrics.decideUsP99;
      expect(cells[metrics.length + 1]).toBe(fmtInterval(t.mean, t.lo, t.hi));
    }
  });

  it('an incomplete run folder: exit 2, says how to finish it', async () => {
    const r = await runCli(['report', out('sh0')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no results\.json: the run is not complete/);
  });
});

describe('umbra trace', () => {
  it('info, entities and extract on an Alibaba machine-usage table', async () => {
    const table = join(dir, 'machine_usage.csv');
    writeFileSync(table, alibabaMachineRows([0, 10, 20, 30].flatMap((t) => [{ m: 'm_1', t, cpu: t / 10 }, { m: 'm_5', t, cpu: 50 }])));
    const info = await runCli(['trace', 'info', table, '--json']);
    expect(JSON.parse(info.stdout).format).toBe('alibaba-machine-usage');
    const ents = await runCli(['trace', 'entities', table, '--json']);
    expect(JSON.parse(ents.stdout).entities.map((e: { entity: string }) => e.entity)).toEqual(['m_1', 'm_5']);
    const series = join(dir, 'm1.csv');
    const x = await runCli(['trace', 'extract', table, '--entity', 'm_1', '--out', series]);
    expect(x.code).toBe(0);
    expect(read(series)).toBe('t_s,value\n0,0\n10,1\n20,2\n30,3\n');
    const bad = await runCli(['trace', 'extract', table, '--entity', 'm_1', '--format', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown trace format "nope"/);
  });
});
