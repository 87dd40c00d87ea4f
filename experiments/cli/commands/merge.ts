import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { printJson } from '../output.js';
import { parseIntOption } from '../parse-options.js';
import { resultsTable } from '../sweep-options.js';

export const mergeCommand: CliCommand = {
  register(program: Command) {
    program
      .command('merge')
      .description(
        'merge the output folders of a sharded sweep (umbra run --shard i/n) and write the results: byte-identical to the sweep run unsharded. If any job is missing, writes nothing and exits 1 naming what to rerun (with --shards N: the shards missing or incomplete)',
      )
      .argument('<dirs...>', 'shard output folders (with --shards, folders that do not exist count as shards that never started)')
      .option('--out <dir>', 'folder to merge into (default: the first folder)')
      .option('--shards <n>', 'the sweep ran as N shards (i/N): name the shards that are missing or incomplete (default for DIR/shards/i folders of umbra export slurm: from DIR/sweep.json)')
      .option('--json', 'print JSON (also when the sweep is incomplete: which shards and jobs are missing)')
      .action(async (dirs: string[], opts: { out?: string; shards?: string; json?: boolean }) => {
        const { sweepCompleteness, assertSweepComplete, exportedShardCount, IncompleteSweepError } = await import('../../export/shard-status.js');
        // folders laid out by `umbra export slurm --out DIR` (DIR/shards/i) carry their shard count in DIR/sweep.json
        const shardCount = opts.shards !== undefined ? parseIntOption('--shards', opts.shards, 1, 100_000) : (exportedShardCount(dirs) ?? undefined);
        const { mergeSweeps } = await import('../../sweep/merge.js');
        const { umbraVersion } = await import('../main.js');
        // check before writing anything: an incomplete merge must not leave results that look complete
        try {
          const c = sweepCompleteness(dirs, shardCount, opts.out);
          assertSweepComplete(c, shardCount);
        } catch (err) {
          if (opts.json && err instanceof IncompleteSweepError) {
            const c = err.completeness;
            printJson({ ok: false, error: err.message, jobs: c.jobs, done: c.done, missingJobs: c.missingJobs, emptyFolders: c.emptyFolders, unfinishedShards: c.unfinishedShards });
          }
          throw err;
        }
        const present = shardCount === undefined ? dirs : await existingRuns(dirs);
        const r = mergeSweeps(present, opts.out, umbraVersion());
        if (opts.json) return printJson({ ok: true, out: r.outDir, jobs: r.jobs, copied: r.copied, results: r.results.policies });
        console.log(resultsTable(r.results));
        console.log(`merged ${present.length} folder(s) into ${r.outDir}: ${r.jobs} jobs (${r.copied} copied); results.json, results.csv written`);
      });
  },
};

/** The folders that hold a run (a shard that never started has none; its jobs were found elsewhere). */
async function existingRuns(dirs: string[]): Promise<string[]> {
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  return dirs.filter((d) => existsSync(join(d, 'run.json')));
}
