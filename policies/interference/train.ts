// Training of the learned interference model with tfjs on the WebAssembly
// backend (the same loader the LSTM uses), deterministic for a dataset and a
// seed: the holdout split, the initial weights (Glorot uniform) and the batch
// order all come from util/rng.ts, and the wasm backend is single-threaded.
// The target is log(slowdown) (a multiplicative effect becomes additive; the
// squared error does not let a few huge slowdowns dominate). After training,
// the residual spread on the training rows is computed in plain JS (the same
// forward pass the policy runs) and shipped as residualSigma.
import { rngFor, type Rng } from '../../util/rng.js';
import { InputError } from '../../util/errors.js';
import { loadTfjs } from '../forecast/lstm/tfjs-backend.js';
import { loadDataset, rowSharing, type DatasetRow } from './dataset.js';
import { MODEL_FEATURE_NAMES, MODEL_INPUTS, modelInput } from './features.js';
import { Mlp, MLP_FORMAT, type MlpWeights } from './mlp.js';
import { FormulaPredictor } from './impl/formula.js';
import { normalCdf } from './predictor.js';

export interface TrainInterferenceOptions {
  datasetPath: string;
  seed: number;
  hidden: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Fraction of rows held out (never trained on) to report accuracy. */
  holdout: number;
  /** Slowdown counted as interference when scoring accuracy. */
  tolerableSlowdown: number;
}

export const TRAIN_INTERFERENCE_DEFAULTS: Omit<TrainInterferenceOptions, 'datasetPath' | 'seed'> = {
  hidden: 16,
  epochs: 150,
  batchSize: 64,
  learningRate: 0.01,
  holdout: 0.1,
  tolerableSlowdown: 1.1,
};

function toInput(r: DatasetRow): Float64Array {
  return modelInput({ first: Float64Array.from(r.first), second: Float64Array.from(r.second), load: r.load, sharing: Float64Array.from(rowSharing(r)) });
}

function glorot(rng: Rng, fanIn: number, fanOut: number): Float32Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return Float32Array.from({ length: fanIn * fanOut }, () => (2 * rng.next() - 1) * limit);
}

const r6 = (x: number) => Number(x.toPrecision(6));

export async function trainInterferenceModel(
  opts: Pick<TrainInterferenceOptions, 'datasetPath' | 'seed'> & Partial<TrainInterferenceOptions>,
  log: (line: string) => void = () => {},
): Promise<MlpWeights> {
  const o: TrainInterferenceOptions = { ...TRAIN_INTERFERENCE_DEFAULTS, ...opts };
  const rows = loadDataset(o.datasetPath);
  const order = rows.map((_, i) => i);
  const splitRng = rngFor(o.seed, 'interference/holdout');
  for (let i = order.length - 1; i > 0; i--) {
    const j = splitRng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nHold = Math.floor(rows.length * o.holdout);
  const hold = order.slice(0, nHold).sort((a, b) => a - b);
  const train = order.slice(nHold).sort((a, b) => a - b);
  if (train.length < o.batchSize) throw new InputError(`only ${train.length} training rows; need at least one batch of ${o.batchSize}`, o.datasetPath);
  const X = train.map((i) => toInput(rows[i]));
  const Y = train.map((i) => Math.log(rows[i].slowdown));
  log(`interference: ${train.length} training rows, ${hold.length} held out`);

  const tf = await loadTfjs();
  const H = o.hidden;
  const model = tf.sequential();
  model.add(tf.layers.dense({ units: H, activation: 'tanh', inputShape: [MODEL_INPUTS] }));
  model.add(tf.layers.dense({ units: 1 }));
  const initRng = rngFor(o.seed, 'interference/init');
  model.setWeights([
    tf.tensor2d(glorot(initRng, MODEL_INPUTS, H), [MODEL_INPUTS, H]),
    tf.tensor1d(new Float32Array(H)),
    tf.tensor2d(glorot(initRng, H, 1), [H, 1]),
    tf.tensor1d(new Float32Array(1)),
  ]);
  model.compile({ optimizer: tf.train.adam(o.learningRate), loss: 'meanSquaredError' });

  const shuffle = rngFor(o.seed, 'interference/shuffle');
  const idx = X.map((_, i) => i);
  const B = o.batchSize;
  const xs = new Float32Array(B * MODEL_INPUTS);
  const ys = new Float32Array(B);
  let lastLoss = NaN;
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (let i = idx.length - 1; i > 0; i--) {
      const j = shuffle.int(i + 1);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    let sum = 0;
    let n = 0;
    for (let b = 0; b + B <= idx.length; b += B) {
      for (let r = 0; r < B; r++) {
        xs.set(X[idx[b + r]], r * MODEL_INPUTS);
        ys[r] = Y[idx[b + r]];
      }
      const xt = tf.tensor2d(xs, [B, MODEL_INPUTS]);
      const yt = tf.tensor2d(ys, [B, 1]);
      sum += (await model.trainOnBatch(xt, yt)) as number;
      n++;
      tf.dispose([xt, yt]);
    }
    lastLoss = sum / n;
    if ((epoch + 1) % 25 === 0 || epoch === o.epochs - 1) log(`interference: epoch ${epoch + 1}/${o.epochs} mean squared error ${lastLoss.toFixed(6)}`);
  }
  const [k1, b1, k2, b2] = model.getWeights().map((t) => Array.from(t.dataSync()));
  model.dispose();

  const mlp = new Mlp({ inputs: MODEL_INPUTS, hidden: H, kernel1: k1, bias1: b1, kernel2: k2, bias2: b2 });
  let ss = 0;
  X.forEach((x, i) => {
    const e = mlp.forward(x) - Y[i];
    ss += e * e;
  });
  const sigma = Math.max(0.02, Math.sqrt(ss / X.length));
  // held-out scores: RMSE of log slowdown, and accuracy of "slowdown > tolerable" for this model and the formula
  const formula = new FormulaPredictor();
  let hss = 0;
  let hitL = 0;
  let hitF = 0;
  for (const i of hold) {
    const r = rows[i];
    const x = toInput(r);
    const y = mlp.forward(x);
    hss += (y - Math.log(r.slowdown)) ** 2;
    const truth = r.slowdown > o.tolerableSlowdown;
    if (normalCdf((y - Math.log(o.tolerableSlowdown)) / sigma) > 0.5 === truth) hitL++;
    const inp = { first: Float64Array.from(r.first), second: Float64Array.from(r.second), load: r.load, sharing: Float64Array.from(rowSharing(r)) };
    if (formula.predict(inp).probability > 0.5 === truth) hitF++;
  }
  return {
    format: MLP_FORMAT,
    inputs: MODEL_INPUTS,
    hidden: H,
    kernel1: k1,
    bias1: b1,
    kernel2: k2,
    bias2: b2,
    residualSigma: r6(sigma),
    featureOrder: [...MODEL_FEATURE_NAMES],
    training: {
      command: `umbra policy-train-interference --dataset DATASET --seed ${o.seed}`,
      seed: o.seed,
      backend: tf.getBackend(),
      loss: 'meanSquaredError of log(slowdown)',
      hidden: H,
      epochs: o.epochs,
      batchSize: B,
      learningRate: o.learningRate,
      rows: rows.length,
      trainRows: train.length,
      holdoutRows: hold.length,
      finalLoss: r6(lastLoss),
      holdoutRmseLogSlowdown: hold.length ? r6(Math.sqrt(hss / hold.length)) : null,
      holdoutAccuracy: hold.length ? { learned: r6(hitL / hold.length), formula: r6(hitF / hold.length), tolerableSlowdown: o.tolerableSlowdown } : null,
    },
  };
}

/** Stable text form: one key per line. */
export function formatMlpWeights(w: MlpWeights): string {
  const lines = Object.entries(w).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n${lines.join(',\n')}\n}\n`;
}
