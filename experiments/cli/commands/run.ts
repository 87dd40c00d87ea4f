import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { printJson } from '../output.js';
import { overridesFrom, resultsTable, shardFrom, workersFrom, type OverrideFlags } from '../sweep-options.js';

export const runCommand: CliCommand = {
  register(program: Command) {
    program
      .command('run')
      .description('run every (policy x seed x parameter point) of an experiment spec on worker threads; resumes finished jobs; writes results.json and results.csv')
      .argument('<spec>', 'experiment spec (YAML or JSON)')
      .requiredOption('--out <dir>', 'output folder (created; rerunning into it resumes)')
      .option('--seeds <n>', 'run seeds 1..n instead of the spec\'s')
      .option('--duration <ms>', 'simulated milliseconds per run instead of the spec\'s (the warm-up keeps its share)')
      .option('--workers <n>', 'worker threads (default: the number of CPUs)')
      .option('--shard <i/n>', 'run only shard i of n (0-based): jobs i, i+n, i+2n, ...; merge the shard folders with umbra merge')
      .option('--quiet', 'no progress output')
      .option('--json', 'print JSON')
      .action(async (specPath: string, opts: OverrideFlags & { out: string; workers?: string; shard?: string; quiet?: boolean; json?: boolean }) => {
        const overrides = overridesFrom(opts);
        const workers = workersFrom(opts.workers);
        const shard = shardFrom(opts.shard);
        const { readSpecFile } = await import('../../spec/spec-source.js');
        const { runSweep } = await import('../../sweep/run-sweep.js');
        const { umbraVersion } = await import('../main.js');
        const src = readSpecFile(specPath);
        const r = await runSweep(src, { ...overrides, outDir: opts.out, workers, shard, quiet: opts.quiet || opts.json, version: umbraVersion() });
        const summary = { out: r.outDir, jobs: r.jobs, shardJobs: r.mine, alreadyDone: r.alreadyDone, ran: r.ran, missing: r.missing, complete: r.results !== null, ...(r.results ? { results: r.results.policies } : {}) };
        if (opts.json) return printJson(summary);
        if (r.results) {
          console.log(resultsTable(r.results));
          console.log(`results: ${r.outDir}/results.json, results.csv (per run); wall-clock: timing.json; report: umbra report ${opts.out}`);
        } else {
          console.log(`shard ${shard ? `${shard.index}/${shard.count}` : ''} done: ran ${r.ran} job(s), ${r.alreadyDone} already done; ${r.jobs - r.missing} of ${r.jobs} jobs of the sweep are in ${r.outDir}. Merge the shard folders with: umbra merge DIR...`);
        }
      });
  },
};
