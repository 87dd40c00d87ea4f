import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { parseFloatOption, parseIntOption } from '../parse-options.js';
import { formatTable, printJson } from '../output.js';
import { InputError, UsageError } from '../../../util/errors.js';

interface ForecastCliOptions {
  trace: string;
  column?: string;
  model: string;
  horizon: string;
  holdout: string;
  lstmWeights?: string;
  json?: boolean;
}

export const forecastCommand: CliCommand = {
  register(program: Command) {
    program
      .command('forecast')
      .description('rolling-origin evaluation of a forecaster on the last part of a series (the protocol of shared/traces/R_BASELINE.md): sMAPE, MASE, cost')
      .requiredOption('--trace <file>', 'CSV with a header (t_s,value or any numeric column)')
      .option('--column <name>', 'column to forecast (default: "value", else the last column)')
      .requiredOption('--model <name>', 'naive, ewma, median, holt-winters, ar, prophet, lstm or blend')
      .requiredOption('--horizon <steps>', 'steps ahead; only that step is scored')
      .option('--holdout <fraction>', 'fraction of the series held out at the end', '0.2')
      .option('--lstm-weights <file>', 'LSTM weights JSON (default: the shipped policies/forecast/weights/lstm16.json)')
      .option('--json', 'print JSON')
      .action(async (opts: ForecastCliOptions) => {
        const { FORECASTER_NAMES, createForecaster } = await import('../../../policies/forecast/forecaster.js');
        const { rollingOrigin, checkSeriesLength } = await import('../../../policies/forecast/evaluate.js');
        const { loadSeriesCsv } = await import('../../../traces/series-csv.js');
        if (!FORECASTER_NAMES.includes(opts.model)) throw new UsageError(`--model: unknown forecaster "${opts.model}"; known: ${FORECASTER_NAMES.join(', ')}`);
        const horizon = parseIntOption('--horizon', opts.horizon, 1);
        const holdout = parseFloatOption('--holdout', opts.holdout, 0, 1);
        if (holdout <= 0 || holdout >= 1) throw new UsageError(`--holdout must be strictly between 0 and 1, got ${holdout}`);
        const series = await loadSeriesCsv(opts.trace, { column: opts.column });
        const problem = checkSeriesLength(series.values.length, horizon, holdout);
        if (problem) throw new InputError(`too short for --horizon ${horizon} with --holdout ${holdout}: ${problem}`, opts.trace);
        const forecaster = createForecaster(opts.model, { lstmWeightsPath: opts.lstmWeights });
        const r = rollingOrigin(series, forecaster, horizon, holdout);
        const out = { model: r.model, horizon: r.horizon, n: r.n, smape: round(r.smape, 4), mase: r.mase === null ? null : round(r.mase, 4), usPerPrediction: round(r.usPerPrediction, 3) };
        if (opts.json) return printJson(out);
        console.log(formatTable(['model', 'horizon', 'n', 'sMAPE %', 'MASE', 'us/prediction'], [[out.model, out.horizon, out.n, out.smape, out.mase ?? 'undefined (flat training part)', out.usPerPrediction]]));
      });
  },
};

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
