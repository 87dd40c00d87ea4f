import type { Kernel } from '../kernel.js';

/** IO-bound kernel (backup/compaction-like): streams data through the IO device. */
export const io: Kernel = {
  name: 'io',
  description: 'second-class IO kernel: 128 B of IO per thousand instructions (~300 MB/s per core when unthrottled), small memory footprint',
  cpiCore: 1.2,
  apki: 2,
  mlp: 2,
  writeFraction: 0.3,
  dramRowHitRate: 0.6,
  pattern: { kind: 'uniform', workingSetBytes: 4 * 1024 * 1024 },
  ioBytesPerKiloInstr: 128,
};
