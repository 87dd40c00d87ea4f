import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliCommand } from '../command.js';
import { printJson } from '../output.js';
import { writeFileAtomic } from '../../../util/atomic-write.js';
import { UsageError } from '../../../util/errors.js';
import { defaultTracesDir } from './train-lstm.js';

interface ForecastTableCliOptions {
  traces?: string;
  json?: boolean;
  out?: string;
  lstmWeights?: string;
}

export const TABLE_MODELS = ['naive', 'ewma', 'median', 'holt-winters', 'ar', 'prophet', 'lstm', 'blend'];
export const TABLE_HORIZONS = [1, 5];

/** R's figures: series -> "naive h1" etc. -> MASE. */
export type RBaseline = Map<string, Record<string, number>>;

/** Parse the MASE table of R_BASELINE.md (header `| series | naive h1 | ...`, rows `| \`file\` | 0.923 | ...`). */
export function parseRBaseline(text: string): RBaseline {
  const out: RBaseline = new Map();
  let header: string[] | null = null;
  for (const line of text.split('\n')) {
    if (!line.trim().startsWith('|')) {
      header = null;
      continue;
    }
    const cells = line.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim().replace(/\*\*/g, '').replace(/`/g, ''));
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    if (header === null) {
      header = cells;
      continue;
    }
    const row: Record<string, number> = {};
    header.slice(1).forEach((h, i) => {
      const v = Number(cells[i + 1]);
      if (cells[i + 1] !== '' && Number.isFinite(v)) row[h] = v;
    });
    out.set(cells[0], row);
  }
  return out;
}

export const forecastTableCommand: CliCommand = {
  register(program: Command) {
    program
      .command('forecast-table')
      .description('MASE of every forecaster at H=1 and H=5 on every series in a traces folder, next to R forecast\'s figures (R_BASELINE.md)')
      .option('--traces <dir>', 'folder of series (default: the repo traces/ or ../shared/traces)')
      .option('--out <file>', 'also write the Markdown tables to this file')
      .option('--lstm-weights <file>', 'LSTM weights JSON (default: the shipped one)')
      .option('--json', 'print JSON')
      .action(async (opts: ForecastTableCliOptions) => {
        const dir = opts.traces ?? defaultTracesDir();
        if (!dir) throw new UsageError('no traces folder found: pass --traces DIR');
        const { createForecaster } = await import('../../../policies/forecast/forecaster.js');
        const { rollingOrigin, checkSeriesLength } = await import('../../../policies/forecast/evaluate.js');
        const { loadSeriesCsv } = await import('../../../traces/series-csv.js');
        const { listTraceFiles } = await import('../../../policies/forecast/lstm/train.js');
        const rPath = join(dir, 'R_BASELINE.md');
        const r = existsSync(rPath) ? parseRBaseline(readFileSync(rPath, 'utf8')) : new Map<string, Record<string, number>>();
        const files = listTraceFiles(dir);
        const rows: { series: string; mase: Record<string, number | null>; usPerPrediction: Record<string, number>; r: Record<string, number> }[] = [];
        for (const f of files) {
          const s = await loadSeriesCsv(join(dir, f));
          const mase: Record<string, number | null> = {};
          const us: Record<string, number> = {};
          for (const h of TABLE_HORIZONS) {
            if (checkSeriesLength(s.values.length, h, 0.2)) continue;
            for (const m of TABLE_MODELS) {
              const res = rollingOrigin(s, createForecaster(m, { lstmWeightsPath: opts.lstmWeights }), h, 0.2);
              mase[`${m} h${h}`] = res.mase;
              us[`${m} h${h}`] = res.usPerPrediction;
            }
          }
          rows.push({ series: f, mase, usPerPrediction: us, r: r.get(f) ?? {} });
        }
        const mean: Record<string, number> = {};
        const keys = TABLE_HORIZONS.flatMap((h) => TABLE_MODELS.map((m) => `${m} h${h}`));
        for (const k of keys) {
          const v = rows.map((row) => row.mase[k]).filter((x): x is number => typeof x === 'number');
          if (v.length) mean[k] = v.reduce((a, b) => a + b, 0) / v.length;
        }
        const rMean = r.get('mean MASE') ?? {};
        const md = markdown(rows, mean, rMean);
        if (opts.out) writeFileAtomic(opts.out, md);
        if (opts.json) {
          // Wall-clock costs are left out of the JSON so it is the same run to run.
          return printJson({ traces: dir, horizons: TABLE_HORIZONS, models: TABLE_MODELS, rows: rows.map(({ series, mase, r: rr }) => ({ series, mase, r: rr })), mean, rMean });
        }
        process.stdout.write(md);
      });
  },
};

function markdown(
  rows: { series: string; mase: Record<string, number | null>; r: Record<string, number> }[],
  mean: Record<string, number>,
  rMean: Record<string, number>,
): string {
  const rCols = ['naive', 'ets', 'auto.arima'];
  const f3 = (v: number | null | undefined) => (typeof v === 'number' ? v.toFixed(3) : '–');
  let text = '';
  for (const h of TABLE_HORIZONS) {
    const header = ['series', ...rCols.map((c) => `R ${c}`), ...TABLE_MODELS];
    const body = rows.map((row) => [`\`${row.series}\``, ...rCols.map((c) => f3(row.r[`${c} h${h}`])), ...TABLE_MODELS.map((m) => f3(row.mase[`${m} h${h}`]))]);
    body.push(['**mean MASE**', ...rCols.map((c) => f3(rMean[`${c} h${h}`])), ...TABLE_MODELS.map((m) => `**${f3(mean[`${m} h${h}`])}**`)]);
    text += `MASE at H=${h} (rolling origin over the last 20%, R_BASELINE.md protocol)\n\n`;
    text += `| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n`;
    text += body.map((b) => `| ${b.join(' | ')} |`).join('\n') + '\n\n';
  }
  return text;
}

