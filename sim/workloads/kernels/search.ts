import type { Kernel } from '../kernel.js';

/** Search leaf (xapian-like): millisecond requests over a hot index plus colder postings. */
export const search: Kernel = {
  name: 'search',
  description: 'first-class search service: ~1 ms requests, hot 6 MiB index (Zipf 0.8) plus 24 MiB of postings',
  cpiCore: 0.8,
  apki: 6,
  mlp: 3,
  writeFraction: 0.05,
  dramRowHitRate: 0.3,
  pattern: {
    kind: 'mix',
    parts: [
      { weight: 0.8, pattern: { kind: 'zipf', workingSetBytes: 6 * 1024 * 1024, alpha: 0.8 } },
      { weight: 0.2, pattern: { kind: 'uniform', workingSetBytes: 24 * 1024 * 1024 } },
    ],
  },
  ioBytesPerKiloInstr: 0,
  instrPerRequest: 3_000_000,
  requestCv: 0.6,
};
