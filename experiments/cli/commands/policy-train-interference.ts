import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { parseFloatOption, parseIntOption } from '../parse-options.js';
import { printJson } from '../output.js';
import { writeFileAtomic } from '../../../util/atomic-write.js';
import { shipped } from '../../../util/paths.js';

interface Options {
  dataset?: string;
  seed: string;
  out?: string;
  hidden?: string;
  epochs?: string;
  batchSize?: string;
  learningRate?: string;
  json?: boolean;
}

export const policyTrainInterferenceCommand: CliCommand = {
  register(program: Command) {
    program
      .command('policy-train-interference')
      .description('train the learned interference model (tfjs, wasm backend) on a dataset of (profile pair -> slowdown) JSON lines; deterministic for a dataset and seed')
      .option('--dataset <file>', 'JSON lines (format: policies/interference/dataset.ts; default: the shipped seed dataset)')
      .option('--seed <n>', 'seed of the holdout split, weight init and shuffling', '1')
      .option('--out <file>', 'weights JSON to write (default: the shipped policies/interference/weights/interference-mlp.json)')
      .option('--hidden <n>', 'hidden units (default 16)')
      .option('--epochs <n>', 'epochs (default 150)')
      .option('--batch-size <n>', 'batch size (default 64)')
      .option('--learning-rate <x>', 'Adam learning rate (default 0.01)')
      .option('--json', 'print a JSON summary')
      .action(async (opts: Options) => {
        const int = (name: string, v: string | undefined) => (v === undefined ? undefined : parseIntOption(name, v, 1));
        const cfg = {
          datasetPath: opts.dataset ?? shipped('policies/interference/data/seed-pairs.jsonl'),
          seed: parseIntOption('--seed', opts.seed, 0),
          hidden: int('--hidden', opts.hidden),
          epochs: int('--epochs', opts.epochs),
          batchSize: int('--batch-size', opts.batchSize),
          learningRate: opts.learningRate === undefined ? undefined : parseFloatOption('--learning-rate', opts.learningRate, 1e-9, 10),
        };
        const clean = Object.fromEntries(Object.entries(cfg).filter(([, v]) => v !== undefined)) as typeof cfg;
        const { trainInterferenceModel, formatMlpWeights } = await import('../../../policies/interference/train.js');
        const started = Date.now();
        const w = await trainInterferenceModel(clean, (line) => process.stderr.write(line + '\n'));
        const out = opts.out ?? shipped('policies/interference/weights/interference-mlp.json');
        writeFileAtomic(out, formatMlpWeights(w));
        process.stderr.write(`policy-train-interference: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        const summary = { out, seed: clean.seed, residualSigma: w.residualSigma, training: w.training };
        if (opts.json) printJson(summary);
        else console.log(`wrote ${out} (residual sigma ${w.residualSigma}; held-out accuracy ${JSON.stringify(w.training.holdoutAccuracy)})`);
      });
  },
};
