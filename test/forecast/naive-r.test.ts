// The evaluation protocol is R_BASELINE.md's: `naive` must reproduce R's naive
// MASE on every shipped series, to the 3 decimals R printed, at H=1 and H=5.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tracesDir } from './helpers.js';
import { parseRBaseline } from '../../experiments/cli/commands/forecast-table.js';
import { loadSeriesCsv } from '../../traces/series-csv.js';
import { createForecaster } from '../../policies/forecast/forecaster.js';
import { rollingOrigin } from '../../policies/forecast/evaluate.js';

const dir = tracesDir();
const r = parseRBaseline(readFileSync(join(dir, 'R_BASELINE.md'), 'utf8'));
const series = [...r.keys()].filter((k) => k.endsWith('.csv'));

describe('naive reproduces R forecast 8.20 naive()', () => {
  it('parses R_BASELINE.md: 17 series and the mean row', () => {
    expect(series.length).toBe(17);
    expect(r.get('mean MASE')?.['naive h1']).toBe(1.021);
  });

  for (const s of series) {
    it(s, async () => {
      const data = await loadSeriesCsv(join(dir, s));
      for (const h of [1, 5]) {
        const res = rollingOrigin(data, createForecaster('naive'), h, 0.2);
        expect(res.n).toBe(data.values.length - h + 1 - Math.floor(0.8 * data.values.length));
        expect(res.mase!.toFixed(3), `h=${h}`).toBe(r.get(s)![`naive h${h}`].toFixed(3));
      }
    });
  }

  it('the CLI prints the same figure', async () => {
    const { runCli } = await import('./helpers.js');
    const out = await runCli(['forecast', '--trace', join(dir, series[0]), '--model', 'naive', '--horizon', '5', '--json']);
    expect(out.code).toBe(0);
    const j = JSON.parse(out.stdout);
    expect(Object.keys(j)).toEqual(['model', 'horizon', 'n', 'smape', 'mase', 'usPerPrediction']);
    expect(j.mase.toFixed(3)).toBe(r.get(series[0])!['naive h5'].toFixed(3));
  });
});
