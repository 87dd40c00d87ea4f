import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { parseIntOption } from '../parse-options.js';
import { formatTable, printJson } from '../output.js';
import { UsageError } from '../../../util/errors.js';

interface Options {
  ticks: string;
  warmup: string;
  first: string;
  second: string;
  policy?: string[];
  json?: boolean;
}

export const policyBenchCommand: CliCommand = {
  register(program: Command) {
    program
      .command('policy-bench')
      .description('decide() cost per tick of every policy on a deterministic synthetic 64-task snapshot stream (4 first-class, 60 second-class by default)')
      .option('--ticks <n>', 'timed ticks', '1000')
      .option('--warmup <n>', 'untimed ticks first', '300')
      .option('--first <n>', 'first-class tasks', '4')
      .option('--second <n>', 'second-class tasks', '60')
      .option('--policy <name...>', 'only these policies')
      .option('--json', 'print JSON')
      .action(async (opts: Options) => {
        const { benchPolicies } = await import('../../../policies/bench.js');
        const { POLICY_NAMES } = await import('../../../policies/registry.js');
        for (const p of opts.policy ?? []) if (!(POLICY_NAMES as readonly string[]).includes(p)) throw new UsageError(`--policy: unknown policy "${p}"; known: ${POLICY_NAMES.join(', ')}`);
        const res = benchPolicies({
          ticks: parseIntOption('--ticks', opts.ticks, 1),
          warmupTicks: parseIntOption('--warmup', opts.warmup, 0),
          firstClass: parseIntOption('--first', opts.first, 0, 64),
          secondClass: parseIntOption('--second', opts.second, 0, 1000),
          policies: opts.policy ?? POLICY_NAMES,
        });
        if (opts.json) return printJson(res);
        console.log(formatTable(['policy', 'decide() us/tick (mean)', 'median', 'p99', 'actions/tick'], Object.entries(res).map(([k, v]) => [k, v.decideUsPerTick, v.decideUsMedian, v.decideUsP99, v.actionsPerTick])));
      });
  },
};
