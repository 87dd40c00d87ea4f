// How many memory accesses a redis request makes below the core's private
// caches, measured with cachegrind (valgrind) on the host's own redis-server
// with the key space and request mix the runner's load generator uses.
//
// Why: the simulator's first-class `kv` kernel charges a request its LLC
// accesses per instruction (apki) times its instructions. The kernel preset
// is a generic cache-sensitive store (about 1800 LLC accesses for a 150k-
// instruction request); redis serving a 256-byte value over a Unix socket
// makes about twenty, most of its CPU time going to the event loop and the
// kernel's socket path. `umbra compare` fits the instructions per request to
// the host's CPU time, and without a measured footprint the simulated kv kept
// the preset's accesses per instruction: next to a streaming copy it slowed
// down x1.8-1.9 where redis slowed down x1.1-1.3 (2026-11-24). This VM has no
// PMU to count LLC references, so the count comes from cachegrind's cache
// model (the one `umbra cache-sim` reproduces), run on the same binary.
//
// Method: two runs of redis-server under `valgrind --tool=cachegrind
// --cache-sim=yes`, the private caches given as the host's (L1i, L1d and, as
// cachegrind's last level, the largest private level: accesses that miss it
// are the ones that reach the shared LLC). Both preload the key space; the
// second then serves `requests` requests one at a time (GET/SET mix and
// hot-key choice as the load generator's). The difference between the two
// runs' totals, divided by `requests`, is the per-request figure: start-up,
// preload and shutdown cancel out.
//
// What it cannot see: the kernel's side of each request (socket buffers,
// epoll), which valgrind does not run. Those accesses are left out; the
// report says so.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Rng } from '../../util/rng.js';
import type { CacheInfo } from '../probe/topology.js';
import { connectRedis, pickKeyIndex, redisCommands, redisKey, DEFAULT_GET_RATIO } from '../workloads/redis-load-generator.js';
import { redisServerArgv, waitForRedis } from '../workloads/redis-server.js';
import { encodeCommand } from '../workloads/resp.js';
import { registerRestorer } from '../safety/cleanup-hooks.js';
import { Journal } from '../journal/journal.js';
import { defaultJournalDir } from '../journal/default-dir.js';
import { ProcessManager } from '../process/process-manager.js';
import { NodeHostFs } from '../fs/impl/node-fs.js';
import { hostPaths } from '../host-paths.js';

/** One cache as cachegrind takes it (--I1/--D1/--LL=size,assoc,line). */
export interface CacheGeometry {
  sizeBytes: number;
  ways: number;
  lineBytes: number;
}

export interface RedisFootprintOptions {
  redisBinary: string;
  valgrindBinary: string;
  keySpace: number;
  valueBytes: number;
  getRatio?: number;
  hotKeyFraction?: number;
  hotRequestShare?: number;
  /** Requests served in the measured run (default 2000). */
  requests?: number;
  /** Key and GET/SET choices (the load generator's distribution). */
  rng: Rng;
  caches: FootprintCaches;
  /** Per valgrind run, start to exit (default 120 s). */
  timeoutMs?: number;
  /** Where the runs' journals go (default: the runner's, defaultJournalDir). */
  journalDir?: string;
}

export interface RedisFootprint {
  requests: number;
  /** Accesses per request that miss the private caches (reads, writes, instruction fetches): what reaches the LLC. */
  llcAccessesPerRequest: number;
  llcReadsPerRequest: number;
  llcWritesPerRequest: number;
  llcInstructionFetchesPerRequest: number;
  /** User-space instructions per request (the kernel's are not counted). */
  userInstructionsPerRequest: number;
  /** Accesses per request that miss L1. */
  l1MissesPerRequest: number;
  caches: FootprintCaches;
}

/**
 * The caches cachegrind is given: the host's L1s and, as its last level (LL),
 * the largest private level (llIsPrivate: its misses are the LLC's accesses)
 * or, on a host with no private level beyond L1, the shared LLC itself (then
 * the L1 misses are the LLC's accesses).
 */
export interface FootprintCaches {
  l1i: CacheGeometry;
  l1d: CacheGeometry;
  ll: CacheGeometry;
  llIsPrivate: boolean;
}

/** Cachegrind's event totals of one run. */
export type CachegrindTotals = Record<string, number>;

/** The `summary:` line of a cachegrind output file, by the names on its `events:` line. */
export function parseCachegrindSummary(text: string, source: string): CachegrindTotals {
  const events = /^events:\s*(.+)$/m.exec(text);
  const summary = /^summary:\s*(.+)$/m.exec(text);
  if (!events || !summary) throw new Error(`${source}: no events: and summary: lines (not a cachegrind output file?)`);
  const names = events[1].trim().split(/\s+/);
  const values = summary[1].trim().split(/\s+/).map(Number);
  if (values.length !== names.length || values.some((v) => !Number.isFinite(v))) {
    throw new Error(`${source}: summary has ${values.length} values for ${names.length} events`);
  }
  return Object.fromEntries(names.map((n, i) => [n, values[i]]));
}

/** Per-request figures from the baseline run's totals and the measured run's. */
export function footprintFromTotals(base: CachegrindTotals, measured: CachegrindTotals, requests: number, caches: FootprintCaches): RedisFootprint {
  for (const e of ['Ir', 'I1mr', 'ILmr', 'D1mr', 'DLmr', 'D1mw', 'DLmw']) {
    if (base[e] === undefined || measured[e] === undefined) throw new Error(`cachegrind reported no ${e} count (run without --cache-sim=yes?)`);
  }
  if (!(requests > 0)) throw new Error('no requests measured');
  const per = (e: string) => Math.max(0, measured[e] - base[e]) / requests;
  const reads = per(caches.llIsPrivate ? 'DLmr' : 'D1mr');
  const writes = per(caches.llIsPrivate ? 'DLmw' : 'D1mw');
  const fetches = per(caches.llIsPrivate ? 'ILmr' : 'I1mr');
  return {
    requests,
    llcAccessesPerRequest: reads + writes + fetches,
    llcReadsPerRequest: reads,
    llcWritesPerRequest: writes,
    llcInstructionFetchesPerRequest: fetches,
    userInstructionsPerRequest: per('Ir'),
    l1MissesPerRequest: per('I1mr') + per('D1mr') + per('D1mw'),
    caches,
  };
}

/** What cachegrind is given on this host (see FootprintCaches), or why it cannot model the host's caches. */
export function footprintCaches(caches: CacheInfo[]): { caches: FootprintCaches } | { reason: string } {
  const geo = (c: CacheInfo): CacheGeometry => ({ sizeBytes: c.sizeBytes, ways: c.ways, lineBytes: c.lineBytes || 64 });
  const l1i = caches.find((c) => c.level === 1 && c.type === 'Instruction');
  const l1d = caches.find((c) => c.level === 1 && c.type === 'Data');
  if (!l1i || !l1d) return { reason: 'sysfs lists no L1 instruction and data caches' };
  const top = Math.max(...caches.map((c) => c.level));
  if (top <= 1) return { reason: 'sysfs lists no cache beyond L1' };
  // private: a unified level below the top one (the top one is the shared LLC)
  const priv = caches.filter((c) => c.type === 'Unified' && c.level > 1 && c.level < top).sort((a, b) => b.level - a.level)[0];
  const ll = priv ?? caches.find((c) => c.level === top && c.type !== 'Instruction');
  if (!ll) return { reason: `sysfs lists no data or unified cache at level ${top}` };
  const out: FootprintCaches = { l1i: geo(l1i), l1d: geo(l1d), ll: geo(ll), llIsPrivate: priv !== undefined };
  for (const [name, g] of [['L1i', out.l1i], ['L1d', out.l1d], [`L${ll.level}`, out.ll]] as const) {
    const sets = g.sizeBytes / (g.ways * g.lineBytes);
    if (!(g.ways > 0) || !Number.isInteger(sets) || (sets & (sets - 1)) !== 0) {
      return { reason: `${name} (${g.sizeBytes} B, ${g.ways}-way, ${g.lineBytes} B lines) has ${sets} sets; cachegrind models only a power of two` };
    }
  }
  return { caches: out };
}

function cacheArg(flag: string, g: CacheGeometry): string {
  return `--${flag}=${g.sizeBytes},${g.ways},${g.lineBytes}`;
}

/** Measure a redis request's footprint (see the header). Throws with the reason when a run fails. */
export async function measureRedisFootprint(o: RedisFootprintOptions): Promise<RedisFootprint> {
  const requests = o.requests ?? 2000;
  const caches = o.caches;
  const base = await cachegrindRun(o, 0, caches);
  const measured = await cachegrindRun(o, requests, caches);
  return footprintFromTotals(base, measured, requests, caches);
}

async function cachegrindRun(o: RedisFootprintOptions, requests: number, caches: FootprintCaches): Promise<CachegrindTotals> {
  // Started as the runner starts its processes (argv, own process group,
  // journaled with its start time, in a scratch dir the journal removes):
  // redis never exits by itself, so it is stopped on every way out (exit,
  // SIGINT, SIGTERM, SIGHUP: cleanup hooks) and, after a SIGKILL of this
  // process, by the next run or `umbra cleanup`.
  const id = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const dir = join(tmpdir(), `umbra-footprint-${id}`);
  const procRoot = hostPaths().procRoot;
  const journal = Journal.create(o.journalDir ?? defaultJournalDir(), `footprint-${id}`, procRoot);
  journal.record({ op: 'scratch', path: dir });
  mkdirSync(dir, { mode: 0o700 });
  const outFile = join(dir, 'cachegrind.out');
  const launch = redisServerArgv(o.redisBinary, dir);
  const argv = [o.valgrindBinary, '--tool=cachegrind', '--cache-sim=yes', `--cachegrind-out-file=${outFile}`, cacheArg('I1', caches.l1i), cacheArg('D1', caches.l1d), cacheArg('LL', caches.ll), ...launch.argv];
  const deps = { fs: new NodeHostFs(), procRoot, killGraceMs: 500 };
  const unregister = registerRestorer(() => journal.restore(deps));
  const timeoutMs = o.timeoutMs ?? 120_000;
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  try {
    const proc = new ProcessManager(journal, procRoot).spawn('redis-server under cachegrind', argv);
    const why = () =>
      timedOut
        ? `no result within ${timeoutMs / 1000} s (stopped)`
        : `${proc.exitCode !== null ? `exit code ${proc.exitCode}` : `signal ${proc.exitSignal}`}: ${proc.stderrTail.slice(-1)[0] ?? 'no output'}`;
    timer = setTimeout(() => {
      timedOut = true;
      journal.restore(deps);
    }, timeoutMs);
    await waitForRedis(launch.socketPath, Math.min(timeoutMs, 60_000), () => (proc.exited ? why() : null));
    const s = await connectRedis({ socketPath: launch.socketPath }, 10_000);
    try {
      const value = 'v'.repeat(o.valueBytes);
      for (let b = 0; b < o.keySpace; b += 1000) {
        const batch: string[][] = [];
        for (let k = b; k < Math.min(o.keySpace, b + 1000); k++) batch.push(['SET', redisKey(k), value]);
        await redisCommands(s, batch);
      }
      // one request at a time, as the open-loop load arrives at a service that keeps up
      const getRatio = o.getRatio ?? DEFAULT_GET_RATIO;
      for (let i = 0; i < requests; i++) {
        const k = redisKey(pickKeyIndex(o.rng, o.keySpace, o.hotKeyFraction, o.hotRequestShare));
        await redisCommands(s, [o.rng.next() < getRatio ? ['GET', k] : ['SET', k, value]]);
      }
      // redis exits on it (no reply), and cachegrind then writes its totals
      s.write(encodeCommand(['SHUTDOWN', 'NOSAVE']));
    } finally {
      s.destroySoon();
    }
    await proc.exit;
    if (proc.exitCode !== 0) throw new Error(`redis-server under cachegrind ended with ${why()}`);
    let text: string;
    try {
      text = readFileSync(outFile, 'utf8');
    } catch {
      throw new Error(`cachegrind wrote no ${outFile}: ${why()}`);
    }
    return parseCachegrindSummary(text, outFile);
  } finally {
    clearTimeout(timer);
    // stops redis if it still runs, and removes the scratch dir
    const report = journal.restore(deps);
    unregister();
    if (!report.complete) throw new Error(`stopping redis-server under cachegrind failed: ${report.failures.map((f) => f.error).join('; ')}; run umbra cleanup`);
  }
}

