// A first-class service's LLC accesses per request, measured on the host
// (runner/calibrate/redis-footprint.ts: cachegrind on the host's own
// redis-server, same key space and request mix), for the simulated kernel.
//
// The simulated kernel charges apki (LLC accesses per 1000 instructions);
// the service-demand fit (fit-service-demand.ts) changes the instructions per
// request to match the host's CPU time, so the measured accesses per request
// are turned into apki for whatever instructions a run uses:
// apki = accesses per request x 1000 / instructions per request. Without the
// measurement the preset's apki stays (a generic cache-sensitive store, 20-
// 60 times redis's accesses per request on this host), and so does the
// preset's sensitivity to the memory traffic of co-located jobs.
import { findExecutable } from '../../runner/process/find-executable.js';
import { readTopology } from '../../runner/probe/topology.js';
import { NodeHostFs } from '../../runner/fs/impl/node-fs.js';
import { hostPaths } from '../../runner/host-paths.js';
import { footprintCaches, measureRedisFootprint, type RedisFootprint } from '../../runner/calibrate/redis-footprint.js';
import { acquireHostLock } from '../../runner/safety/host-lock.js';
import { defaultJournalDir } from '../../runner/journal/default-dir.js';
import type { HostTaskSpec } from '../../runner/host-task-spec.js';
import { rngFor } from '../../util/rng.js';
import { DEFAULT_KEY_SPACE, DEFAULT_VALUE_BYTES } from '../../runner/workloads/redis-load-generator.js';

export interface ServiceFootprintFit {
  task: string;
  kernel: string;
  presetApki: number;
  /** The measurement (null: not measured, see note). */
  measured: RedisFootprint | null;
  /** The apki the simulated runs used with the final instructions per request (null: the preset's). */
  apki: number | null;
  instrPerRequest: number | null;
  note: string | null;
}

/** apki that gives `accessesPerRequest` LLC accesses to a request of `instrPerRequest` instructions. */
export function apkiForFootprint(accessesPerRequest: number, instrPerRequest: number): number {
  return (accessesPerRequest * 1000) / instrPerRequest;
}

/**
 * Measure the footprint of the host service `spec` maps to (redis only), or
 * say why not: no valgrind, no redis-server, caches cachegrind cannot model.
 */
export async function measureServiceFootprint(
  spec: HostTaskSpec,
  o: { seed: number; requests?: number; lockTimeoutMs?: number; purpose: string },
): Promise<{ footprint: RedisFootprint } | { reason: string }> {
  const w = spec.workload;
  if (w.kind !== 'redis') return { reason: `${spec.id} is not a redis service on the host` };
  const valgrind = findExecutable('valgrind');
  if (!valgrind) return { reason: 'valgrind is not installed (apt-get install valgrind)' };
  const redis = w.binary ?? findExecutable('redis-server');
  if (!redis) return { reason: 'redis-server is not installed' };
  const p = hostPaths();
  const caches = footprintCaches(readTopology(new NodeHostFs(), p.sysRoot, p.procRoot).caches);
  if ('reason' in caches) return { reason: caches.reason };
  // a measurement on the host: one at a time with the runs (the host lock)
  const lock = await acquireHostLock({ dir: defaultJournalDir(), timeoutMs: o.lockTimeoutMs, purpose: o.purpose });
  try {
    const footprint = await measureRedisFootprint({
      redisBinary: redis,
      valgrindBinary: valgrind,
      keySpace: w.keySpace ?? DEFAULT_KEY_SPACE,
      valueBytes: w.valueBytes ?? DEFAULT_VALUE_BYTES,
      ...(w.getRatio !== undefined ? { getRatio: w.getRatio } : {}),
      requests: o.requests,
      rng: rngFor(o.seed, `footprint/${spec.id}`),
      caches: caches.caches,
    });
    return { footprint };
  } catch (err) {
    return { reason: `the cachegrind measurement failed: ${(err as Error).message}` };
  } finally {
    lock.release();
  }
}

/** The setup line of the report for one fit. */
export function footprintLine(f: ServiceFootprintFit): string {
  if (!f.measured) return `LLC accesses per request of ${f.task} not measured (${f.note ?? 'no reason given'}): the ${f.kernel} preset's apki ${f.presetApki} kept`;
  const m = f.measured;
  const kib = (b: number) => (b >= 1 << 20 ? `${+(b / (1 << 20)).toFixed(2)} MiB` : `${+(b / 1024).toFixed(1)} KiB`);
  const ll = m.caches.llIsPrivate ? `the private ${kib(m.caches.ll.sizeBytes)} ${m.caches.ll.ways}-way level as its last level` : `no private level beyond L1 (L1 misses counted)`;
  const apki = f.apki !== null && f.instrPerRequest !== null ? `: apki ${+f.apki.toPrecision(3)} over the ${f.instrPerRequest} instructions per request simulated (preset apki ${f.presetApki})` : '';
  return (
    `LLC accesses per request of ${f.task}: ${m.llcAccessesPerRequest.toFixed(1)} (${m.llcReadsPerRequest.toFixed(1)} reads, ${m.llcWritesPerRequest.toFixed(1)} writes, ${m.llcInstructionFetchesPerRequest.toFixed(1)} instruction fetches), ` +
    `measured with cachegrind on redis-server over ${m.requests} requests (L1i ${kib(m.caches.l1i.sizeBytes)}, L1d ${kib(m.caches.l1d.sizeBytes)}, ${ll}; ${Math.round(m.userInstructionsPerRequest)} user-space instructions per request; the kernel's socket path is not seen)${apki}` +
    (f.note ? `; ${f.note}` : '')
  );
}
