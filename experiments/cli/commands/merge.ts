import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { printJson } from '../output.js';
import { resultsTable } from '../sweep-options.js';

export const mergeCommand: CliCommand = {
  register(program: Command) {
    program
      .command('merge')
      .description('merge the output folders of a sharded sweep (umbra run --shard i/n) and write the results: byte-identical to the sweep run unsharded')
      .argument('<dirs...>', 'shard output folders')
      .option('--out <dir>', 'folder to merge into (default: the first folder)')
      .option('--json', 'print JSON')
      .action(async (dirs: string[], opts: { out?: string; json?: boolean }) => {
        const { mergeSweeps } = await import('../../sweep/merge.js');
        const { umbraVersion } = await import('../main.js');
        const r = mergeSweeps(dirs, opts.out, umbraVersion());
        if (opts.json) return printJson({ out: r.outDir, jobs: r.jobs, copied: r.copied, results: r.results.policies });
        console.log(resultsTable(r.results));
        console.log(`merged ${dirs.length} folder(s) into ${r.outDir}: ${r.jobs} jobs (${r.copied} copied); results.json, results.csv written`);
      });
  },
};
