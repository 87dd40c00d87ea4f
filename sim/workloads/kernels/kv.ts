import type { Kernel } from '../kernel.js';

/** Key-value store (memcached/redis-like): short requests, Zipf-popular keys, cache-sensitive. */
export const kv: Kernel = {
  name: 'kv',
  description: 'first-class key-value service: ~60 us requests, Zipf(0.9) over a 24 MiB dataset',
  cpiCore: 0.9,
  apki: 12,
  mlp: 2,
  writeFraction: 0.2,
  dramRowHitRate: 0.15,
  pattern: { kind: 'zipf', workingSetBytes: 24 * 1024 * 1024, alpha: 0.9 },
  ioBytesPerKiloInstr: 0,
  instrPerRequest: 150_000,
  requestCv: 0.5,
};
