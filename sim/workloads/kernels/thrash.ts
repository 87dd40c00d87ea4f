import type { Kernel } from '../kernel.js';

/** Cache thrasher (stress-ng cache-like): random lines over 1.5x a 32 MiB LLC, polluting it. */
export const thrash: Kernel = {
  name: 'thrash',
  description: 'second-class cache-thrashing kernel: uniform random lines over 48 MiB, many writes',
  cpiCore: 0.6,
  apki: 40,
  mlp: 4,
  writeFraction: 0.5,
  dramRowHitRate: 0.1,
  pattern: { kind: 'uniform', workingSetBytes: 48 * 1024 * 1024 },
  ioBytesPerKiloInstr: 0,
};
