// The LSTM: plain-JS inference equals tfjs's predict(), the shipped weights
// load and forecast sensibly, online fine-tuning learns, and `umbra
// train-lstm` is reproducible byte for byte.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rngFor } from '../../util/rng.js';
import { loadTfjs } from '../../policies/forecast/lstm/tfjs-backend.js';
import { LstmCell, denseOut } from '../../policies/forecast/lstm/cell.js';
import { lstmWeightsCached, parseLstmWeights, type LstmWeights } from '../../policies/forecast/lstm/weights.js';
import { LstmModel } from '../../policies/forecast/impl/lstm.js';
import { runCli, tracesDir } from './helpers.js';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'umbra-lstm-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Random weights in the shipped format, to check the cell beyond one trained network. */
function randomWeights(units: number, inputs: number, horizons: number, seed: number): LstmWeights {
  const rng = rngFor(seed, 'test/lstm-weights');
  const arr = (n: number, s: number) => Array.from({ length: n }, () => (2 * rng.next() - 1) * s);
  return { format: 'umbra-lstm-v1', units, inputs, horizons, window: 16, kernel: arr(inputs * 4 * units, 0.6), recurrentKernel: arr(units * 4 * units, 0.4), bias: arr(4 * units, 0.5), denseKernel: arr(units * horizons, 0.5), denseBias: arr(horizons, 0.2), training: {} };
}

describe('LSTM inference in plain JS', () => {
  it('matches tfjs predict() within 1e-5 on random windows', async () => {
    const tf = await loadTfjs();
    for (const w of [lstmWeightsCached(), randomWeights(16, 2, 8, 1), randomWeights(5, 2, 3, 2)]) {
      const model = tf.sequential();
      model.add(tf.layers.lstm({ units: w.units, inputShape: [null, w.inputs], recurrentActivation: 'sigmoid', activation: 'tanh' }));
      model.add(tf.layers.dense({ units: w.horizons }));
      model.setWeights([
        tf.tensor2d(w.kernel, [w.inputs, 4 * w.units]),
        tf.tensor2d(w.recurrentKernel, [w.units, 4 * w.units]),
        tf.tensor1d(w.bias),
        tf.tensor2d(w.denseKernel, [w.units, w.horizons]),
        tf.tensor1d(w.denseBias),
      ]);
      const rng = rngFor(11, `test/windows/${w.units}`);
      for (const len of [1, 8, 32, 100]) {
        const batch = 6;
        const x = new Float32Array(batch * len * w.inputs).map(() => (rng.next() * 2 - 1) * 4);
        const pred = model.predict(tf.tensor3d(x, [batch, len, w.inputs])) as import('@tensorflow/tfjs').Tensor;
        const expected = pred.dataSync();
        const cell = new LstmCell(w);
        const out = new Float64Array(w.horizons);
        for (let b = 0; b < batch; b++) {
          cell.reset();
          for (let t = 0; t < len; t++) cell.step(x.subarray((b * len + t) * w.inputs, (b * len + t + 1) * w.inputs));
          denseOut(w, cell.h, out);
          for (let k = 0; k < w.horizons; k++) expect(Math.abs(out[k] - expected[b * w.horizons + k])).toBeLessThan(1e-5);
        }
      }
      model.dispose();
    }
  });

  it('rejects a malformed weights file with a clear error', () => {
    expect(() => parseLstmWeights('{"format":"umbra-lstm-v1","units":2}', 'w.json')).toThrow(/w\.json: field "inputs"/);
    expect(() => parseLstmWeights('nope', 'w.json')).toThrow(/not JSON/);
  });
});

describe('LSTM forecaster', () => {
  it('fine-tuning the output layer online lowers the error on a pattern the population did not show', () => {
    // A sawtooth: +1 per step for 6 steps, then back down.
    const saw = (t: number) => 100 + (t % 7) * 3;
    const err = (rate: number) => {
      const m = new LstmModel(lstmWeightsCached(), { fineTuneRate: rate });
      m.track(1);
      let e = 0;
      for (let t = 0; t < 6000; t++) {
        const f = m.forecast(1);
        if (t >= 5000) e += Math.abs(f - saw(t));
        m.observe(saw(t));
      }
      return e / 1000;
    };
    expect(err(0.005)).toBeLessThan(0.8 * err(0));
  });
});

describe('umbra train-lstm', () => {
  it('same traces and seed give the same file byte for byte; another seed does not', async () => {
    const small = ['--units', '4', '--window', '8', '--horizons', '3', '--windows-per-series', '6', '--epochs', '2', '--batch-size', '16'];
    const run = async (seed: number, out: string) => {
      const r = await runCli(['train-lstm', '--traces', tracesDir(), '--seed', String(seed), '--out', join(dir, out), ...small, '--json']);
      expect(r.code, r.stderr).toBe(0);
      return readFileSync(join(dir, out), 'utf8');
    };
    const a = await run(3, 'a.json');
    const b = await run(3, 'b.json');
    const c = await run(4, 'c.json');
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    const w = parseLstmWeights(a, 'a.json');
    expect(w.units).toBe(4);
    expect(w.training.seed).toBe(3);
    // Trained only on the first floor(0.8 n) points of each series.
    const series = w.training.series as { file: string; trainPoints: number }[];
    expect(series.length).toBe(17);
    for (const s of series) {
      const n = readFileSync(join(tracesDir(), s.file), 'utf8').trim().split('\n').length - 1;
      expect(s.trainPoints, s.file).toBe(Math.floor(0.8 * n));
    }
  });

  it('bad traces folder: exit 2', async () => {
    const r = await runCli(['train-lstm', '--traces', join(dir, 'missing'), '--seed', '1', '--out', join(dir, 'x.json')]);
    expect(r.code).toBe(2);
  });
});
