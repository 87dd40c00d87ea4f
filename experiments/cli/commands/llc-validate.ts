import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { formatTable, printJson } from '../output.js';
import { defaultMachine, loadMachineDescription } from '../../../sim/machine/machine-description.js';

export const llcValidateCommand: CliCommand = {
  register(program: Command) {
    program
      .command('llc-validate')
      .description('compare the fast LLC model with exact LRU replay on the shipped workloads (per-task miss ratios)')
      .option('--machine <file>', 'machine description (default: the built-in 16-core machine)')
      .option('--seed <n>', 'seed of the exact replay', '1')
      .option('--filter <text>', 'only cases whose name contains TEXT')
      .option('--json', 'print JSON')
      .action(async (opts: { machine?: string; seed: string; filter?: string; json?: boolean }) => {
        const { shippedValidationCases, validateCase } = await import('../../../sim/llc/llc-validate.js');
        const machine = opts.machine ? loadMachineDescription(opts.machine) : defaultMachine();
        const geometry = { sizeBytes: machine.llc.sizeBytes, ways: machine.llc.ways, lineBytes: machine.llc.lineBytes };
        const cases = shippedValidationCases(geometry).filter((c) => !opts.filter || c.name.includes(opts.filter));
        const results = [];
        for (const [i, c] of cases.entries()) {
          if (!opts.json && process.stderr.isTTY) process.stderr.write(`\r[${i + 1}/${cases.length}] ${c.name.padEnd(70)}`);
          results.push(validateCase(c, Number(opts.seed)));
        }
        if (!opts.json && process.stderr.isTTY) process.stderr.write('\r' + ' '.repeat(80) + '\r');
        const all = results.flatMap((r) => r.tasks);
        const summary = {
          cases: results.length,
          tasks: all.length,
          maxAbsErrorPct: Math.max(...all.map((t) => t.absErrorPct)),
          meanAbsErrorPct: all.reduce((s, t) => s + t.absErrorPct, 0) / Math.max(1, all.length),
        };
        if (opts.json) return printJson({ geometry, summary, results });
        console.log(
          formatTable(
            ['case', 'task', 'exact miss %', 'fast miss %', '|err| pp', 'exact occ ways', 'fast occ ways'],
            results.flatMap((r) => r.tasks.map((t) => [r.name, t.label, t.exactMissRatio * 100, t.fastMissRatio * 100, t.absErrorPct, t.exactOccupancyWays, t.fastOccupancyWays])),
          ),
        );
        console.log(`\n${summary.tasks} task results in ${summary.cases} cases: max |error| ${summary.maxAbsErrorPct.toFixed(2)} pp, mean ${summary.meanAbsErrorPct.toFixed(2)} pp (miss ratio, percentage points)`);
      });
  },
};
