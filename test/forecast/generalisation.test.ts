// The blend's hard targets, checked on data: on the shipped real series its
// mean MASE at H=1 and H=5 is no worse than any single model's and than R's
// best (R_BASELINE.md); and the SAME configuration, untouched, does the same on
// synthetic series of kinds it was never tuned on (seasonal, trending, level
// shifts, spikes, random walk, AR(2)), staying close to the best model of each.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rngFor } from '../../util/rng.js';
import { tracesDir } from './helpers.js';
import { parseRBaseline, TABLE_MODELS } from '../../experiments/cli/commands/forecast-table.js';
import { listTraceFiles } from '../../policies/forecast/lstm/train.js';
import { loadSeriesCsv } from '../../traces/series-csv.js';
import { createForecaster } from '../../policies/forecast/forecaster.js';
import { rollingOrigin, type Series } from '../../policies/forecast/evaluate.js';

function masePerModel(series: Series[], h: number): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const m of TABLE_MODELS) out[m] = series.map((s) => rollingOrigin(s, createForecaster(m), h, 0.2).mase!);
  return out;
}
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

function synthetic(n: number): Record<string, Series> {
  const g = (s: string) => rngFor(2024, `test/synthetic/${s}`);
  const mk = (f: (t: number) => number): Series => {
    const values = Float64Array.from({ length: n }, (_, t) => f(t));
    return { values, t: Float64Array.from({ length: n }, (_, i) => i * 60), stepSeconds: 60 };
  };
  const r = { s: g('seasonal'), tr: g('trend'), ls: g('shift'), sp: g('spike'), rw: g('walk'), ar: g('ar') };
  let level = 30;
  let walk = 50;
  let a1 = 0;
  let a2 = 0;
  return {
    seasonal: mk((t) => 50 + 20 * Math.sin((2 * Math.PI * t) / 48) + 3 * r.s.normal()),
    trending: mk((t) => 10 + 0.05 * t + 2 * r.tr.normal()),
    levelShifts: mk(() => {
      if (r.ls.next() < 0.005) level = 10 + 80 * r.ls.next();
      return level + 2 * r.ls.normal();
    }),
    spikes: mk(() => 20 + r.sp.normal() + (r.sp.next() < 0.05 ? 40 * r.sp.next() : 0)),
    randomWalk: mk(() => (walk += r.rw.normal())),
    ar2: mk(() => {
      const v = 0.5 * a1 + 0.3 * a2 + r.ar.normal();
      a2 = a1;
      a1 = v;
      return 40 + v;
    }),
  };
}

describe('blend generalises', () => {
  it('real series: mean MASE no worse than every single model and than R\'s best', async () => {
    const dir = tracesDir();
    const rMean = parseRBaseline(readFileSync(join(dir, 'R_BASELINE.md'), 'utf8')).get('mean MASE')!;
    const series: Series[] = [];
    for (const f of listTraceFiles(dir)) series.push(await loadSeriesCsv(join(dir, f)));
    for (const h of [1, 5]) {
      const m = masePerModel(series, h);
      const blend = mean(m.blend);
      for (const name of TABLE_MODELS) expect(blend, `h${h} vs ${name}`).toBeLessThanOrEqual(mean(m[name]));
      const rBest = Math.min(rMean[`naive h${h}`], rMean[`ets h${h}`], rMean[`auto.arima h${h}`]);
      expect(blend, `h${h} vs R`).toBeLessThanOrEqual(rBest);
    }
  });

  it('synthetic series: best mean MASE, and within 10% of the best model on each kind', () => {
    const s = synthetic(2000);
    const names = Object.keys(s);
    for (const h of [1, 5]) {
      const m = masePerModel(Object.values(s), h);
      for (const name of TABLE_MODELS) expect(mean(m.blend), `h${h} vs ${name}`).toBeLessThanOrEqual(mean(m[name]));
      names.forEach((kind, i) => {
        const best = Math.min(...TABLE_MODELS.filter((x) => x !== 'blend').map((x) => m[x][i]));
        expect(m.blend[i], `${kind} h${h}`).toBeLessThanOrEqual(1.1 * best);
      });
    }
  });
});
