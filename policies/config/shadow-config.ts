// Knobs of the shadow engine (and of the oracle, which is the same engine fed
// the future). Every default is either a unit-free choice documented in
// policies/README.md or derived at run time from the platform: durations from
// the observed control period, floors from the capabilities, SLO targets from
// each service's own SLO. Nothing here is fitted to a scenario.
import { z } from 'zod';
import { FORECASTER_NAMES } from '../forecast/forecaster.js';
import { durationNs, floorsSchema, resourceAmountsSchema, resourceListSchema } from './common.js';

const prob = (what: string) => z.number({ error: `expected ${what} as a number in [0, 1]` }).min(0, `${what} must be >= 0`).max(1, `${what} must be <= 1`);
const forecasterName = z.string().refine((n) => n === 'blend-equal' || FORECASTER_NAMES.includes(n), { message: `expected a forecaster: ${[...FORECASTER_NAMES, 'blend-equal'].join(', ')}` });

export const shadowConfigSchema = z.strictObject({
  /** Expected control period; default: the first observed snapshot window (10 ms until one is seen). */
  controlPeriodNs: durationNs('controlPeriodNs').optional(),
  /** Forecast horizon = lead time of reservations; default 3 periods, within [10 ms, 50 ms]. */
  leadTimeNs: durationNs('leadTimeNs').optional(),
  /** Horizon that decides activation; default one period. */
  nearHorizonNs: durationNs('nearHorizonNs').optional(),
  /** Grace period before releasing; default 5 periods. */
  graceNs: z.union([z.literal(0), durationNs('graceNs')]).optional(),
  /** Warm units never activated for this long are released; default lead + grace. */
  warmExpiryNs: durationNs('warmExpiryNs').optional(),
  /** Pause on reserving ahead after such a false alarm; default grace. */
  warmCooldownNs: z.union([z.literal(0), durationNs('warmCooldownNs')]).optional(),
  /** Quantile the forecasters report as `upper` (the safety margin). */
  upperQuantile: z.number().gt(0.5, 'upperQuantile must be > 0.5').lt(1, 'upperQuantile must be < 1').default(0.95),
  /** Guaranteed floors per first-class task id; default 1 core, the CAT minimum of ways, 1/16 of the bank colours. */
  floors: floorsSchema.default({}),
  /** Kept for second-class work while any runs; default 1 core, the CAT minimum of ways, 1/8 of the colours, the MBA minimum. */
  secondClassFloor: resourceAmountsSchema.prefault({}),
  /** Resources the engine manages; default every one the platform offers. */
  resources: resourceListSchema.optional(),
  mechanisms: z
    .strictObject({
      warmup: z.boolean().default(true),
      echo: z.boolean().default(true),
      /** false: the first-class blend keeps fixed equal weights (forecasters.firstClass is then ignored). */
      weighting: z.boolean().default(true),
      quarantine: z.boolean().default(true),
      interference: z.enum(['learned', 'formula']).default('learned'),
    })
    .prefault({}),
  forecasters: z
    .strictObject({
      firstClass: forecasterName.default('blend'),
      /** First-class dimensions that only shape the interference profile (LLC miss rate, IO). */
      firstClassAuxiliary: forecasterName.default('ewma'),
      secondClass: forecasterName.default('ewma'),
      lstmWeightsPath: z.string().optional(),
    })
    .prefault({}),
  sizing: z
    .strictObject({
      targetSlack: z.number().min(0).lt(1).default(0.1),
      utilisationTarget: z.number().gt(0).max(1).default(0.8),
      serviceTailFactor: z.number().positive().default(3),
      bandwidthHeadroom: z.number().min(1).default(1.25),
      colourHeadroom: z.number().min(1).default(2),
      minRequests: z.number().int().min(1).default(20),
    })
    .prefault({}),
  interference: z
    .strictObject({
      threshold: prob('interference.threshold').default(0.5),
      hysteresis: prob('interference.hysteresis').default(0.1),
      tolerableSlowdown: z.number().gt(1, 'tolerableSlowdown must be > 1').default(1.1),
      learningRate: z.number().min(0).max(1).default(0.005),
      weightsPath: z.string().optional(),
      sensitivityRef: z.number().gt(0).max(1).default(0.1),
      priorityWeight: z.number().min(0).max(1).default(0.05),
      /** Priority level per task id (default: first-class 1, second-class 0). */
      priorities: z.record(z.string(), z.number().int()).default({}),
    })
    .prefault({}),
  quarantine: z
    .strictObject({
      /** A lower level applies only after it has been wanted this long; default grace. */
      liftAfterNs: z.union([z.literal(0), durationNs('quarantine.liftAfterNs')]).optional(),
      throttlePct: z.number().gt(0).max(100).default(50),
      throttleProbability: prob('quarantine.throttleProbability').default(0.75),
      pauseProbability: prob('quarantine.pauseProbability').default(0.9),
      confineFactor: prob('quarantine.confineFactor').default(0.3),
    })
    .prefault({}),
  echo: z
    .strictObject({
      /** Default 5 periods. */
      minIntervalNs: durationNs('echo.minIntervalNs').optional(),
      maxDurationNs: durationNs('echo.maxDurationNs').default(50_000_000),
      budgetPct: z.number().min(0).max(100).default(2),
      uncertaintyThreshold: z.number().min(0).default(0.3),
      departureWeight: prob('echo.departureWeight').default(0.7),
    })
    .prefault({}),
  warm: z.strictObject({ maxBudgetNs: durationNs('warm.maxBudgetNs').default(50_000_000) }).prefault({}),
  /** What happens when a reservation cannot be granted: quarantine a second-class task, degrade, or log and retry. */
  fallback: z.enum(['quarantine', 'degrade', 'retry']).default('quarantine'),
});

export type ShadowConfig = z.output<typeof shadowConfigSchema>;
