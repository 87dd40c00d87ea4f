import type { Kernel } from '../kernel.js';

/** Pointer chasing over a 64 MiB heap: latency-bound, dependent loads (MLP ~1). */
export const chase: Kernel = {
  name: 'chase',
  description: 'second-class pointer-chasing kernel: uniform random lines over 64 MiB, MLP 1.2',
  cpiCore: 1.0,
  apki: 20,
  mlp: 1.2,
  writeFraction: 0,
  dramRowHitRate: 0.05,
  pattern: { kind: 'uniform', workingSetBytes: 64 * 1024 * 1024 },
  ioBytesPerKiloInstr: 0,
};
