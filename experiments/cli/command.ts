import type { Command } from 'commander';

/**
 * One CLI subcommand. Each lives in its own file under experiments/cli/commands/
 * and keeps its module-level imports light (import heavy libraries such as tfjs
 * inside the action), so `umbra --help` starts fast.
 */
export interface CliCommand {
  register(program: Command): void;
}

/** Parse an integer option or throw a UsageError naming the option. */
export { parseIntOption, parseFloatOption } from './parse-options.js';
