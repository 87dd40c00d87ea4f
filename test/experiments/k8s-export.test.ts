// `umbra export k8s SPEC --shards N --image IMAGE --out DIR`: an Indexed Job
// (completionMode Indexed, completions N, shard = JOB_COMPLETION_INDEX) and a
// merge Job that validate against the Kubernetes schema (checked here again,
// independently, with kubernetes-models); the pods' commands, run here the
// way the pods would run them, give results byte-identical to an unsharded
// run; malformed options are refused with exit 2 and one clear line; the
// validator refuses malformed objects; image references follow the registry
// grammar.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import fc from 'fast-check';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { ROOT, fixtureCopy, read, runCli, tempDir } from './helpers.js';
import { validateK8sObject } from '../../experiments/export/k8s-validate.js';
import { parseImageReference } from '../../experiments/export/image-reference.js';
import { InputError } from '../../util/errors.js';

let dir: string;
let spec: string;
beforeAll(() => {
  ({ dir } = fixtureCopy('k8s'));
  spec = join(dir, 'test', 'experiments', 'fixtures', 'small.yaml');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const docsOf = (file: string): Obj[] => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Obj);

function sh(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile('sh', ['-c', script], { env: { ...process.env, ...env }, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      res({ code, stdout, stderr });
    });
  });
}

describe('umbra export k8s --out DIR', () => {
  it('writes an Indexed Job and a merge Job that validate against the Kubernetes schema', async () => {
    const out = join(dir, 'k8s');
    const r = await runCli(['export', 'k8s', spec, '--shards', '4', '--image', 'registry.example.com:5000/lab/umbra:1.2', '--out', out, '--cpus-per-task', '2']);
    expect(r.code, r.stderr).toBe(0);
    const sweep = docsOf(join(out, 'sweep.yaml'));
    const merge = docsOf(join(out, 'merge.yaml'));
    const cm = sweep.find((d) => d.kind === 'ConfigMap')!;
    const job = sweep.find((d) => d.kind === 'Job')!;
    const mergeJob = merge.find((d) => d.kind === 'Job')!;
    // the schema, independently of umbra's own check
    expect(() => new ConfigMap(cm as ConstructorParameters<typeof ConfigMap>[0]).validate()).not.toThrow();
    expect(() => new Job(job as ConstructorParameters<typeof Job>[0]).validate()).not.toThrow();
    expect(() => new Job(mergeJob as ConstructorParameters<typeof Job>[0]).validate()).not.toThrow();

    expect(job.apiVersion).toBe('batch/v1');
    expect(job.spec.completionMode).toBe('Indexed');
    expect(job.spec.completions).toBe(4);
    const pod = job.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    const c = pod.containers[0];
    expect(c.image).toBe('registry.example.com:5000/lab/umbra:1.2');
    expect(c.resources.requests.cpu).toBe('2');
    const cmd = c.command.join(' ');
    expect(cmd).toMatch(/--shard "\$JOB_COMPLETION_INDEX\/4"/);
    expect(cmd).toMatch(/--out "\/results\/shards\/\$JOB_COMPLETION_INDEX"/);
    // the spec travels in the ConfigMap and is mounted where the command reads it
    expect(cm.data['small.yaml']).toBe(read(spec));
    const specMount = c.volumeMounts.find((m: Obj) => m.name === 'spec');
    expect(cmd).toContain(` run ${specMount.mountPath} `);
    expect(pod.volumes.find((v: Obj) => v.name === 'spec').configMap.name).toBe(cm.metadata.name);
    // the merge Job reads the same claim
    const mc = mergeJob.spec.template.spec.containers[0].command.join(' ');
    expect(mc).toMatch(/merge --shards 4 /);
    expect(mc).toContain('--out /results/merged');
    expect(mc).toContain('report /results/merged');
    const claim = (p: Obj) => p.volumes.find((v: Obj) => v.persistentVolumeClaim).persistentVolumeClaim.claimName;
    expect(claim(mergeJob.spec.template.spec)).toBe(claim(pod));
    const syntax = await sh(`sh -n ${join(out, 'submit.sh')}`, {});
    expect(syntax.code, syntax.stderr).toBe(0);
    expect(read(join(out, 'submit.sh'))).toMatch(/kubectl apply -f "\$DIR\/sweep\.yaml"[\s\S]*kubectl apply -f "\$DIR\/merge\.yaml"/);
  });

  it("the pods' commands, run here as the Job would run them, merge to the unsharded results", async () => {
    // the "image" is this checkout: workdir = the repository, the spec inside it at its own path
    const workdir = ROOT.replace(/\/+$/, '');
    const out = join(dir, 'k8s-run');
    const r = await runCli(['export', 'k8s', join(ROOT, 'test', 'experiments', 'fixtures', 'small.yaml'), '--shards', '3', '--image', 'umbra:dev', '--workdir', workdir, '--out', out, '--duration', '200']);
    expect(r.code, r.stderr).toBe(0);
    const job = docsOf(join(out, 'sweep.yaml')).find((d) => d.kind === 'Job')!;
    const mergeJob = docsOf(join(out, 'merge.yaml')).find((d) => d.kind === 'Job')!;
    const results = tempDir('k8s-results');
    try {
      // the claim is mounted at /results in the pods: here, a temp folder in its place
      const local = (command: string[]) => command[2].split('/results/').join(`${results}/`);
      for (let i = 0; i < 3; i++) {
        const p = await sh(local(job.spec.template.spec.containers[0].command), { JOB_COMPLETION_INDEX: String(i) });
        expect(p.code, p.stderr).toBe(0);
      }
      const m = await sh(local(mergeJob.spec.template.spec.containers[0].command), {});
      expect(m.code, m.stderr).toBe(0);
      const ref = await runCli(['run', join(ROOT, 'test', 'experiments', 'fixtures', 'small.yaml'), '--out', join(results, 'reference'), '--duration', '200', '--workers', '1', '--quiet']);
      expect(ref.code, ref.stderr).toBe(0);
      for (const f of ['results.json', 'results.csv']) expect(read(join(results, 'merged', f)), f).toBe(read(join(results, 'reference', f)));
      expect(existsSync(join(results, 'merged', 'report.html'))).toBe(true);
    } finally {
      rmSync(results, { recursive: true, force: true });
    }
  }, 120_000);

  it('malformed options are refused before anything is written: exit 2, one clear line', async () => {
    const cases: [string[], RegExp][] = [
      [['--shards', '0', '--image', 'umbra:1'], /--shards must be in \[1, /],
      [['--shards', '-2', '--image', 'umbra:1'], /--shards must be in \[1, /],
      [['--shards', 'four', '--image', 'umbra:1'], /--shards expects an integer/],
      [['--shards', '2', '--image', 'Not An Image!'], /--image "Not An Image!" is not a container image reference \(contains white space\)/],
      [['--shards', '2', '--image', 'UPPER/Case:1'], /--image "UPPER\/Case:1" is not a container image reference/],
      [['--shards', '2', '--image', 'umbra:'], /--image "umbra:" is not a container image reference \(bad tag/],
      [['--shards', '2', '--image', 'reg.io//umbra'], /is not a container image reference/],
      [['--shards', '2', '--image', ''], /is not a container image reference \(empty\)/],
      [['--shards', '2', '--image', 'umbra@sha256:xyz'], /bad digest/],
      [['--shards', '2', '--image', 'umbra:1', '--pvc', 'My_Claim'], /--pvc expects a PersistentVolumeClaim name/],
      [['--shards', '2', '--image', 'umbra:1', '--workdir', 'relative/path'], /--workdir expects an absolute path/],
    ];
    for (const [args, msg] of cases) {
      const out = join(dir, 'refused');
      const r = await runCli(['export', 'k8s', spec, ...args, '--out', out]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(msg);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
      expect(existsSync(join(out, 'sweep.yaml')), args.join(' ')).toBe(false);
    }
    // the single-file form checks the image too
    const file = await runCli(['export', 'k8s', spec, '--image', 'bad image', '--out', join(dir, 'job.yaml')]);
    expect(file.code).toBe(2);
    expect(existsSync(join(dir, 'job.yaml'))).toBe(false);
  });
});

describe('validateK8sObject', () => {
  const good = (): Obj => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'umbra-x' },
    spec: { completionMode: 'Indexed', completions: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'umbra:1', volumeMounts: [{ name: 'r', mountPath: '/results' }] }] } } },
  });
  it('accepts a well-formed Job and refuses malformed ones, naming the object and the field', () => {
    expect(() => validateK8sObject(good())).not.toThrow();
    const broken: [string, (o: Obj) => void, RegExp][] = [
      ['completions as text', (o) => (o.spec.completions = 'two'), /Job umbra-x: .*completions must be integer/],
      ['a mount without a path', (o) => delete o.spec.template.spec.containers[0].volumeMounts[0].mountPath, /mountPath/],
      ['a cpu request that is no quantity', (o) => (o.spec.template.spec.containers[0].resources = { requests: { cpu: 'lots' } }), /cpu/],
      ['a name that is no DNS label', (o) => (o.metadata.name = 'Umbra_X'), /metadata\.name must be a DNS-1123 label/],
      ['an unknown kind', (o) => (o.kind = 'Jobb'), /no schema here/],
    ];
    for (const [what, edit, msg] of broken) {
      const o = good();
      edit(o);
      let err: unknown = null;
      try {
        validateK8sObject(o);
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(InputError);
      expect((err as Error).message, what).toMatch(msg);
    }
  });
});

describe('parseImageReference', () => {
  it('reads the usual forms', () => {
    expect(parseImageReference('umbra')).toEqual({ domain: null, path: 'umbra', tag: null, digest: null });
    expect(parseImageReference('localhost:5000/lab/umbra:dev')).toEqual({ domain: 'localhost:5000', path: 'lab/umbra', tag: 'dev', digest: null });
    expect(parseImageReference('ghcr.io/me/umbra@sha256:' + 'a'.repeat(64))).toMatchObject({ domain: 'ghcr.io', path: 'me/umbra', digest: 'sha256:' + 'a'.repeat(64) });
    expect(parseImageReference('docker.io/library/node:20-bookworm')).toMatchObject({ domain: 'docker.io', path: 'library/node', tag: '20-bookworm' });
    expect(parseImageReference('me/my__img.x-y:v1.2_3')).toMatchObject({ domain: null, path: 'me/my__img.x-y', tag: 'v1.2_3' });
  });

  it('law: a reference assembled from valid parts parses back into those parts', () => {
    const alnum = fc.stringMatching(/^[a-z0-9]{1,6}$/);
    const component = fc.tuple(alnum, fc.array(fc.tuple(fc.constantFrom('.', '_', '__', '-', '--'), alnum), { maxLength: 2 })).map(([a, rest]) => a + rest.map(([s, b]) => s + b).join(''));
    const domain = fc.tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/), fc.stringMatching(/^[a-z]{2,4}$/), fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined })).map(([a, b, p]) => `${a}.${b}${p ? `:${p}` : ''}`);
    const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
    const digest = fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256:${h}`);
    fc.assert(
      fc.property(fc.option(domain, { nil: null }), fc.array(component, { minLength: 1, maxLength: 3 }), fc.option(tag, { nil: null }), fc.option(digest, { nil: null }), (d, path, t, g) => {
        // without a registry, a first component with a dot would be read as one (as registries read it)
        fc.pre(d !== null || path.length === 1 || !path[0].includes('.'));
        const text = `${d ? `${d}/` : ''}${path.join('/')}${t ? `:${t}` : ''}${g ? `@${g}` : ''}`;
        expect(parseImageReference(text)).toEqual({ domain: d, path: path.join('/'), tag: t, digest: g });
      }),
    );
  });

  it('law: white space, upper case in the path, or an empty component is never an image', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9]{1,8}$/), fc.stringMatching(/^[a-z0-9]{1,8}$/), (a, b) => {
        expect(typeof parseImageReference(`${a} ${b}`)).toBe('string');
        expect(typeof parseImageReference(`${a}/${b.toUpperCase()}X`)).toBe('string');
        expect(typeof parseImageReference(`${a}//${b}`)).toBe('string');
        expect(typeof parseImageReference(`${a}/${b}:`)).toBe('string');
      }),
    );
  });
});
