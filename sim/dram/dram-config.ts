// DRAM configuration: device organisation, DDR timing (in DRAM clocks),
// address mapping and controller parameters. The default preset is DDR4-3200
// 8 Gb x8 as in DRAMsim3's `DDR4_8Gb_x8_3200.ini` (see shared/REFERENCE.md).
// `dramConfigSchema` is exported so a machine description can embed a DRAM
// section and get the same field-level errors.
import { z } from 'zod';
import { InputError } from '../../util/errors.js';

const positiveInt = (what: string) => z.number({ error: `${what}: expected a number` }).int(`${what}: expected an integer`).positive(`${what}: expected a positive integer`);
const nonNegativeInt = (what: string) => z.number({ error: `${what}: expected a number` }).int(`${what}: expected an integer`).nonnegative(`${what}: expected an integer >= 0`);
const powerOfTwo = (what: string) =>
  positiveInt(what).refine((v) => (v & (v - 1)) === 0, { message: `${what}: expected a power of two` });

/** DDR timing parameters, all in DRAM clock cycles (tCK). */
export const dramTimingSchema = z
  .object({
    tCL: positiveInt('tCL (read latency)'),
    tCWL: positiveInt('tCWL (write latency)'),
    tRCD: positiveInt('tRCD (activate to read/write)'),
    tRP: positiveInt('tRP (precharge to activate)'),
    tRAS: positiveInt('tRAS (activate to precharge)'),
    tRC: positiveInt('tRC (activate to activate, same bank)'),
    /** Data-bus occupancy of one burst: BL/2 clocks for DDR. */
    tBurst: positiveInt('tBurst (burst length in clocks)'),
    tCCD_S: positiveInt('tCCD_S'),
    tCCD_L: positiveInt('tCCD_L'),
    tRRD_S: positiveInt('tRRD_S'),
    tRRD_L: positiveInt('tRRD_L'),
    tFAW: positiveInt('tFAW'),
    tWR: positiveInt('tWR'),
    tRTP: positiveInt('tRTP'),
    tWTR_S: positiveInt('tWTR_S'),
    tWTR_L: positiveInt('tWTR_L'),
    tRFC: positiveInt('tRFC'),
    tREFI: positiveInt('tREFI'),
    /** Rank-to-rank switch bubble on the data bus. */
    tRTRS: nonNegativeInt('tRTRS'),
  })
  .strict()
  .refine((t) => t.tRC >= t.tRAS, { message: 'tRC must be >= tRAS', path: ['tRC'] })
  .refine((t) => t.tCCD_L >= t.tCCD_S, { message: 'tCCD_L must be >= tCCD_S', path: ['tCCD_L'] })
  .refine((t) => t.tRRD_L >= t.tRRD_S, { message: 'tRRD_L must be >= tRRD_S', path: ['tRRD_L'] })
  .refine((t) => t.tREFI > t.tRFC, { message: 'tREFI must be > tRFC', path: ['tREFI'] });

export const dramControllerSchema = z
  .object({
    /** Read transaction queue and write buffer capacity (each), per channel. */
    transactionQueueSize: positiveInt('transactionQueueSize'),
    /** Per-bank command queue capacity. */
    commandQueueSize: positiveInt('commandQueueSize'),
    /** FR-FCFS: a row that has served this many column commands may be closed for an older miss. */
    rowHitCap: positiveInt('rowHitCap'),
    /** Drain writes when the buffer holds more than this many and no commands are queued. */
    writeDrainLowThreshold: nonNegativeInt('writeDrainLowThreshold'),
    scheduler: z.enum(['fr-fcfs', 'fcfs'], { error: 'scheduler: expected "fr-fcfs" or "fcfs"' }),
    pagePolicy: z.enum(['open'], { error: 'pagePolicy: expected "open"' }),
  })
  .strict();

const MAPPING_FIELDS = ['ch', 'ra', 'bg', 'ba', 'ro', 'co'] as const;

export const dramConfigSchema = z
  .object({
    name: z.string().optional(),
    channels: powerOfTwo('channels'),
    ranks: powerOfTwo('ranks'),
    bankGroups: powerOfTwo('bankGroups'),
    banksPerGroup: powerOfTwo('banksPerGroup'),
    rows: powerOfTwo('rows'),
    columns: powerOfTwo('columns'),
    /** Data bus width of a channel, in bits. */
    busWidthBits: powerOfTwo('busWidthBits'),
    /** Burst length in beats (BL8 for DDR4). */
    burstLength: powerOfTwo('burstLength'),
    tCkNs: z.number({ error: 'tCkNs: expected a number' }).positive('tCkNs: expected a positive clock period in ns'),
    /** DRAMsim3-style mapping, six two-letter fields MSB first, e.g. "rochrababgco". */
    addressMapping: z
      .string({ error: 'addressMapping: expected a string' })
      .refine((s) => s.length === 12 && [0, 2, 4, 6, 8, 10].every((i) => (MAPPING_FIELDS as readonly string[]).includes(s.slice(i, i + 2))) && new Set([0, 2, 4, 6, 8, 10].map((i) => s.slice(i, i + 2))).size === 6, {
        message: 'addressMapping: expected 6 distinct two-letter fields from ch, ra, bg, ba, ro, co (e.g. "rochrababgco")',
      }),
    timingCycles: dramTimingSchema,
    controller: dramControllerSchema,
  })
  .strict()
  .refine((c) => c.columns >= c.burstLength, { message: 'columns must be >= burstLength', path: ['columns'] });

export type DramTiming = z.infer<typeof dramTimingSchema>;
export type DramControllerConfig = z.infer<typeof dramControllerSchema>;
export type DramConfig = z.infer<typeof dramConfigSchema>;

/** DDR4-3200 8 Gb x8 (DRAMsim3 DDR4_8Gb_x8_3200.ini), one channel, two ranks. */
export const DDR4_3200_8GB_X8: DramConfig = Object.freeze({
  name: 'DDR4-3200 8Gb x8',
  channels: 1,
  ranks: 2,
  bankGroups: 4,
  banksPerGroup: 4,
  rows: 65536,
  columns: 1024,
  busWidthBits: 64,
  burstLength: 8,
  tCkNs: 0.625,
  addressMapping: 'rochrababgco',
  timingCycles: Object.freeze({
    tCL: 22,
    tCWL: 16,
    tRCD: 22,
    tRP: 22,
    tRAS: 52,
    tRC: 74,
    tBurst: 4,
    tCCD_S: 4,
    tCCD_L: 8,
    tRRD_S: 4,
    tRRD_L: 8,
    tFAW: 34,
    tWR: 24,
    tRTP: 12,
    tWTR_S: 4,
    tWTR_L: 12,
    tRFC: 560,
    tREFI: 12480,
    tRTRS: 1,
  }),
  controller: Object.freeze({
    transactionQueueSize: 32,
    commandQueueSize: 8,
    rowHitCap: 4,
    writeDrainLowThreshold: 8,
    scheduler: 'fr-fcfs' as const,
    pagePolicy: 'open' as const,
  }),
}) as DramConfig;

/** The DRAM the machine simulator uses by default: the same device, two channels. */
export const MACHINE_DEFAULT_DRAM: DramConfig = Object.freeze({ ...DDR4_3200_8GB_X8, name: 'DDR4-3200 8Gb x8, 2 channels', channels: 2 }) as DramConfig;

export const DRAM_PRESETS: Record<string, DramConfig> = {
  'ddr4-3200-8gb-x8': DDR4_3200_8GB_X8,
  'ddr4-3200-8gb-x8-2ch': MACHINE_DEFAULT_DRAM,
};

/**
 * Validate a (possibly partial) configuration: missing fields are taken from
 * `base` (the DDR4-3200 preset by default), then everything is checked.
 * Throws one InputError naming the first bad field.
 */
export function parseDramConfig(raw: unknown, where = 'dram', base: DramConfig = DDR4_3200_8GB_X8): DramConfig {
  if (raw === undefined || raw === null) return base;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InputError('expected an object with DRAM configuration fields', where);
  const r = raw as Record<string, unknown>;
  const merged = {
    ...base,
    ...r,
    timingCycles: isPlainObject(r.timingCycles) ? { ...base.timingCycles, ...r.timingCycles } : (r.timingCycles ?? base.timingCycles),
    controller: isPlainObject(r.controller) ? { ...base.controller, ...r.controller } : (r.controller ?? base.controller),
  };
  const res = dramConfigSchema.safeParse(merged);
  if (!res.success) {
    const issue = res.error.issues[0];
    const path = issue.path.map(String).join('.');
    throw new InputError(issue.message, path ? `${where}.${path}` : where);
  }
  return res.data;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Bytes moved by one read or write burst (64 B for a 64-bit bus and BL8). */
export function requestBytes(config: DramConfig): number {
  return (config.busWidthBits / 8) * config.burstLength;
}

/** Peak data-bus bandwidth of the whole memory system (all channels), bytes per second. */
export function ddr4PeakBytesPerSec(config: DramConfig): number {
  const perChannel = requestBytes(config) / (config.timingCycles.tBurst * config.tCkNs * 1e-9);
  return perChannel * config.channels;
}

/** Number of banks in one rank. */
export function banksPerRank(config: DramConfig): number {
  return config.bankGroups * config.banksPerGroup;
}
