// The cachegrind measurement of a redis request's footprint: parsing
// cachegrind's output, the per-request difference of two runs, which host
// cache is given as cachegrind's last level, and (where valgrind and
// redis-server are installed) a real measurement whose accesses per request
// grow with the value size a GET reads.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findExecutable } from '../../runner/process/find-executable.js';
import { ensureDistFresh, ROOT } from './helpers/cli-build.js';
import { runCli, tempDir } from '../experiments/helpers.js';
import {
  footprintCaches,
  footprintFromTotals,
  measureRedisFootprint,
  parseCachegrindSummary,
  type FootprintCaches,
} from '../../runner/calibrate/redis-footprint.js';
import type { CacheInfo } from '../../runner/probe/topology.js';
import { rngFor } from '../../util/rng.js';

const CG_OUT = `desc: I1 cache:         32768 B, 64 B, 8-way associative
desc: D1 cache:         32768 B, 64 B, 8-way associative
desc: LL cache:         1048576 B, 64 B, 8-way associative
cmd: /usr/bin/redis-server --port 0
events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw
fl=???
fn=main
10 1 1 1 1 0 0 0 0 0
summary: 423709214 2485859 27904 109974488 1289107 515148 52183384 516602 391718
`;

const cache = (level: number, type: string, sizeBytes: number, ways: number, shared: number[] = [0]): CacheInfo => ({ level, type, sizeBytes, ways, lineBytes: 64, sharedCpus: shared });
const L1 = [cache(1, 'Data', 32768, 8), cache(1, 'Instruction', 32768, 8)];
const PRIVATE_L2: FootprintCaches = { l1i: { sizeBytes: 32768, ways: 8, lineBytes: 64 }, l1d: { sizeBytes: 32768, ways: 8, lineBytes: 64 }, ll: { sizeBytes: 1 << 20, ways: 8, lineBytes: 64 }, llIsPrivate: true };

describe('cachegrind output', () => {
  it('reads the summary by the names on the events line', () => {
    const t = parseCachegrindSummary(CG_OUT, 'cg.out');
    expect(t.Ir).toBe(423709214);
    expect(t.DLmr).toBe(515148);
    expect(t.DLmw).toBe(391718);
  });

  it('refuses a file without events and summary, naming it', () => {
    expect(() => parseCachegrindSummary('desc: nothing\n', '/tmp/x.out')).toThrow(/\/tmp\/x\.out: no events: and summary: lines/);
    expect(() => parseCachegrindSummary('events: Ir Dr\nsummary: 1 2 3\n', 'f')).toThrow(/f: summary has 3 values for 2 events/);
  });
});

describe('per-request footprint from two runs', () => {
  const base = { Ir: 1000, I1mr: 100, ILmr: 10, Dr: 500, D1mr: 50, DLmr: 20, Dw: 300, D1mw: 30, DLmw: 5 };
  const measured = { Ir: 21000, I1mr: 300, ILmr: 30, Dr: 900, D1mr: 450, DLmr: 220, Dw: 500, D1mw: 130, DLmw: 45 };

  it('divides the difference by the requests: misses of the private last level reach the LLC', () => {
    const f = footprintFromTotals(base, measured, 10, PRIVATE_L2);
    expect(f.llcReadsPerRequest).toBe(20);
    expect(f.llcWritesPerRequest).toBe(4);
    expect(f.llcInstructionFetchesPerRequest).toBe(2);
    expect(f.llcAccessesPerRequest).toBe(26);
    expect(f.userInstructionsPerRequest).toBe(2000);
    expect(f.l1MissesPerRequest).toBe(20 + 40 + 10);
  });

  it('counts L1 misses when cachegrind\'s last level is the shared cache itself', () => {
    const f = footprintFromTotals(base, measured, 10, { ...PRIVATE_L2, llIsPrivate: false });
    expect(f.llcAccessesPerRequest).toBe(20 + 40 + 10);
  });

  it('refuses totals without the cache simulation, or no requests', () => {
    expect(() => footprintFromTotals({ Ir: 1 }, { Ir: 2 }, 10, PRIVATE_L2)).toThrow(/no I1mr count/);
    expect(() => footprintFromTotals(base, measured, 0, PRIVATE_L2)).toThrow(/no requests/);
  });
});

describe('the caches cachegrind is given', () => {
  it('takes the largest private level below the shared LLC as its last level', () => {
    const r = footprintCaches([...L1, cache(2, 'Unified', 1 << 20, 8), cache(3, 'Unified', 32 << 20, 16, [0, 1])]);
    expect(r).toEqual({ caches: PRIVATE_L2 });
  });

  it('takes the shared LLC, counting L1 misses, on a host with no level between', () => {
    const r = footprintCaches([...L1, cache(2, 'Unified', 4 << 20, 16, [0, 1])]);
    expect('caches' in r && r.caches.llIsPrivate).toBe(false);
    expect('caches' in r && r.caches.ll.sizeBytes).toBe(4 << 20);
  });

  it('says why when cachegrind cannot model the host', () => {
    expect(footprintCaches([cache(2, 'Unified', 1 << 20, 8)])).toEqual({ reason: 'sysfs lists no L1 instruction and data caches' });
    expect(footprintCaches(L1)).toEqual({ reason: 'sysfs lists no cache beyond L1' });
    // 1.25 MiB 10-way: 2048 sets (fine); 1.5 MiB 8-way: 3072 sets (not a power of two)
    expect('caches' in footprintCaches([...L1, cache(2, 'Unified', 1.25 * (1 << 20), 10), cache(3, 'Unified', 32 << 20, 16)])).toBe(true);
    const r = footprintCaches([...L1, cache(2, 'Unified', 1.5 * (1 << 20), 8), cache(3, 'Unified', 32 << 20, 16)]);
    expect(r).toEqual({ reason: 'L2 (1572864 B, 8-way, 64 B lines) has 3072 sets; cachegrind models only a power of two' });
  });
});

const valgrind = findExecutable('valgrind');
const redis = findExecutable('redis-server');
const skip = !valgrind ? 'valgrind is not installed' : !redis ? 'redis-server is not installed' : '';
if (skip) console.warn(`redis footprint measurement test skipped: ${skip}`);

describe('measuring redis under cachegrind', () => {
  it.skipIf(!!skip)('counts more LLC accesses per request when each GET reads a bigger value', async () => {
    const run = (valueBytes: number) =>
      measureRedisFootprint({ redisBinary: redis!, valgrindBinary: valgrind!, keySpace: 1000, valueBytes, requests: 300, getRatio: 1, rng: rngFor(1, 'footprint-test'), caches: PRIVATE_L2 });
    const small = await run(64);
    // 1000 values of 8 KiB (8 MB) do not fit the 1 MiB private level: each GET reads its value's 128 lines from beyond it
    const big = await run(8192);
    expect(small.requests).toBe(300);
    expect(small.userInstructionsPerRequest).toBeGreaterThan(500);
    expect(small.llcAccessesPerRequest).toBeGreaterThan(0);
    expect(big.llcReadsPerRequest).toBeGreaterThan(small.llcReadsPerRequest + 64);
  }, 120_000);

  it.skipIf(!!skip).each([
    ['SIGTERM', 'stops redis-server and valgrind with it'],
    ['SIGKILL', 'leaves a journal from which umbra cleanup stops redis-server and valgrind'],
  ] as const)('%s during a measurement %s', async (signal) => {
    ensureDistFresh();
    const journalDir = tempDir('footprint-journal');
    const script = `
      const { measureRedisFootprint } = await import(${JSON.stringify(join(ROOT, 'dist/runner/calibrate/redis-footprint.js'))});
      const { rngFor } = await import(${JSON.stringify(join(ROOT, 'dist/util/rng.js'))});
      const g = { sizeBytes: 32768, ways: 8, lineBytes: 64 };
      await measureRedisFootprint({ redisBinary: ${JSON.stringify(redis)}, valgrindBinary: ${JSON.stringify(valgrind)}, keySpace: 100, valueBytes: 64, requests: 10000000, rng: rngFor(1, 'k'), caches: { l1i: g, l1d: g, ll: { sizeBytes: 1 << 20, ways: 8, lineBytes: 64 }, llIsPrivate: true }, journalDir: ${JSON.stringify(journalDir)} });
    `;
    const node = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
    const childrenOf = (pid: number): number[] =>
      readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .filter((d) => {
          try {
            return Number(readFileSync(`/proc/${d}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]) === pid;
          } catch {
            return false;
          }
        })
        .map(Number);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const alive = (pid: number) => {
      try {
        return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    try {
      // the first valgrind child is the baseline run (no requests), which shuts redis down itself;
      // the second serves the 10 million requests: wait for it, and until its redis listens
      let first: number[] = [];
      for (let i = 0; i < 400 && first.length === 0; i++) {
        await sleep(50);
        first = childrenOf(node.pid!);
      }
      expect(first.length).toBeGreaterThan(0);
      let kids: number[] = [];
      for (let i = 0; i < 600 && kids.length === 0; i++) {
        await sleep(50);
        kids = childrenOf(node.pid!).filter((k) => !first.includes(k));
      }
      expect(kids.length).toBeGreaterThan(0);
      const args = readFileSync(`/proc/${kids[0]}/cmdline`, 'utf8').split('\0');
      const socket = args[args.indexOf('--unixsocket') + 1];
      for (let i = 0; i < 400 && !existsSync(socket); i++) await sleep(50);
      expect(existsSync(socket)).toBe(true);
      await sleep(500);
      const exited = new Promise<NodeJS.Signals | null>((r) => node.once('exit', (_c, sig) => r(sig)));
      node.kill(signal);
      expect(await exited).toBe(signal);
      if (signal === 'SIGKILL') {
        // nothing ran in the killed process: redis is still there, and the journal says how to stop it
        await sleep(300);
        expect(kids.filter(alive)).toEqual(kids);
        const r = await runCli(['cleanup', '--journal-dir', journalDir, '--json']);
        expect(r.code).toBe(0);
        expect(JSON.parse(r.stdout).results.map((x: { outcome: string }) => x.outcome)).toEqual(['restored']);
      }
      for (let i = 0; i < 40 && kids.some(alive); i++) await sleep(50);
      expect(kids.filter(alive)).toEqual([]);
      // nor its scratch dir (the socket's), nor a journal
      expect(existsSync(dirname(socket))).toBe(false);
      expect(readdirSync(journalDir).filter((f) => f.endsWith('.journal'))).toEqual([]);
    } finally {
      node.kill('SIGKILL');
      rmSync(journalDir, { recursive: true, force: true });
    }
  }, 60_000);
});

