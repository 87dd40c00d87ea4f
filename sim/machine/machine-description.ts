// The simulated machine, described by data. Every field has a sane default
// (a 16-core server with a 32 MiB 16-way LLC and two channels of DDR4-3200), so
// a description file only states what differs. Invalid descriptions are
// rejected with the field at fault named.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InputError } from '../../util/errors.js';
import { parseBytes } from '../../util/units.js';
import { describeZodError } from '../../util/zod-errors.js';
import { DRAM_PRESETS, parseDramConfig, type DramConfig } from '../dram/dram-config.js';

const bytes = (what: string) =>
  z.preprocess((v) => {
    const b = parseBytes(v);
    return b === null ? v : b;
  }, z.number({ error: `expected ${what} as bytes, e.g. 33554432 or "32 MiB"` }).positive(`${what} must be positive`));

const posInt = (what: string) => z.number({ error: `expected ${what} as a positive integer` }).int(`${what} must be an integer`).positive(`${what} must be positive`);

export const machineDescriptionSchema = z
  .object({
    name: z.string().default('default-16c'),
    cores: z
      .object({
        count: posInt('core count').max(256, 'at most 256 cores').default(16),
        freqGHz: z.number().positive('frequency must be positive').max(10, 'frequency above 10 GHz is not a real core').default(3.0),
        /** Time a newly granted core takes to become useful to a task (thread wake-up, cold L1/L2, migration), unless warmed. */
        activationUs: z.number().nonnegative().default(500),
        /**
         * What the other work on a core loses to each wake-up of a background
         * thread there (SimPlatformOptions.backgroundLoad's wakeupsPerSec)
         * beyond that thread's CPU time, in ns of the core's time: the
         * timer interrupt, the context switches, disturbed caches. Measured
         * by `umbra calibrate` (runner/calibrate/wakeup-cost.ts). 0 when absent.
         */
        wakeupCostNs: z.number({ error: 'expected wakeupCostNs as a number of ns' }).nonnegative('wakeupCostNs must be >= 0').max(1e7, 'wakeupCostNs above 10 ms per wake-up is not a context switch').optional(),
        /**
         * Interference between cores that share a physical resource (SMT
         * siblings, or a VM's vCPUs placed on one host core). Off when absent.
         * computeSlowdown: the relative CPI increase a core suffers while
         * another member of its group is fully busy with compute-bound work
         * (0.3: 30% more cycles per instruction; 0 = none).
         */
        interference: z
          .object({
            groups: z.array(z.array(z.number({ error: 'expected core ids as integers' }).int('core ids are integers').nonnegative('core ids are >= 0')).min(2, 'a group holds at least two cores')),
            computeSlowdown: z.number({ error: 'expected computeSlowdown as a number' }).min(0, 'computeSlowdown must be >= 0').max(10, 'computeSlowdown above 10 (11x the CPI) is not a sibling core'),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({ count: 16, freqGHz: 3.0, activationUs: 500 }),
    llc: z
      .object({
        sizeBytes: bytes('LLC size').default(32 * 1024 * 1024),
        ways: posInt('LLC ways').max(32, 'at most 32 ways (way masks are 32-bit)').default(16),
        lineBytes: posInt('LLC line size').default(64),
        hitLatencyCycles: z.number().positive().default(40),
        /** CAT rule: a mask has at least this many contiguous ways. */
        minWaysPerMask: posInt('minimum ways per mask').default(1),
      })
      .strict()
      .default({ sizeBytes: 32 * 1024 * 1024, ways: 16, lineBytes: 64, hitLatencyCycles: 40, minWaysPerMask: 1 }),
    /** A DRAM preset name plus any field of sim/dram's DramConfig to override (checked by parseDramConfig). */
    dram: z.record(z.string(), z.unknown()).default({}),
    memory: z
      .object({
        capacityBytes: bytes('memory capacity').default(64 * 1024 ** 3),
        /** MBA: bandwidth caps in steps of stepPct, no lower than minPct. */
        mbaMinPct: z.number().min(1).max(100).default(10),
        mbaStepPct: z.number().min(1).max(100).default(10),
      })
      .strict()
      .default({ capacityBytes: 64 * 1024 ** 3, mbaMinPct: 10, mbaStepPct: 10 }),
    io: z
      .object({
        bandwidthBytesPerSec: bytes('IO bandwidth').default(2e9),
        weightMin: z.number().int().min(1).default(10),
        weightMax: z.number().int().min(1).default(1000),
        weightDefault: z.number().int().min(1).default(100),
      })
      .strict()
      .default({ bandwidthBytesPerSec: 2e9, weightMin: 10, weightMax: 1000, weightDefault: 100 }),
  })
  .strict()
  .superRefine((m, ctx) => {
    const groups = m.cores.interference?.groups ?? [];
    const groupOf = new Map<number, number>();
    groups.forEach((g, gi) =>
      g.forEach((c, ci) => {
        if (c >= m.cores.count) {
          ctx.addIssue({ code: 'custom', path: ['cores', 'interference', 'groups', gi, ci], message: `core ${c} does not exist on a ${m.cores.count}-core machine` });
        } else if (groupOf.has(c)) {
          const other = groupOf.get(c)!;
          ctx.addIssue({ code: 'custom', path: ['cores', 'interference', 'groups', gi, ci], message: other === gi ? `core ${c} is listed twice in group ${gi}` : `core ${c} is already in group ${other}: a core belongs to at most one group` });
        } else groupOf.set(c, gi);
      }),
    );
    const sets = m.llc.sizeBytes / (m.llc.ways * m.llc.lineBytes);
    if (!Number.isInteger(sets)) {
      ctx.addIssue({ code: 'custom', path: ['llc', 'sizeBytes'], message: `LLC size ${m.llc.sizeBytes} B is not a whole number of sets of ${m.llc.ways} ways x ${m.llc.lineBytes} B lines` });
    }
    if ((m.llc.lineBytes & (m.llc.lineBytes - 1)) !== 0) {
      ctx.addIssue({ code: 'custom', path: ['llc', 'lineBytes'], message: `line size must be a power of two, got ${m.llc.lineBytes}` });
    }
    if (m.llc.minWaysPerMask > m.llc.ways) {
      ctx.addIssue({ code: 'custom', path: ['llc', 'minWaysPerMask'], message: `minWaysPerMask ${m.llc.minWaysPerMask} exceeds the ${m.llc.ways} ways` });
    }
    if (m.io.weightMin > m.io.weightMax || m.io.weightDefault < m.io.weightMin || m.io.weightDefault > m.io.weightMax) {
      ctx.addIssue({ code: 'custom', path: ['io', 'weightDefault'], message: `need weightMin <= weightDefault <= weightMax` });
    }
  });

export type MachineDescription = Omit<z.infer<typeof machineDescriptionSchema>, 'dram'> & { dram: DramConfig };

/** The machine's DRAM unless stated: DDR4-3200 8 Gb x8, two channels of two ranks. */
export const DEFAULT_DRAM_PRESET = 'ddr4-3200-8gb-x8-2ch';

/** Validate a parsed description; `where` names its file for error messages. */
export function parseMachineDescription(raw: unknown, where = 'machine description'): MachineDescription {
  const res = machineDescriptionSchema.safeParse(raw ?? {});
  if (!res.success) throw new InputError(describeZodError(res.error), where);
  const { preset, ...overrides } = res.data.dram as { preset?: unknown } & Record<string, unknown>;
  const presetName = preset === undefined ? DEFAULT_DRAM_PRESET : preset;
  if (typeof presetName !== 'string' || !(presetName in DRAM_PRESETS)) {
    throw new InputError(`field "dram.preset": unknown DRAM preset ${JSON.stringify(presetName)}; expected one of ${Object.keys(DRAM_PRESETS).join(', ')}`, where);
  }
  const dram = parseDramConfig(overrides, `${where}: field "dram`, DRAM_PRESETS[presetName]);
  return { ...res.data, dram };
}

export function defaultMachine(): MachineDescription {
  return parseMachineDescription({});
}

/** Load a machine description from a YAML or JSON file. */
export function loadMachineDescription(path: string): MachineDescription {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read machine description: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, path);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    const e = err as { linePos?: { line: number; col: number }[]; message: string };
    const pos = e.linePos?.[0];
    throw new InputError(`not valid YAML/JSON: ${e.message.split('\n')[0]}`, pos ? `${path}:${pos.line}:${pos.col}` : path);
  }
  return parseMachineDescription(raw, path);
}

/**
 * For each core, the other members of its interference group (empty when it
 * is in none), or null when the machine models no core interference.
 */
export function interferenceSiblings(m: MachineDescription): number[][] | null {
  const i = m.cores.interference;
  if (!i || i.computeSlowdown === 0 || i.groups.length === 0) return null;
  const out: number[][] = Array.from({ length: m.cores.count }, () => []);
  for (const g of i.groups) for (const c of g) out[c] = g.filter((o) => o !== c);
  return out;
}

export function llcSets(m: MachineDescription): number {
  return m.llc.sizeBytes / (m.llc.ways * m.llc.lineBytes);
}
