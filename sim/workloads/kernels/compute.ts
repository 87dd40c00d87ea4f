import type { Kernel } from '../kernel.js';

/** Compute-bound kernel: small working set, rarely reaches the LLC. */
export const compute: Kernel = {
  name: 'compute',
  description: 'second-class compute-bound kernel: 1 MiB working set, 0.5 LLC accesses per kilo-instruction',
  cpiCore: 0.7,
  apki: 0.5,
  mlp: 2,
  writeFraction: 0.1,
  dramRowHitRate: 0.5,
  pattern: { kind: 'uniform', workingSetBytes: 1024 * 1024 },
  ioBytesPerKiloInstr: 0,
};
