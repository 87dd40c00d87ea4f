// The pre-trained LSTM as shipped: a JSON file written by `umbra train-lstm`
// (train.ts) and read by the online model (impl/lstm.ts). Layout follows the
// Keras/tfjs LSTM: gate order i, f, c, o; kernel [inputs x 4u], recurrent
// kernel [u x 4u], bias [4u]; then a dense layer [u x K] + [K] giving the
// scaled change 1..K steps ahead.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../../util/errors.js';

export const LSTM_WEIGHTS_FORMAT = 'umbra-lstm-v1';

export interface LstmWeights {
  format: typeof LSTM_WEIGHTS_FORMAT;
  units: number;
  inputs: number;
  /** Number of horizons the dense head outputs (1..K steps). */
  horizons: number;
  /** Training window length (steps). */
  window: number;
  /** Row-major, as tfjs getWeights() returns them. */
  kernel: number[];
  recurrentKernel: number[];
  bias: number[];
  denseKernel: number[];
  denseBias: number[];
  /** How it was made, to reproduce it. */
  training: Record<string, unknown>;
}

export function parseLstmWeights(text: string, where: string): LstmWeights {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError(`not JSON: ${(err as Error).message}`, where);
  }
  const w = raw as Partial<LstmWeights>;
  if (!w || w.format !== LSTM_WEIGHTS_FORMAT) throw new InputError(`expected "format": "${LSTM_WEIGHTS_FORMAT}"`, where);
  const ints = ['units', 'inputs', 'horizons', 'window'] as const;
  for (const k of ints) if (!(Number.isInteger(w[k]) && (w[k] as number) > 0)) throw new InputError(`field "${k}" must be a positive integer`, where);
  const u = w.units!;
  const sizes: [keyof LstmWeights, number][] = [
    ['kernel', w.inputs! * 4 * u],
    ['recurrentKernel', u * 4 * u],
    ['bias', 4 * u],
    ['denseKernel', u * w.horizons!],
    ['denseBias', w.horizons!],
  ];
  for (const [k, len] of sizes) {
    const a = w[k];
    if (!Array.isArray(a) || a.length !== len || !a.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new InputError(`field "${k}" must be ${len} finite numbers`, where);
    }
  }
  return w as LstmWeights;
}

export function loadLstmWeights(path: string): LstmWeights {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InputError('cannot read LSTM weights file', path);
  }
  return parseLstmWeights(text, path);
}

/** The shipped weights: policies/forecast/weights/lstm16.json (found from the sources or from dist/). */
export function defaultLstmWeightsPath(): string {
  const candidates = [
    '../weights/lstm16.json', // running from the TypeScript sources
    '../../../../policies/forecast/weights/lstm16.json', // running from dist/policies/forecast/lstm/
  ].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

const cache = new Map<string, LstmWeights>();

/** Load once per path: hundreds of tasks each with an LSTM share one parsed copy. */
export function lstmWeightsCached(path = defaultLstmWeightsPath()): LstmWeights {
  let w = cache.get(path);
  if (!w) {
    w = loadLstmWeights(path);
    cache.set(path, w);
  }
  return w;
}
