import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { printJson } from '../output.js';
import { UsageError } from '../../../util/errors.js';
import { parseIntOption } from '../parse-options.js';
import { overridesFrom, type OverrideFlags } from '../sweep-options.js';

export const exportCommand: CliCommand = {
  register(program: Command) {
    program
      .command('export')
      .description('write a Slurm job-array script (slurm) or a Kubernetes Indexed Job manifest (k8s) that runs a sweep as shards, one per task, for umbra merge')
      .argument('<kind>', 'slurm or k8s')
      .argument('<spec>', 'experiment spec (YAML or JSON)')
      .option('--shards <n>', 'number of shards (array tasks / completion indices); default: one per job, at most 64')
      .option('--workers <n>', 'worker threads (CPUs) per shard', '1')
      .option('--results <dir>', 'folder on the cluster for the shard folders', 'umbra-results')
      .option('--out <file>', 'write to this file instead of stdout')
      .option('--seeds <n>', 'as umbra run')
      .option('--duration <ms>', 'as umbra run')
      .option('--time <limit>', 'slurm: time limit per task (e.g. 01:00:00)')
      .option('--umbra <cmd>', 'slurm: command that runs umbra on the nodes', 'umbra')
      .option('--image <image>', 'k8s: container image with umbra built in it', 'umbra:latest')
      .option('--workdir <dir>', 'k8s: umbra\'s folder inside the image', '/opt/umbra')
      .option('--pvc <claim>', 'k8s: persistent volume claim for the results (mounted at /results)', 'umbra-results')
      .option('--json', 'print JSON (the file text and the shard count)')
      .action(async (kind: string, specPath: string, opts: OverrideFlags & { shards?: string; workers: string; results: string; out?: string; time?: string; umbra: string; image: string; workdir: string; pvc: string; json?: boolean }) => {
        if (kind !== 'slurm' && kind !== 'k8s') throw new UsageError(`export writes "slurm" or "k8s", got "${kind}"`);
        const overrides = overridesFrom(opts);
        const workers = parseIntOption('--workers', opts.workers, 1, 1024);
        const { readSpecFile } = await import('../../spec/spec-source.js');
        const { prepareExperiment } = await import('../../spec/prepare.js');
        const { allJobs } = await import('../../sweep/jobs.js');
        const { slurmScript, k8sManifest } = await import('../../export/export-jobs.js');
        const { packageRoot } = await import('../../../util/paths.js');
        const { writeFileAtomic } = await import('../../../util/atomic-write.js');
        const src = readSpecFile(specPath);
        const exp = await prepareExperiment(src, overrides);
        const jobs = allJobs(exp).length;
        const shards = opts.shards !== undefined ? parseIntOption('--shards', opts.shards, 1, 100_000) : Math.min(64, jobs);
        if (shards > jobs) throw new UsageError(`--shards ${shards} is more than the sweep's ${jobs} jobs; some shards would have nothing to do`);
        const o = {
          specPath: src.path,
          name: exp.name,
          shards,
          workers,
          resultsDir: opts.results,
          ...overrides,
          ...(opts.time ? { time: opts.time } : {}),
          umbraCommand: opts.umbra,
          image: opts.image,
          workdir: opts.workdir,
          pvc: opts.pvc,
          packageRoot: packageRoot(),
        };
        const text = kind === 'slurm' ? slurmScript(o) : k8sManifest(o);
        if (opts.out) writeFileAtomic(opts.out, text);
        if (opts.json) return printJson({ kind, shards, jobs, out: opts.out ?? null, text });
        if (opts.out) console.log(`${opts.out}: ${kind === 'slurm' ? 'Slurm job array' : 'Kubernetes Indexed Job'} with ${shards} shard(s) over ${jobs} jobs`);
        else process.stdout.write(text);
      });
  },
};
