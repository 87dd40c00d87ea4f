// Forecasters: the interface every model implements, and the registry that
// builds one by name. The policy engine talks to the time-based `Forecaster`
// of policies/platform.ts (update(tNs, value), predict(horizonNs)); the models
// themselves are written per step (`StepModel`): one update = one step, and a
// horizon is converted to steps with the observed sampling interval. A shared
// wrapper (step-forecaster.ts) does that conversion and attaches the upper
// quantile, so each model only says what its mean forecast is.
import type { Forecaster, Prediction } from '../platform.js';

export type { Forecaster, Prediction };

/** A forecasting model in step units. Deterministic given its inputs. */
export interface StepModel {
  /** Feed the next observation (one step after the previous one). `tSec` is its time in seconds, for models with calendar terms. */
  observe(value: number, tSec: number): void;
  /** Mean forecast `k` >= 1 steps after the last observation. Must not change the model's state. */
  forecast(k: number): number;
  /**
   * Optional: told once per horizon (in steps) that predictions at that
   * horizon will be asked for, so models that learn per horizon (the blend's
   * weights, the LSTM's output layer) can start doing so.
   */
  track?(k: number): void;
}

export interface ForecasterOptions {
  /** Holt–Winters / Prophet season length in steps; 0 = none, undefined = detect online. */
  seasonSteps?: number;
  /** LSTM weights file (JSON written by `umbra train-lstm`); default: the shipped one. */
  lstmWeightsPath?: string;
  /** Quantile reported as `upper` (default 0.95). */
  upperQuantile?: number;
}

/** Forecaster with the blend's extra introspection, when it is one. */
export interface WeightedForecaster extends Forecaster {
  /** Current weights of the members (sum to 1), at the most recently asked horizon. */
  weights(): Record<string, number>;
}

// ---------------------------------------------------------------------------
// Registry: every forecaster by name, built with one configuration for all
// series (no per-series tuning).
// ---------------------------------------------------------------------------
import { StepForecaster } from './step-forecaster.js';
import { NaiveModel } from './impl/naive.js';
import { EwmaModel } from './impl/ewma.js';
import { MedianModel } from './impl/median.js';
import { HoltWintersModel } from './impl/holt-winters.js';
import { ArModel } from './impl/ar.js';
import { ProphetModel } from './impl/prophet.js';
import { BlendModel, type BlendMember } from './impl/blend.js';
import { LstmModel } from './impl/lstm.js';
import { defaultLstmWeightsPath, lstmWeightsCached } from './lstm/weights.js';

type ModelFactory = (opts: ForecasterOptions) => StepModel;

const MODELS: Record<string, ModelFactory> = {
  naive: () => new NaiveModel(),
  ewma: () => new EwmaModel(),
  median: () => new MedianModel(),
  'holt-winters': (o) => new HoltWintersModel({ seasonSteps: o.seasonSteps }),
  ar: () => new ArModel(),
  prophet: (o) => new ProphetModel({ seasonSteps: o.seasonSteps }),
  lstm: (o) => new LstmModel(lstmWeightsCached(o.lstmWeightsPath ?? defaultLstmWeightsPath())),
};

/** Members of the blend: real-time models and historical ones. */
export const BLEND_MEMBERS = ['naive', 'ewma', 'median', 'ar', 'holt-winters', 'prophet', 'lstm'];

export const FORECASTER_NAMES: readonly string[] = [...Object.keys(MODELS), 'blend'];

export function createStepModel(name: string, opts: ForecasterOptions = {}): StepModel {
  if (name === 'blend') {
    const members: BlendMember[] = BLEND_MEMBERS.map((m) => ({ name: m, model: createStepModel(m, opts) }));
    return new BlendModel(members);
  }
  const f = MODELS[name];
  if (!f) throw new RangeError(`unknown forecaster "${name}"; known: ${FORECASTER_NAMES.join(', ')}`);
  return f(opts);
}

/** The blend as a time-based Forecaster, with its weights observable. */
export class BlendForecaster extends StepForecaster implements WeightedForecaster {
  constructor(readonly blend: BlendModel, upperQuantile?: number) {
    super('blend', blend, upperQuantile);
  }

  weights(): Record<string, number> {
    return this.blend.weightsAt();
  }
}

/** A time-based Forecaster by registry name. */
export function createForecaster(name: string, opts: ForecasterOptions = {}): Forecaster {
  const model = createStepModel(name, opts);
  if (model instanceof BlendModel) return new BlendForecaster(model, opts.upperQuantile);
  return new StepForecaster(name, model, opts.upperQuantile);
}
