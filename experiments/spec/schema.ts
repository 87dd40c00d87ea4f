// The experiment spec: what to run (platform, machine, workloads), which
// policies with which knobs, over which seeds and parameter points, for how
// long, and which metrics to report. Written in YAML or JSON; validated here
// field by field (the workloads again by the simulator's scenario schema).
import { z } from 'zod';
import { AGGREGATES } from '../../traces/table-format.js';
import { METRIC_NAMES } from '../metrics/definitions.js';

/** Mechanisms of the shadowing engine that can be switched off one at a time, and the registry name of each ablation. */
export const ABLATIONS = {
  warmup: 'shadow-no-warmup',
  echo: 'shadow-no-echo',
  weighting: 'shadow-no-weighting',
  quarantine: 'shadow-no-quarantine',
  interference: 'shadow-formula-interference',
} as const;

export type AblationName = keyof typeof ABLATIONS;

export const policyEntrySchema = z.union([
  z.string().min(1),
  z
    .object({
      /** Registry name (shadow, static, reactive, ...), or any name when `module` is given. */
      name: z.string().min(1),
      /** Name in results and figures (default: name). Must be unique. */
      label: z.string().regex(/^[A-Za-z0-9_.+-]+$/, 'labels are letters, digits, _ . + -').optional(),
      /** Knobs passed to the policy; checked against the policy's own schema. */
      knobs: z.record(z.string(), z.unknown()).optional(),
      /** A JS module exporting createPolicy(name, knobs): a policy that is not in the registry. Relative to the spec. */
      module: z.string().min(1).optional(),
    })
    .strict(),
]);

export type PolicyEntry = z.infer<typeof policyEntrySchema>;

/**
 * A workload's load may name a trace in any supported format; these fields are
 * read by experiments/ (which extracts the series) and removed before the
 * scenario schema sees the load.
 */
export const traceSelectionSchema = z
  .object({
    format: z.string().min(1).optional(),
    entity: z.string().min(1).optional(),
    by: z.string().min(1).optional(),
    aggregate: z.enum(AGGREGATES as unknown as [string, ...string[]]).optional(),
    stepSeconds: z.number().positive().optional(),
  })
  .partial();

export const TRACE_SELECTION_KEYS = ['format', 'entity', 'by', 'aggregate', 'stepSeconds'] as const;

export const specSchema = z
  .object({
    name: z.string().min(1).optional(),
    description: z.string().optional(),
    platform: z.enum(['sim', 'hardware']).default('sim'),
    /** Settings only the real-host runner reads (argv of services, load generator, ...). */
    hardware: z.record(z.string(), z.unknown()).optional(),
    /** Machine description: a file (relative to the spec) or an inline object; default: the built-in 16-core server. */
    machine: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
    llcMode: z.enum(['fast', 'exact']).optional(),
    quantumUs: z.number().min(100).max(100_000).optional(),
    durationMs: z.number().positive(),
    /** Windows ending before this are left out of every metric. */
    warmupMs: z.number().nonnegative().default(0),
    controlPeriodMs: z.number().positive().default(10),
    /** A count (seeds 1..n) or the list of seeds. */
    seeds: z.union([z.number().int().min(1).max(10_000), z.array(z.number().int().nonnegative()).min(1)]).default(3),
    /** Tasks: the simulator's scenario tasks; a trace load may also name format/entity/by/aggregate/stepSeconds; first-class tasks may give peakRps. */
    workloads: z.array(z.record(z.string(), z.unknown())).min(1),
    policies: z.array(policyEntrySchema).min(1),
    /** Add the shadowing engine's one-mechanism-off ablations: true for all, or a list. */
    ablations: z.union([z.boolean(), z.array(z.enum(Object.keys(ABLATIONS) as [AblationName, ...AblationName[]])).min(1)]).optional(),
    /** Horizon of the oracle's perfect foresight (Snapshot.future). */
    oracleHorizonMs: z.number().positive().default(50),
    /** Lead times are capped at this (a reservation held since the start is not "earlier" than one held this long). */
    leadCapMs: z.number().positive().default(100),
    /** Parameter points: spec paths (dots; list items by index or id/label) -> values; the points are their product. */
    sweep: z.record(z.string().min(1), z.array(z.unknown()).min(1)).optional(),
    metrics: z.array(z.enum(METRIC_NAMES as unknown as [string, ...string[]])).min(1).optional(),
    /** Report settings. */
    report: z
      .object({
        title: z.string().optional(),
        /** Seed and point whose time series the figures show (default: the first). */
        figureSeed: z.number().int().nonnegative().optional(),
        figurePoint: z.number().int().nonnegative().optional(),
        /** Policies drawn in the time-series figures (default: up to 4, the first ones). */
        figurePolicies: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.warmupMs >= s.durationMs) ctx.addIssue({ code: 'custom', path: ['warmupMs'], message: `must be less than durationMs (${s.durationMs})` });
    if (s.controlPeriodMs > s.durationMs) ctx.addIssue({ code: 'custom', path: ['controlPeriodMs'], message: `must not exceed durationMs (${s.durationMs})` });
    if (Array.isArray(s.seeds) && new Set(s.seeds).size !== s.seeds.length) ctx.addIssue({ code: 'custom', path: ['seeds'], message: 'seeds must be distinct' });
  });

export type ExperimentSpec = z.infer<typeof specSchema>;
