import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { CliCommand } from '../command.js';
import { printJson } from '../output.js';
import { UsageError } from '../../../util/errors.js';
import { parseIntOption } from '../parse-options.js';
import { overridesFrom, type OverrideFlags } from '../sweep-options.js';

/** `--out` names one file (the single-file form) when it has one of these extensions or is an existing file; else a folder. */
const FILE_EXTENSIONS = new Set(['.sh', '.bash', '.sbatch', '.slurm', '.yaml', '.yml', '.json', '.txt']);

function outIsFolder(out: string): boolean {
  if (existsSync(out)) return statSync(out).isDirectory();
  return out.endsWith('/') || !FILE_EXTENSIONS.has(extname(out).toLowerCase());
}

interface ExportFlags extends OverrideFlags {
  shards?: string;
  workers?: string;
  cpusPerTask?: string;
  results?: string;
  out?: string;
  time?: string;
  partition?: string;
  umbra?: string;
  image: string;
  workdir: string;
  pvc: string;
  json?: boolean;
}

export const exportCommand: CliCommand = {
  register(program: Command) {
    program
      .command('export')
      .description(
        'run a sweep on a cluster, one shard per task: with --out DIR, writes a Slurm job array + merge step + submit.sh (slurm) or a validated Kubernetes Indexed Job + merge Job + submit.sh (k8s) into DIR; without, prints one script/manifest',
      )
      .argument('<kind>', 'slurm or k8s')
      .argument('<spec>', 'experiment spec (YAML or JSON)')
      .option('--shards <n>', 'number of shards (array tasks / completion indices); default: one per job, at most 64')
      .option('--out <path>', 'a folder: write the scripts/manifests, submit.sh and the merge step into it (shards run into DIR/shards/i, merged into DIR/merged); a file (.sh, .sbatch, .yaml, ...): write the single script/manifest there; default: print it')
      .option('--cpus-per-task <n>', 'CPUs per shard (slurm --cpus-per-task, k8s cpu request); default: --workers, else 1')
      .option('--workers <n>', 'worker threads per shard; default: the CPUs Slurm gives the task (--cpus-per-task)')
      .option('--partition <name>', 'slurm: partition for the array and the merge step')
      .option('--time <limit>', 'slurm: time limit per task (e.g. 01:00:00)')
      .option('--umbra <cmd>', 'slurm: shell command that runs umbra on the nodes; default with --out DIR: this installation (node and bin/umbra.js by absolute path), else "umbra"')
      .option('--results <dir>', 'single-file slurm form: folder on the cluster for the shard folders (default umbra-results)')
      .option('--seeds <n>', 'as umbra run')
      .option('--duration <ms>', 'as umbra run')
      .option('--image <image>', 'k8s: container image with umbra built in it', 'umbra:latest')
      .option('--workdir <dir>', "k8s: umbra's folder inside the image", '/opt/umbra')
      .option('--pvc <claim>', 'k8s: persistent volume claim for the results (mounted at /results)', 'umbra-results')
      .option('--json', 'print JSON (what was written, or the text)')
      .action(async (kind: string, specPath: string, opts: ExportFlags) => {
        if (kind !== 'slurm' && kind !== 'k8s') throw new UsageError(`export writes "slurm" or "k8s", got "${kind}"`);
        const overrides = overridesFrom(opts);
        const workers = opts.workers !== undefined ? parseIntOption('--workers', opts.workers, 1, 1024) : undefined;
        const cpusPerTask = opts.cpusPerTask !== undefined ? parseIntOption('--cpus-per-task', opts.cpusPerTask, 1, 4096) : (workers ?? 1);
        const shardsFlag = opts.shards !== undefined ? parseIntOption('--shards', opts.shards, 1, 100_000) : undefined;
        const folder = opts.out !== undefined && outIsFolder(opts.out);
        if (folder && opts.results !== undefined) {
          throw new UsageError('--results is for the single-file form; with --out DIR the shards run into DIR/shards/i (slurm) or /results/shards/i on the claim (k8s)');
        }
        const { readSpecFile } = await import('../../spec/spec-source.js');
        const { prepareExperiment } = await import('../../spec/prepare.js');
        const { allJobs } = await import('../../sweep/jobs.js');
        const { packageRoot } = await import('../../../util/paths.js');
        const src = readSpecFile(specPath);
        const exp = await prepareExperiment(src, overrides);
        const jobs = allJobs(exp).length;
        const shards = shardsFlag ?? Math.min(64, jobs);
        if (shards > jobs) throw new UsageError(`--shards ${shards} is more than the sweep's ${jobs} jobs; some shards would have nothing to do`);

        if (folder) {
          const outDir = resolve(opts.out!);
          const { writeBundle } = await import('../../export/bundle.js');
          const base = { specPath: src.path, name: exp.name, shards, jobs, outDir, cpusPerTask, ...(workers !== undefined ? { workers } : {}), ...overrides };
          let bundle;
          if (kind === 'slurm') {
            const { slurmBundle } = await import('../../export/slurm-bundle.js');
            const { shq } = await import('../../export/shell.js');
            const umbraCommand = opts.umbra ?? `${shq(process.execPath)} ${shq(join(packageRoot(), 'bin', 'umbra.js'))}`;
            bundle = slurmBundle({ ...base, umbraCommand, ...(opts.partition !== undefined ? { partition: opts.partition } : {}), ...(opts.time !== undefined ? { time: opts.time } : {}) });
          } else {
            const { k8sBundle } = await import('../../export/k8s-bundle.js');
            bundle = k8sBundle({ ...base, image: opts.image, workdir: opts.workdir, pvc: opts.pvc, packageRoot: packageRoot() });
          }
          const files = writeBundle(outDir, bundle);
          if (opts.json) return printJson({ kind, shards, jobs, out: outDir, files, next: bundle.next });
          const what = kind === 'slurm' ? 'Slurm job array + merge step' : 'Kubernetes Indexed Job + merge Job (validated)';
          console.log(`${outDir}: ${what} for ${shards} shard(s) over ${jobs} jobs`);
          for (const f of files) console.log(`  ${f}`);
          console.log(`next: ${bundle.next.join('\n      ')}`);
          return;
        }

        const { slurmScript, k8sManifest } = await import('../../export/export-jobs.js');
        const { writeFileAtomic } = await import('../../../util/atomic-write.js');
        const o = {
          specPath: src.path,
          name: exp.name,
          shards,
          workers: workers ?? cpusPerTask,
          resultsDir: opts.results ?? 'umbra-results',
          ...overrides,
          ...(opts.time ? { time: opts.time } : {}),
          ...(opts.partition ? { partition: opts.partition } : {}),
          umbraCommand: opts.umbra ?? 'umbra',
          image: opts.image,
          workdir: opts.workdir,
          pvc: opts.pvc,
          packageRoot: packageRoot(),
        };
        if (kind === 'slurm') {
          const { checkSlurmOptions } = await import('../../export/slurm-bundle.js');
          checkSlurmOptions({ umbraCommand: o.umbraCommand, ...(opts.partition !== undefined ? { partition: opts.partition } : {}), ...(opts.time !== undefined ? { time: opts.time } : {}), outDir: '/' });
        }
        const text = kind === 'slurm' ? slurmScript(o) : k8sManifest(o);
        if (opts.out) writeFileAtomic(opts.out, text);
        if (opts.json) return printJson({ kind, shards, jobs, out: opts.out ?? null, text });
        if (opts.out) console.log(`${opts.out}: ${kind === 'slurm' ? 'Slurm job array' : 'Kubernetes Indexed Job'} with ${shards} shard(s) over ${jobs} jobs`);
        else process.stdout.write(text);
      });
  },
};
