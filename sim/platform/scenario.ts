// A simulated scenario: the machine, the tasks (first-class services and
// second-class jobs), their demand over time and their initial allocation.
// Written in YAML/JSON by users (inside an experiment spec or alone) and
// validated with errors that name the field.
import { z } from 'zod';
import { kernelOverrideSchema } from '../workloads/kernel.js';

/** "0-3,8,10-11" or [0,1,2] -> sorted unique ids. */
export const idListSchema = z.union([
  z.array(z.number().int().nonnegative()),
  z.string().regex(/^\s*\d+(\s*-\s*\d+)?(\s*,\s*\d+(\s*-\s*\d+)?)*\s*$/, 'expected ids like "0-3,8" or a list of integers'),
]);

export function parseIdList(v: number[] | string): number[] {
  if (Array.isArray(v)) return [...new Set(v)].sort((a, b) => a - b);
  const out = new Set<number>();
  for (const part of v.split(',')) {
    const [a, b] = part.split('-').map((x) => Number(x.trim()));
    for (let i = a; i <= (b ?? a); i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

export const demandSchema = z.union([
  z.object({ constant: z.number().nonnegative() }).strict(),
  z
    .object({
      phases: z.array(z.object({ ms: z.number().positive(), value: z.number().nonnegative() }).strict()).min(1),
      loop: z.boolean().default(true),
    })
    .strict(),
  z
    .object({
      trace: z.string().min(1),
      column: z.string().optional(),
      /** Simulated milliseconds one trace sample spans. */
      sampleMs: z.number().positive().default(50),
      /** The trace's [min, max] maps linearly onto this range. */
      scaleTo: z.tuple([z.number().nonnegative(), z.number().nonnegative()]),
      /** First sample used; "seed" picks one from the run's seed so seeds see different stretches. */
      offset: z.union([z.number().int().nonnegative(), z.literal('seed')]).default(0),
      length: z.number().int().min(2).optional(),
    })
    .strict(),
]);

export type DemandSpec = z.infer<typeof demandSchema>;

export const taskSpecSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'task ids are letters, digits, _ . -'),
    class: z.enum(['first', 'second']),
    kernel: z.string(),
    overrides: kernelOverrideSchema.optional(),
    /** First-class: request rate (requests/s). Second-class: share of threads runnable (0..1). */
    load: demandSchema.optional(),
    sloP99Ms: z.number().positive().optional(),
    /** Second-class threads (first-class services run one worker per granted core). */
    threads: z.number().int().positive().optional(),
    cores: idListSchema,
    /** CAT mask as ways "0-15" (default: all ways). */
    ways: idListSchema.optional(),
    bankColours: idListSchema.optional(),
    memBandwidthPct: z.number().min(1).max(100).optional(),
    ioWeight: z.number().int().positive().optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.class === 'first' && t.sloP99Ms === undefined) ctx.addIssue({ code: 'custom', path: ['sloP99Ms'], message: 'a first-class service needs an SLO (p99 target in ms)' });
    if (t.class === 'first' && t.load === undefined) ctx.addIssue({ code: 'custom', path: ['load'], message: 'a first-class service needs a load (request rate: constant, phases or trace)' });
    if (t.class === 'second' && t.load && 'constant' in t.load && t.load.constant > 1) ctx.addIssue({ code: 'custom', path: ['load', 'constant'], message: 'a second-class load is the share of threads runnable, in [0, 1]' });
  });

export type TaskSpec = z.infer<typeof taskSpecSchema>;

export const scenarioSchema = z
  .object({
    /** Machine description: a file path or an inline object (default: the built-in 16-core machine). */
    machine: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
    /** LLC model: fast (profiles, for long runs) or exact (every access through the LRU cache). */
    llcMode: z.enum(['fast', 'exact']).default('fast'),
    /**
     * Contention quantum, microseconds: between applied actions, contention is
     * re-solved at most once per quantum, when load, phases or cache shares moved.
     */
    quantumUs: z.number().min(100).max(100_000).default(5000),
    tasks: z.array(taskSpecSchema).min(1),
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.tasks.forEach((t, i) => {
      if (seen.has(t.id)) ctx.addIssue({ code: 'custom', path: ['tasks', i, 'id'], message: `duplicate task id "${t.id}"` });
      seen.add(t.id);
    });
  });

export type ScenarioSpec = z.infer<typeof scenarioSchema>;
