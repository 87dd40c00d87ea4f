// Pre-training of the LSTM on a population of similar tasks: windows of the
// scale-free features (features.ts) cut from the TRAINING part (first
// floor(0.8 n) points) of every series under a traces folder, so hold-out
// scores stay honest. Deterministic: initial weights and the sampling and
// shuffling of windows all come from util/rng.ts, and training runs on tfjs's
// single-threaded wasm backend, whose arithmetic does not vary run to run, so
// the same traces and seed give the same weights file byte for byte.
//
// Loss: mean absolute error, so the network learns the conditional median of
// the change to come, which is what MASE (a mean absolute error) rewards.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { rngFor, type Rng } from '../../../util/rng.js';
import { InputError } from '../../../util/errors.js';
import { loadSeriesCsv } from '../../../traces/series-csv.js';
import { clip, LSTM_INPUTS, seriesFeatures } from './features.js';
import { LSTM_WEIGHTS_FORMAT, type LstmWeights } from './weights.js';
import { loadTfjs } from './tfjs-backend.js';

export interface TrainLstmOptions {
  tracesDir: string;
  seed: number;
  units: number;
  window: number;
  horizons: number;
  /** At most this many windows sampled from each series (so long series do not dominate). */
  windowsPerSeries: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Fraction held out at the end of each series and never trained on. */
  holdout: number;
}

export const TRAIN_LSTM_DEFAULTS: Omit<TrainLstmOptions, 'tracesDir' | 'seed'> = {
  units: 16,
  window: 32,
  horizons: 8,
  windowsPerSeries: 600,
  epochs: 12,
  batchSize: 64,
  learningRate: 0.005,
  holdout: 0.2,
};

/** Every .csv under dir, sorted, as paths relative to dir. */
export function listTraceFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true, encoding: 'utf8' });
  } catch {
    throw new InputError('cannot read traces folder', dir);
  }
  return entries.filter((f) => f.endsWith('.csv')).map((f) => f.split('\\').join('/')).sort();
}

interface Windows {
  x: Float32Array; // N x W x inputs
  y: Float32Array; // N x K
  n: number;
  perSeries: { file: string; trainPoints: number; windows: number }[];
}

function buildWindows(files: string[], series: Float64Array[], o: TrainLstmOptions, rng: Rng): Windows {
  const W = o.window;
  const K = o.horizons;
  const chunksX: Float32Array[] = [];
  const chunksY: Float32Array[] = [];
  const perSeries: Windows['perSeries'] = [];
  let total = 0;
  series.forEach((values, s) => {
    const nTrain = Math.floor((1 - o.holdout) * values.length);
    const train = values.subarray(0, nTrain);
    const { x, scale } = seriesFeatures(train);
    // A window ends at e (inclusive) and needs targets up to e + K inside the training part.
    const first = W - 1;
    const last = nTrain - 1 - K;
    const avail = last - first + 1;
    if (avail <= 0) {
      perSeries.push({ file: files[s], trainPoints: nTrain, windows: 0 });
      return;
    }
    const ends = Array.from({ length: avail }, (_, i) => first + i);
    const take = Math.min(avail, o.windowsPerSeries);
    // Partial Fisher–Yates: a uniform sample without replacement.
    for (let i = 0; i < take; i++) {
      const j = i + rng.int(avail - i);
      [ends[i], ends[j]] = [ends[j], ends[i]];
    }
    const chosen = ends.slice(0, take).sort((a, b) => a - b);
    const cx = new Float32Array(take * W * LSTM_INPUTS);
    const cy = new Float32Array(take * K);
    chosen.forEach((e, w) => {
      const start = e - W + 1;
      cx.set(x.subarray(start * LSTM_INPUTS, (e + 1) * LSTM_INPUTS), w * W * LSTM_INPUTS);
      for (let k = 1; k <= K; k++) cy[w * K + k - 1] = clip((train[e + k] - train[e]) / scale[e]);
    });
    chunksX.push(cx);
    chunksY.push(cy);
    total += take;
    perSeries.push({ file: files[s], trainPoints: nTrain, windows: take });
  });
  const xAll = new Float32Array(total * W * LSTM_INPUTS);
  const yAll = new Float32Array(total * K);
  let ox = 0;
  let oy = 0;
  for (let i = 0; i < chunksX.length; i++) {
    xAll.set(chunksX[i], ox);
    yAll.set(chunksY[i], oy);
    ox += chunksX[i].length;
    oy += chunksY[i].length;
  }
  return { x: xAll, y: yAll, n: total, perSeries };
}

/** Glorot-uniform initial weights drawn from util/rng.ts (tfjs's own initialisers are not seeded from it). */
function glorot(rng: Rng, fanIn: number, fanOut: number, count: number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const a = new Float32Array(count);
  for (let i = 0; i < count; i++) a[i] = (2 * rng.next() - 1) * limit;
  return a;
}

export async function trainLstm(
  opts: Pick<TrainLstmOptions, 'tracesDir' | 'seed'> & Partial<TrainLstmOptions>,
  log: (line: string) => void = () => {},
): Promise<LstmWeights> {
  const o: TrainLstmOptions = { ...TRAIN_LSTM_DEFAULTS, ...opts };
  const files = listTraceFiles(o.tracesDir);
  if (files.length === 0) throw new InputError('no .csv series found', o.tracesDir);
  const series: Float64Array[] = [];
  for (const f of files) series.push((await loadSeriesCsv(join(o.tracesDir, f))).values);
  const data = buildWindows(files, series, o, rngFor(o.seed, 'lstm/windows'));
  if (data.n < o.batchSize) throw new InputError(`only ${data.n} training windows; need at least one batch of ${o.batchSize}`, o.tracesDir);
  log(`lstm: ${data.n} windows of ${o.window} steps from ${files.length} series`);

  const tf = await loadTfjs();
  const U = o.units;
  const W = o.window;
  const K = o.horizons;
  const model = tf.sequential();
  model.add(tf.layers.lstm({ units: U, inputShape: [W, LSTM_INPUTS], recurrentActivation: 'sigmoid', activation: 'tanh' }));
  model.add(tf.layers.dense({ units: K }));
  const initRng = rngFor(o.seed, 'lstm/init');
  const bias = new Float32Array(4 * U);
  bias.fill(1, U, 2 * U); // forget-gate bias 1 (Jozefowicz et al. 2015)
  model.setWeights([
    tf.tensor2d(glorot(initRng, LSTM_INPUTS, 4 * U, LSTM_INPUTS * 4 * U), [LSTM_INPUTS, 4 * U]),
    tf.tensor2d(glorot(initRng, U, 4 * U, U * 4 * U), [U, 4 * U]),
    tf.tensor1d(bias),
    tf.tensor2d(glorot(initRng, U, K, U * K), [U, K]),
    tf.tensor1d(new Float32Array(K)),
  ]);
  model.compile({ optimizer: tf.train.adam(o.learningRate), loss: 'meanAbsoluteError' });

  const shuffleRng = rngFor(o.seed, 'lstm/shuffle');
  const order = Array.from({ length: data.n }, (_, i) => i);
  const B = o.batchSize;
  const xs = new Float32Array(B * W * LSTM_INPUTS);
  const ys = new Float32Array(B * K);
  const stride = W * LSTM_INPUTS;
  let lastLoss = NaN;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = shuffleRng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    let sum = 0;
    let batches = 0;
    // Whole batches only: every step then has the same shape (and cost).
    for (let b = 0; b + B <= data.n; b += B) {
      for (let r = 0; r < B; r++) {
        const idx = order[b + r];
        xs.set(data.x.subarray(idx * stride, (idx + 1) * stride), r * stride);
        ys.set(data.y.subarray(idx * K, (idx + 1) * K), r * K);
      }
      const xt = tf.tensor3d(xs, [B, W, LSTM_INPUTS]);
      const yt = tf.tensor2d(ys, [B, K]);
      const l = (await model.trainOnBatch(xt, yt)) as number;
      tf.dispose([xt, yt]);
      sum += l;
      batches++;
    }
    lastLoss = sum / batches;
    log(`lstm: epoch ${epoch + 1}/${o.epochs} mean absolute error ${lastLoss.toFixed(5)}`);
  }

  const [kernel, recurrent, b, dk, db] = model.getWeights().map((t) => Array.from(t.dataSync()));
  model.dispose();
  return {
    format: LSTM_WEIGHTS_FORMAT,
    units: U,
    inputs: LSTM_INPUTS,
    horizons: K,
    window: W,
    kernel,
    recurrentKernel: recurrent,
    bias: b,
    denseKernel: dk,
    denseBias: db,
    training: {
      command: `umbra train-lstm --traces DIR --seed ${o.seed}`,
      seed: o.seed,
      backend: tf.getBackend(),
      loss: 'meanAbsoluteError',
      units: U,
      window: W,
      horizons: K,
      windowsPerSeries: o.windowsPerSeries,
      epochs: o.epochs,
      batchSize: B,
      learningRate: o.learningRate,
      holdout: o.holdout,
      finalLoss: Number(lastLoss.toPrecision(6)),
      series: data.perSeries,
    },
  };
}

/** Stable text form: one key per line, each weight array on one line. */
export function formatLstmWeights(w: LstmWeights): string {
  const lines = Object.entries(w).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n${lines.join(',\n')}\n}\n`;
}
