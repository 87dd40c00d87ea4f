import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { printJson } from '../output.js';
import { overridesFrom, resultsTable, workersFrom, type OverrideFlags } from '../sweep-options.js';

/** The flagship experiment: experiments/specs/demo.yaml, then its report. */
export const demoCommand: CliCommand = {
  register(program: Command) {
    program
      .command('demo')
      .description('run the flagship experiment (experiments/specs/demo.yaml: first-class services driven by real traces next to second-class jobs; the shadowing engine, its ablations and the baselines over several seeds) and write its report')
      .option('--out <dir>', 'output folder', 'umbra-demo')
      .option('--seeds <n>', 'run seeds 1..n instead of the spec\'s')
      .option('--duration <ms>', 'simulated milliseconds per run instead of the spec\'s')
      .option('--workers <n>', 'worker threads (default: the number of CPUs)')
      .option('--quiet', 'no progress output')
      .option('--json', 'print JSON')
      .action(async (opts: OverrideFlags & { out: string; workers?: string; quiet?: boolean; json?: boolean }) => {
        const overrides = overridesFrom(opts);
        const workers = workersFrom(opts.workers);
        const { readSpecFile } = await import('../../spec/spec-source.js');
        const { runSweep } = await import('../../sweep/run-sweep.js');
        const { buildReport } = await import('../../report/build-report.js');
        const { shipped } = await import('../../../util/paths.js');
        const { umbraVersion } = await import('../main.js');
        const t0 = performance.now();
        const r = await runSweep(readSpecFile(shipped('experiments/specs/demo.yaml')), { ...overrides, outDir: opts.out, workers, quiet: opts.quiet || opts.json, version: umbraVersion() });
        const report = await buildReport(r.outDir);
        const wallSec = (performance.now() - t0) / 1000;
        if (opts.json) return printJson({ out: r.outDir, jobs: r.jobs, ran: r.ran, wallSeconds: Math.round(wallSec * 10) / 10, report: report.files, results: r.results?.policies });
        console.log(resultsTable(r.results!));
        console.log(`demo finished in ${wallSec.toFixed(1)} s (${r.ran} job(s) run, ${r.alreadyDone} reused); report: ${r.outDir}/report.html, report.md`);
      });
  },
};
