import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { parseIntOption } from '../parse-options.js';
import { printJson } from '../output.js';
import { writeFileAtomic } from '../../../util/atomic-write.js';
import { shipped } from '../../../util/paths.js';

interface Options {
  seed: string;
  rows: string;
  out?: string;
  json?: boolean;
}

export const policySeedDatasetCommand: CliCommand = {
  register(program: Command) {
    program
      .command('policy-seed-dataset')
      .description('write the synthetic seed dataset of the learned interference model (JSON lines; analytic contention model, see policies/interference/seed-dataset.ts); deterministic for a seed')
      .option('--seed <n>', 'seed', '1')
      .option('--rows <n>', 'observations to write', '3000')
      .option('--out <file>', 'dataset to write (default: the shipped policies/interference/data/seed-pairs.jsonl)')
      .option('--json', 'print a JSON summary')
      .action(async (opts: Options) => {
        const seed = parseIntOption('--seed', opts.seed, 0);
        const rows = parseIntOption('--rows', opts.rows, 1, 10_000_000);
        const { generateSeedDataset, formatDataset } = await import('../../../policies/interference/seed-dataset.js');
        const data = generateSeedDataset(seed, rows);
        const out = opts.out ?? shipped('policies/interference/data/seed-pairs.jsonl');
        writeFileAtomic(out, formatDataset(data));
        const slow = data.map((r) => r.slowdown).sort((a, b) => a - b);
        const summary = { out, seed, rows, slowdownP50: Number(slow[Math.floor(rows / 2)].toPrecision(4)), slowdownP90: Number(slow[Math.floor(rows * 0.9)].toPrecision(4)) };
        if (opts.json) printJson(summary);
        else console.log(`wrote ${rows} rows to ${out} (slowdown p50 ${summary.slowdownP50}, p90 ${summary.slowdownP90})`);
      });
  },
};
