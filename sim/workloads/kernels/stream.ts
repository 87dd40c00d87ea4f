import type { Kernel } from '../kernel.js';

/** STREAM-like triad over 256 MiB: bandwidth-bound, no reuse in any LLC. */
export const stream: Kernel = {
  name: 'stream',
  description: 'second-class streaming kernel: sequential sweep over 256 MiB, high MLP, row-buffer friendly',
  cpiCore: 0.5,
  apki: 25,
  mlp: 10,
  writeFraction: 0.33,
  dramRowHitRate: 0.9,
  pattern: { kind: 'sequential', workingSetBytes: 256 * 1024 * 1024 },
  ioBytesPerKiloInstr: 0,
};
