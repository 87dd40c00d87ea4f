// Zod pieces shared by every policy's knobs: durations (ns or "10 ms"),
// per-resource amounts (floors), and the parse step that turns a zod error
// into one InputError naming the policy and the field.
import { z } from 'zod';
import { InputError } from '../../util/errors.js';
import { parseDurationNs } from '../../util/units.js';
import { describeZodError } from '../../util/zod-errors.js';
import { RESOURCE_KINDS } from '../platform.js';

export const durationNs = (what: string) =>
  z.preprocess(
    (v) => {
      const d = parseDurationNs(v);
      return d === null ? v : d;
    },
    z.number({ error: `expected ${what} as nanoseconds or a duration such as "10 ms"` }).int(`${what} must be a whole number of ns`).positive(`${what} must be positive`),
  );

/** Units of each resource: cores, ways, colours (counts), bandwidth percent, IO weight. */
export const resourceAmountsSchema = z.strictObject({
  cores: z.number().int('cores must be a whole number').min(0, 'cores must be >= 0').optional(),
  cacheWays: z.number().int('cacheWays must be a whole number').min(0, 'cacheWays must be >= 0').optional(),
  bankColours: z.number().int('bankColours must be a whole number').min(0, 'bankColours must be >= 0').optional(),
  memBandwidthPct: z.number().min(0, 'memBandwidthPct must be >= 0').max(100, 'memBandwidthPct must be <= 100').optional(),
  ioWeight: z.number().int('ioWeight must be a whole number').min(0, 'ioWeight must be >= 0').optional(),
});
export type ResourceAmounts = z.infer<typeof resourceAmountsSchema>;

export const floorsSchema = z.record(z.string(), resourceAmountsSchema);

export const resourceListSchema = z.array(z.enum(RESOURCE_KINDS as unknown as [string, ...string[]], { error: `expected one of ${RESOURCE_KINDS.join(', ')}` }));

export function parseConfig<T extends z.ZodType>(schema: T, policy: string, config: unknown): z.output<T> {
  const r = schema.safeParse(config ?? {});
  if (!r.success) throw new InputError(describeZodError(r.error), `policy "${policy}"`);
  return r.data;
}
