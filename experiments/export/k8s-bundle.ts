// `umbra export k8s SPEC --shards N --image IMAGE --out DIR`: Kubernetes
// manifests for a sweep, as files in DIR:
//   sweep.yaml  a ConfigMap holding the spec and an Indexed Job (completionMode:
//               Indexed, completions: N); the pod of completion index i
//               (JOB_COMPLETION_INDEX) runs `umbra run --shard i/N` into
//               /results/shards/i on a shared volume claim
//   merge.yaml  a Job that runs `umbra merge --shards N` of those folders into
//               /results/merged and `umbra report`; apply it once the sweep has completed
//   submit.sh   applies sweep.yaml, waits for the Job to complete, applies merge.yaml
// Every object is validated against the Kubernetes schema before anything is written.
import { basename, isAbsolute, relative } from 'node:path';
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { UsageError } from '../../util/errors.js';
import { overrideArgs, type BundleOptions, type ExportBundle } from './bundle.js';
import { parseImageReference } from './image-reference.js';
import { validateK8sObject } from './k8s-validate.js';
import { jobName, shq } from './shell.js';

export interface K8sOptions extends BundleOptions {
  image: string;
  /** umbra's folder inside the image (holding bin/umbra.js, built). */
  workdir: string;
  /** PersistentVolumeClaim (ReadWriteMany when pods land on several nodes) mounted at /results. */
  pvc: string;
  /** umbra's package folder here: a spec inside it is mounted at the same relative place in the image. */
  packageRoot: string;
}

export const RESULTS_MOUNT = '/results';

/** Refuses an image, claim or folder Kubernetes would reject (exit 2). */
export function checkK8sOptions(o: { image: string; pvc: string; workdir: string }): void {
  const ref = parseImageReference(o.image);
  if (typeof ref === 'string') {
    throw new UsageError(`--image "${o.image}" is not a container image reference (${ref}); expected [registry[:port]/]name[:tag][@sha256:digest], e.g. ghcr.io/me/umbra:1.0`);
  }
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(o.pvc) || o.pvc.length > 253) {
    throw new UsageError(`--pvc expects a PersistentVolumeClaim name (lowercase letters, digits, - and .), got "${o.pvc}"`);
  }
  if (!o.workdir.startsWith('/') || /[\s'"\\$`]/.test(o.workdir)) {
    throw new UsageError(`--workdir expects an absolute path inside the image without spaces or quotes, got "${o.workdir}"`);
  }
}

/** Where the spec is mounted in the pod: its place relative to umbra's folder, so its relative trace paths resolve. */
export function specPathInPod(specPath: string, packageRoot: string, workdir: string): { path: string; inPackage: boolean } {
  const rel = relative(packageRoot, specPath);
  const inPackage = !rel.startsWith('..') && !isAbsolute(rel);
  return { path: `${workdir}/${inPackage ? rel.split('\\').join('/') : basename(specPath)}`, inPackage };
}

export interface K8sObjects {
  configMap: Record<string, unknown>;
  job: Record<string, unknown>;
  mergeJob: Record<string, unknown>;
}

export function k8sObjects(o: K8sOptions): K8sObjects {
  checkK8sOptions(o);
  const name = jobName(o.name);
  const n = o.shards;
  const spec = specPathInPod(o.specPath, o.packageRoot, o.workdir);
  const umbra = `node ${o.workdir}/bin/umbra.js`;
  const workers = o.workers ?? o.cpusPerTask;
  const run = [umbra, 'run', shq(spec.path), '--shard', `"$JOB_COMPLETION_INDEX/${n}"`, '--out', `"${RESULTS_MOUNT}/shards/$JOB_COMPLETION_INDEX"`, '--workers', String(workers), '--quiet', ...overrideArgs(o)].join(' ');
  const labels = { app: 'umbra', 'umbra/sweep': name };
  const results = { name: 'results', persistentVolumeClaim: { claimName: o.pvc } };
  const cpu = String(o.cpusPerTask);
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${name}-spec`, labels },
    data: { [basename(o.specPath)]: readFileSync(o.specPath, 'utf8') },
  };
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels },
    spec: {
      completionMode: 'Indexed',
      completions: n,
      parallelism: n,
      // retries for the whole Job (backoffLimitPerIndex would count per shard, but needs Kubernetes >= 1.29);
      // a retried pod resumes: the jobs its shard finished are kept on the volume
      backoffLimit: 2 * n,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'umbra',
              image: o.image,
              workingDir: o.workdir,
              command: ['sh', '-c', run],
              resources: { requests: { cpu }, limits: { cpu } },
              volumeMounts: [
                { name: 'spec', mountPath: spec.path, subPath: basename(o.specPath), readOnly: true },
                { name: 'results', mountPath: RESULTS_MOUNT },
              ],
            },
          ],
          volumes: [{ name: 'spec', configMap: { name: `${name}-spec` } }, results],
        },
      },
    },
  };
  // POSIX sh has no {0..N-1}: list the N shard folders in a loop
  const merge = [
    `set --; i=0; while [ "$i" -lt ${n} ]; do set -- "$@" "${RESULTS_MOUNT}/shards/$i"; i=$((i + 1)); done`,
    `${umbra} merge --shards ${n} "$@" --out ${RESULTS_MOUNT}/merged && ${umbra} report ${RESULTS_MOUNT}/merged`,
  ].join('; ');
  const mergeJob = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `${name}-merge`, labels },
    spec: {
      completions: 1,
      backoffLimit: 1,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'umbra-merge',
              image: o.image,
              workingDir: o.workdir,
              command: ['sh', '-c', merge],
              resources: { requests: { cpu: '1' }, limits: { cpu: '1' } },
              volumeMounts: [{ name: 'results', mountPath: RESULTS_MOUNT }],
            },
          ],
          volumes: [results],
        },
      },
    },
  };
  for (const obj of [configMap, job, mergeJob]) validateK8sObject(obj);
  return { configMap, job, mergeJob };
}

export function k8sBundle(o: K8sOptions): ExportBundle {
  const { configMap, job, mergeJob } = k8sObjects(o);
  const name = (job.metadata as { name: string }).name;
  const spec = specPathInPod(o.specPath, o.packageRoot, o.workdir);
  const head = (what: string) =>
    [
      `# umbra sweep "${o.name}" (written by umbra export k8s): ${o.jobs} jobs in ${o.shards} shard(s). ${what}.`,
      `# The image ${o.image} must hold umbra, built (npm ci), at ${o.workdir}${spec.inPackage ? '' : ', and every file the spec names'};`,
      `# the claim ${o.pvc} (ReadWriteMany if pods may land on several nodes) holds ${RESULTS_MOUNT}/shards/i and ${RESULTS_MOUNT}/merged.`,
    ].join('\n');
  // no YAML anchors: every object written out in full
  const yaml = (v: unknown, literal = false) => stringify(v, { lineWidth: 0, aliasDuplicateObjects: false, ...(literal ? { blockQuote: 'literal' as const } : {}) });
  const sweep = `${head('The spec as a ConfigMap, and an Indexed Job: one pod per shard, shard = JOB_COMPLETION_INDEX')}\n${yaml(configMap, true)}---\n${yaml(job)}`;
  const merge = `${head('The merge Job: apply it once the Indexed Job has completed (submit.sh does)')}\n${yaml(mergeJob)}`;
  const submit = [
    '#!/bin/sh',
    `# Run the umbra sweep "${o.name}" on the current kubectl context: apply sweep.yaml, wait for the`,
    '# Indexed Job to complete, then apply merge.yaml and wait for it. If the Job fails (some index',
    '# used up its retries), delete it and run this again: finished jobs on the volume are kept.',
    'set -eu',
    'DIR=$(cd "$(dirname "$0")" && pwd)',
    `JOB=${name}`,
    'kubectl apply -f "$DIR/sweep.yaml"',
    'wait_job() {',
    '  while :; do',
    `    s=$(kubectl get job "$1" -o 'jsonpath={range .status.conditions[?(@.status=="True")]}{.type} {end}')`,
    '    case " $s " in',
    '      *" Complete "*) return 0 ;;',
    `      *" Failed "*) echo "job $1 failed; completed indexes: $(kubectl get job "$1" -o 'jsonpath={.status.completedIndexes}')" >&2; return 1 ;;`,
    '    esac',
    '    sleep 10',
    '  done',
    '}',
    'wait_job "$JOB"',
    'kubectl delete job "$JOB-merge" --ignore-not-found',
    'kubectl apply -f "$DIR/merge.yaml"',
    'wait_job "$JOB-merge"',
    `echo "merged: ${RESULTS_MOUNT}/merged on claim ${o.pvc} (report.html, results.json)"`,
    '',
  ].join('\n');
  return {
    files: [
      { name: 'sweep.yaml', text: sweep, executable: false },
      { name: 'merge.yaml', text: merge, executable: false },
      { name: 'submit.sh', text: submit, executable: true },
    ],
    folders: [],
    next: [`${o.outDir}/submit.sh    # or: kubectl apply -f ${o.outDir}/sweep.yaml, then merge.yaml once it has completed`],
  };
}
