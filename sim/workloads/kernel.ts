// A kernel is what a task runs, described by the numbers a CPI-stack model
// needs: how many instructions it executes per unit of work, how often those
// reach the LLC, how well misses overlap, and the shape of its access stream.
// Presets live in ./kernels/, one file each, registered by name; a spec picks
// one by name and may override any field.
import { z } from 'zod';
import type { Rng } from '../../util/rng.js';
import { MixPattern, SequentialPattern, UniformPattern, ZipfPattern, type AccessPattern } from './access-pattern.js';

export const patternSpecSchema: z.ZodType<PatternSpec> = z.lazy(() =>
  z.union([
    z.object({ kind: z.literal('sequential'), workingSetBytes: z.number().positive() }).strict(),
    z.object({ kind: z.literal('uniform'), workingSetBytes: z.number().positive() }).strict(),
    z.object({ kind: z.literal('zipf'), workingSetBytes: z.number().positive(), alpha: z.number().positive() }).strict(),
    z.object({ kind: z.literal('mix'), parts: z.array(z.object({ weight: z.number().positive(), pattern: patternSpecSchema }).strict()).min(1) }).strict(),
  ]),
);

export type PatternSpec =
  | { kind: 'sequential'; workingSetBytes: number }
  | { kind: 'uniform'; workingSetBytes: number }
  | { kind: 'zipf'; workingSetBytes: number; alpha: number }
  | { kind: 'mix'; parts: { weight: number; pattern: PatternSpec }[] };

export interface Kernel {
  name: string;
  description: string;
  /** Cycles per instruction when every LLC access hits (core, L1/L2, LLC hit latency included). */
  cpiCore: number;
  /** LLC accesses per thousand instructions. */
  apki: number;
  /** Average number of LLC misses in flight (memory-level parallelism). */
  mlp: number;
  /** DRAM writes (dirty evictions) per LLC miss. */
  writeFraction: number;
  /** Row-buffer hit rate of the kernel's DRAM traffic when it runs alone. */
  dramRowHitRate: number;
  /** LLC-level access stream. */
  pattern: PatternSpec;
  /** IO bytes per thousand instructions (IO kernels). */
  ioBytesPerKiloInstr: number;
  /** First-class services: mean instructions per request and its coefficient of variation. */
  instrPerRequest?: number;
  requestCv?: number;
}

export const kernelOverrideSchema = z
  .object({
    cpiCore: z.number().positive(),
    apki: z.number().nonnegative(),
    mlp: z.number().min(1),
    writeFraction: z.number().min(0).max(1),
    dramRowHitRate: z.number().min(0).max(1),
    pattern: patternSpecSchema,
    ioBytesPerKiloInstr: z.number().nonnegative(),
    instrPerRequest: z.number().positive(),
    requestCv: z.number().nonnegative(),
  })
  .partial()
  .strict();

export type KernelOverride = z.infer<typeof kernelOverrideSchema>;

export function patternKey(p: PatternSpec, lineBytes: number): string {
  switch (p.kind) {
    case 'sequential':
      return `seq(${Math.ceil(p.workingSetBytes / lineBytes)})`;
    case 'uniform':
      return `uniform(${Math.ceil(p.workingSetBytes / lineBytes)})`;
    case 'zipf':
      return `zipf(${Math.ceil(p.workingSetBytes / lineBytes)},${p.alpha})`;
    case 'mix':
      return `mix(${p.parts.map((x) => `${x.weight}:${patternKey(x.pattern, lineBytes)}`).join(',')})`;
  }
}

export function makePattern(p: PatternSpec, lineBytes: number, rng: Rng): AccessPattern {
  const lines = (bytes: number) => Math.max(1, Math.ceil(bytes / lineBytes));
  switch (p.kind) {
    case 'sequential':
      return new SequentialPattern(lines(p.workingSetBytes));
    case 'uniform':
      return new UniformPattern(lines(p.workingSetBytes), rng);
    case 'zipf':
      return new ZipfPattern(lines(p.workingSetBytes), p.alpha, rng);
    case 'mix':
      return new MixPattern(
        p.parts.map((x) => ({ weight: x.weight, pattern: makePattern(x.pattern, lineBytes, rng) })),
        rng,
      );
  }
}

export function workingSetBytes(p: PatternSpec): number {
  return p.kind === 'mix' ? p.parts.reduce((s, x) => s + workingSetBytes(x.pattern), 0) : p.workingSetBytes;
}
