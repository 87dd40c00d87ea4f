// The `umbra` command: one subcommand per file in ./commands/. Exit codes:
// 0 success, 1 runtime failure, 2 bad usage or invalid input. Errors print one
// line on stderr (set UMBRA_DEBUG=1 for the stack).
import { Command, CommanderError } from 'commander';
import { exitCodeFor } from '../../util/errors.js';
import type { CliCommand } from './command.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../util/paths.js';

import { nativeCommand } from './commands/native.js';
import { probeCommand } from './commands/probe.js';
import { cleanupCommand } from './commands/cleanup.js';
import { calibrateCommand } from './commands/calibrate.js';
import { compareCommand } from './commands/compare.js';
import { cacheSimCommand } from './commands/cache-sim.js';
import { forecastCommand } from './commands/forecast.js';
import { forecastTableCommand } from './commands/forecast-table.js';
import { trainLstmCommand } from './commands/train-lstm.js';
import { llcValidateCommand } from './commands/llc-validate.js';
import { benchCommand } from './commands/bench.js';
import { dramSimCommand } from './commands/dram-sim.js';
import { policySeedDatasetCommand } from './commands/policy-seed-dataset.js';
import { policyTrainInterferenceCommand } from './commands/policy-train-interference.js';
import { policyBenchCommand } from './commands/policy-bench.js';
import { traceCommand } from './commands/trace.js';
import { validateCommand } from './commands/validate.js';
import { runCommand } from './commands/run.js';
import { mergeCommand } from './commands/merge.js';
import { exportCommand } from './commands/export.js';
import { reportCommand } from './commands/report.js';
import { demoCommand } from './commands/demo.js';

/** Every subcommand, in the order `umbra --help` lists them. */
const COMMANDS: CliCommand[] = [
  nativeCommand,
  probeCommand,
  cleanupCommand,
  calibrateCommand,
  compareCommand,
  cacheSimCommand,
  forecastCommand,
  forecastTableCommand,
  trainLstmCommand,
  llcValidateCommand,
  benchCommand,
  dramSimCommand,
  policySeedDatasetCommand,
  policyTrainInterferenceCommand,
  policyBenchCommand,
  traceCommand,
  validateCommand,
  runCommand,
  mergeCommand,
  exportCommand,
  reportCommand,
  demoCommand,
];

export function umbraVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('umbra')
    .description('predictive resource shadowing: policy engine, cycle-approximate simulator, real-host runner')
    .version(umbraVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const c of COMMANDS) c.register(program);
  program.commands.forEach((c) => c.exitOverride());
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has already printed its message (or the help text)
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return 0;
      return 2;
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`umbra: ${msg}\n`);
    if (process.env.UMBRA_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
    return exitCodeFor(err);
  }
}
