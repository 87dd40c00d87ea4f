// `umbra export slurm SPEC --shards N --out DIR`: a Slurm job array and its
// merge step, as files in DIR:
//   sweep.sbatch  job array 0..N-1; task i runs `umbra run SPEC --shard i/N --out DIR/shards/i`
//   merge.sbatch  `umbra merge --shards N DIR/shards/{0..N-1} --out DIR/merged` then `umbra report`
//   submit.sh     submits the array, then the merge with --dependency=afterok:<array job>,
//                 and prints both job ids; `submit.sh 1,3` reruns only shards 1 and 3
//   sweep.json    the shard count, so `umbra merge DIR/shards/*` can name missing shards
// Paths are absolute at export time (the cluster's nodes must see DIR and the
// spec at the same paths: a shared file system). The merge names the shards
// that are missing or incomplete and writes nothing until all are done.
import { UsageError } from '../../util/errors.js';
import { overrideArgs, type BundleOptions, type ExportBundle } from './bundle.js';
import { jobName, sbatchSafe, shq } from './shell.js';
import { EXPORT_RECORD, type ExportRecord } from './shard-status.js';

export interface SlurmOptions extends BundleOptions {
  /** Shell text that runs umbra on the nodes, e.g. `node /opt/umbra/bin/umbra.js`. */
  umbraCommand: string;
  partition?: string;
  /** Wall-time limit per task, in a format sbatch accepts. */
  time?: string;
}

const SLURM_TIME = /^(?:\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+|\d+-\d+:\d{1,2}|\d+-\d+:\d{1,2}:\d{1,2}|UNLIMITED|INFINITE)$/i;

/** Refuses options sbatch would reject or that cannot be written safely. */
export function checkSlurmOptions(o: { umbraCommand: string; partition?: string; time?: string; outDir: string }): void {
  if (o.umbraCommand.trim() === '' || /[\n\r]/.test(o.umbraCommand)) {
    throw new UsageError(`--umbra expects one line of shell that runs umbra (e.g. "node /path/to/umbra/bin/umbra.js"), got ${JSON.stringify(o.umbraCommand)}`);
  }
  if (o.time !== undefined && !SLURM_TIME.test(o.time)) {
    throw new UsageError(`--time expects a Slurm time limit (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS), got "${o.time}"`);
  }
  if (o.partition !== undefined && !/^[A-Za-z0-9_.-]+(?:,[A-Za-z0-9_.-]+)*$/.test(o.partition)) {
    throw new UsageError(`--partition expects a partition name (or a comma-separated list), got "${o.partition}"`);
  }
  sbatchSafe('--out folder', o.outDir);
}

function directives(o: SlurmOptions, name: string, extra: string[]): string[] {
  return [
    `#SBATCH --job-name=${name}`,
    ...extra,
    '#SBATCH --ntasks=1',
    ...(o.partition !== undefined ? [`#SBATCH --partition=${o.partition}`] : []),
    ...(o.time !== undefined ? [`#SBATCH --time=${o.time}`] : []),
    `#SBATCH --chdir=${o.outDir}`,
  ];
}

function umbraFunction(o: SlurmOptions): string[] {
  return ['# the umbra to run (umbra export --umbra)', `run_umbra() { ${o.umbraCommand} "$@"; }`];
}

export function slurmBundle(o: SlurmOptions): ExportBundle {
  checkSlurmOptions(o);
  const name = jobName(o.name);
  const n = o.shards;
  const dir = o.outDir;
  const workers = o.workers !== undefined ? String(o.workers) : `"\${SLURM_CPUS_PER_TASK:-${o.cpusPerTask}}"`;
  const extra = overrideArgs(o).join(' ');
  const sweep = [
    '#!/bin/bash',
    `# umbra sweep "${o.name}" as a Slurm job array (written by umbra export slurm): ${o.jobs} jobs in ${n} shard(s).`,
    `# Task i (0-based, SLURM_ARRAY_TASK_ID) runs: umbra run SPEC --shard i/${n} --out ${dir}/shards/i`,
    `# Submit with ${dir}/submit.sh, which runs`,
    `#   sbatch --parsable ${dir}/sweep.sbatch                  -> <array job>`,
    `#   sbatch --dependency=afterok:<array job> --kill-on-invalid-dep=yes ${dir}/merge.sbatch`,
    `# (the merge step: umbra merge --shards ${n} of the shard folders into ${dir}/merged, then umbra report).`,
    `# Rerun failed tasks with ${dir}/submit.sh IDS (e.g. 1,3): finished jobs in a shard folder are kept.`,
    ...directives(o, name, [`#SBATCH --array=0-${n - 1}`, `#SBATCH --cpus-per-task=${o.cpusPerTask}`, `#SBATCH --output=${dir}/logs/shard-%a-job-%A.out`]),
    'set -euo pipefail',
    ...umbraFunction(o),
    `SPEC=${shq(o.specPath)}`,
    `OUT=${shq(dir)}`,
    'i=${SLURM_ARRAY_TASK_ID:?submit this script with sbatch: it is a job array}',
    'cd "$OUT"',
    `run_umbra run "$SPEC" --shard "$i/${n}" --out "$OUT/shards/$i" --workers ${workers} --quiet${extra ? ` ${extra}` : ''}`,
    '',
  ].join('\n');
  const merge = [
    '#!/bin/bash',
    `# Merge step of the umbra sweep "${o.name}" (written by umbra export slurm): gathers the ${n} shard folders`,
    `# into ${dir}/merged and writes the report there. submit.sh runs it after the array succeeds`,
    '# (--dependency=afterok). If a shard is missing or incomplete, umbra merge names it, exits 1',
    '# and writes nothing: rerun those shards (submit.sh IDS), which merges again.',
    ...directives(o, `${name}-merge`, ['#SBATCH --cpus-per-task=1', `#SBATCH --output=${dir}/logs/merge-job-%j.out`]),
    'set -euo pipefail',
    ...umbraFunction(o),
    `OUT=${shq(dir)}`,
    'cd "$OUT"',
    `run_umbra merge --shards ${n} "$OUT"/shards/{0..${n - 1}} --out "$OUT/merged"`,
    'run_umbra report "$OUT/merged"',
    '',
  ].join('\n');
  const submit = [
    '#!/bin/bash',
    `# Submit the umbra sweep "${o.name}": the job array (sweep.sbatch), then the merge step (merge.sbatch)`,
    '# to start when every task of the array has succeeded. Prints both job ids.',
    `#   ${dir}/submit.sh          all ${n} shards`,
    `#   ${dir}/submit.sh 1,3      only shards 1 and 3 (a failed or cancelled task), then the merge again`,
    '# Extra sbatch options may follow the shard list, e.g. submit.sh all --partition=debug.',
    'set -euo pipefail',
    `OUT=${shq(dir)}`,
    'ids=${1:-all}',
    '[ $# -gt 0 ] && shift',
    'array=()',
    'if [ "$ids" != all ]; then',
    '  if ! [[ $ids =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]]; then echo "submit.sh: expected shard ids like 1,3 or 0-2, got \\"$ids\\"" >&2; exit 2; fi',
    '  array=(--array="$ids")',
    'fi',
    'mkdir -p "$OUT/logs" "$OUT/shards"',
    'array_job=$(sbatch --parsable "${array[@]}" "$@" "$OUT/sweep.sbatch")',
    'array_job=${array_job%%;*}',
    'merge_job=$(sbatch --parsable --dependency="afterok:$array_job" --kill-on-invalid-dep=yes "$@" "$OUT/merge.sbatch")',
    'merge_job=${merge_job%%;*}',
    '# the ids alone on stdout (easy to read from a script), what they are on stderr',
    'echo "array job: $array_job"',
    'echo "merge job: $merge_job"',
    `echo "submit.sh: shards \${ids/all/0-${n - 1}} (of ${n}) into $OUT/shards; the merge job waits for them (afterok) and writes $OUT/merged" >&2`,
    '',
  ].join('\n');
  return {
    files: [
      { name: 'sweep.sbatch', text: sweep, executable: true },
      { name: 'merge.sbatch', text: merge, executable: true },
      { name: 'submit.sh', text: submit, executable: true },
      // lets `umbra merge DIR/shards/*` name missing shards without --shards
      { name: EXPORT_RECORD, text: JSON.stringify({ kind: 'slurm', name: o.name, shards: n, jobs: o.jobs, spec: o.specPath } satisfies ExportRecord, null, 2) + '\n', executable: false },
    ],
    folders: ['logs', 'shards'],
    next: [`${dir}/submit.sh`, `# when the merge job has run: ${dir}/merged/report.html`],
  };
}
