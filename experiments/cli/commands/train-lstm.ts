import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CliCommand } from '../command.js';
import { parseFloatOption, parseIntOption } from '../parse-options.js';
import { printJson } from '../output.js';
import { writeFileAtomic } from '../../../util/atomic-write.js';
import { UsageError } from '../../../util/errors.js';

interface TrainLstmCliOptions {
  traces?: string;
  seed: string;
  out?: string;
  units?: string;
  window?: string;
  horizons?: string;
  windowsPerSeries?: string;
  epochs?: string;
  batchSize?: string;
  learningRate?: string;
  json?: boolean;
}

/** Repo-relative defaults, valid from dist/experiments/cli/commands/. */
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export function defaultTracesDir(): string | undefined {
  for (const d of [`${repoRoot}traces`, `${repoRoot}../shared/traces`]) {
    if (existsSync(d) && existsSync(`${d}/MANIFEST.md`)) return d;
  }
  return undefined;
}

export const trainLstmCommand: CliCommand = {
  register(program: Command) {
    program
      .command('train-lstm')
      .description('pre-train the LSTM forecaster on the training parts (first 80%) of every series in a traces folder; deterministic for a seed')
      .option('--traces <dir>', 'folder of t_s,value series (default: the repo traces/ or ../shared/traces)')
      .option('--seed <n>', 'seed of weight init, window sampling and shuffling', '1')
      .option('--out <file>', 'weights JSON to write', `${repoRoot}policies/forecast/weights/lstm16.json`)
      .option('--units <n>', 'LSTM units (default 16)')
      .option('--window <n>', 'training window, steps (default 32)')
      .option('--horizons <n>', 'outputs: 1..K steps ahead (default 8)')
      .option('--windows-per-series <n>', 'windows sampled per series (default 600)')
      .option('--epochs <n>', 'epochs (default 12)')
      .option('--batch-size <n>', 'batch size (default 64)')
      .option('--learning-rate <x>', 'Adam learning rate (default 0.005)')
      .option('--json', 'print a JSON summary')
      .action(async (opts: TrainLstmCliOptions) => {
        const tracesDir = opts.traces ?? defaultTracesDir();
        if (!tracesDir) throw new UsageError('no traces folder found: pass --traces DIR');
        const int = (name: string, v: string | undefined, min: number) => (v === undefined ? undefined : parseIntOption(name, v, min));
        const cfg = {
          tracesDir,
          seed: parseIntOption('--seed', opts.seed, 0),
          units: int('--units', opts.units, 1),
          window: int('--window', opts.window, 1),
          horizons: int('--horizons', opts.horizons, 1),
          windowsPerSeries: int('--windows-per-series', opts.windowsPerSeries, 1),
          epochs: int('--epochs', opts.epochs, 1),
          batchSize: int('--batch-size', opts.batchSize, 1),
          learningRate: opts.learningRate === undefined ? undefined : parseFloatOption('--learning-rate', opts.learningRate, 1e-9, 10),
        };
        const clean = Object.fromEntries(Object.entries(cfg).filter(([, v]) => v !== undefined)) as typeof cfg & { tracesDir: string; seed: number };
        const { trainLstm, formatLstmWeights } = await import('../../../policies/forecast/lstm/train.js');
        const started = Date.now();
        const w = await trainLstm(clean, (line) => process.stderr.write(line + '\n'));
        const out = opts.out!;
        writeFileAtomic(out, formatLstmWeights(w));
        // Wall time goes to stderr: stdout stays the same for the same input and seed.
        process.stderr.write(`train-lstm: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        const summary = { out, seed: clean.seed, finalLoss: w.training.finalLoss };
        if (opts.json) printJson(summary);
        else console.log(`wrote ${out} (final training mean absolute error ${summary.finalLoss})`);
      });
  },
};
