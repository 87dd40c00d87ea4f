// The replay against valgrind's own cachegrind on real programs: each program
// runs once under lackey (trace on fd 9) and once per cache configuration
// under cachegrind, with the same argv, environment, stdin (/dev/null) and
// stdout target (a regular file: glibc takes other start-up paths when stdout
// is a file or a pipe), and fd 9 open in both. All nine cachegrind counters
// must agree exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync, type StdioOptions } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, createReadStream, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { parseCachegrindTotals } from '../../sim/cache/cachegrind-out.js';
import { replayLackeyTrace } from '../../sim/cache/replay.js';
import { summarizeCounts, type HierarchyConfig } from '../../sim/cache/cachegrind-hierarchy.js';

const hasValgrind = spawnSync('valgrind', ['--version'], { stdio: 'ignore' }).status === 0;
const PROGRAMS_DIR = fileURLToPath(new URL('./programs/', import.meta.url));

/** Three geometries: typical; tiny LL with mixed line sizes (many LL misses); odd associativity. */
const CONFIGS: { name: string; spec: Record<'I1' | 'D1' | 'LL', string> }[] = [
  { name: 'typical', spec: { I1: '32768,8,64', D1: '32768,8,64', LL: '262144,8,64' } },
  { name: 'tiny LL, mixed lines', spec: { I1: '4096,1,32', D1: '4096,4,64', LL: '16384,2,128' } },
  { name: 'odd ways', spec: { I1: '12288,3,64', D1: '8192,2,32', LL: '98304,6,64' } },
];
const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };

function toConfig(spec: Record<'I1' | 'D1' | 'LL', string>): HierarchyConfig {
  const one = (s: string) => {
    const [sizeBytes, ways, lineBytes] = s.split(',').map(Number);
    return { sizeBytes, ways, lineBytes };
  };
  return { I1: one(spec.I1), D1: one(spec.D1), LL: one(spec.LL) };
}

let work: string;

/** Run valgrind with stdin /dev/null, stdout to `stdoutPath`, fd 9 to `fd9Path`. */
function valgrind(args: string[], stdoutPath: string, fd9Path: string): void {
  const stdin = openSync('/dev/null', 'r');
  const stdout = openSync(stdoutPath, 'w');
  const fd9 = openSync(fd9Path, 'w');
  try {
    const stdio: StdioOptions = [stdin, stdout, 'pipe', 'ignore', 'ignore', 'ignore', 'ignore', 'ignore', 'ignore', fd9];
    const r = spawnSync('valgrind', args, { stdio, env: ENV, cwd: work, maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`valgrind ${args.join(' ')} exited ${r.status}: ${r.stderr?.toString().slice(-2000)}`);
  } finally {
    closeSync(stdin);
    closeSync(stdout);
    closeSync(fd9);
  }
}

async function expectReplayMatchesCachegrind(name: string, argv: string[], gzipTrace = false): Promise<void> {
  let trace = join(work, `${name}.trace`);
  valgrind(['--tool=lackey', '--trace-mem=yes', '--log-fd=9', ...argv], join(work, `${name}.lackey.stdout`), trace);
  if (gzipTrace) {
    await pipeline(createReadStream(trace), createGzip(), createWriteStream(`${trace}.gz`));
    rmSync(trace);
    trace = `${trace}.gz`;
  }
  for (const cfg of CONFIGS) {
    const out = join(work, `${name}.${cfg.name.replace(/\W+/g, '_')}.cg.out`);
    valgrind(
      ['--tool=cachegrind', '--cache-sim=yes', `--I1=${cfg.spec.I1}`, `--D1=${cfg.spec.D1}`, `--LL=${cfg.spec.LL}`, `--cachegrind-out-file=${out}`, ...argv],
      join(work, `${name}.cg.stdout`),
      '/dev/null',
    );
    const expected = parseCachegrindTotals(readFileSync(out, 'utf8'), out);
    const replay = await replayLackeyTrace(trace, toConfig(cfg.spec));
    expect(replay.counts, `${name} with ${cfg.name}`).toEqual(expected);
    expect(replay.summary).toEqual(summarizeCounts(expected));
    expect(expected.Ir).toBeGreaterThan(10_000); // the program really ran
  }
  // same program output under both tools: the runs were comparable
  expect(readFileSync(join(work, `${name}.cg.stdout`), 'utf8')).toBe(readFileSync(join(work, `${name}.lackey.stdout`), 'utf8'));
}

describe.skipIf(!hasValgrind)('replay matches valgrind cachegrind exactly', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'umbra-cachegrind-'));
    for (const p of ['matmul', 'list_walk', 'qsort_ints', 'word_count', 'column_stride']) {
      const r = spawnSync('gcc', ['-O1', '-o', join(work, p), join(PROGRAMS_DIR, `${p}.c`)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`gcc ${p}.c failed: ${r.error ?? r.stderr}`);
    }
    const lines: string[] = [];
    let x = 17;
    for (let i = 0; i < 400; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      lines.push(`w${x.toString(36)} ${i}`);
    }
    writeFileSync(join(work, 'words.txt'), lines.join('\n') + '\n');
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('matmul (dense, sequential)', async () => {
    await expectReplayMatchesCachegrind('matmul', [join(work, 'matmul')]);
  });
  it('list_walk (pointer chasing in random order)', async () => {
    await expectReplayMatchesCachegrind('list_walk', [join(work, 'list_walk')]);
  });
  it('qsort_ints (libc qsort with a callback), trace gzipped', async () => {
    await expectReplayMatchesCachegrind('qsort_ints', [join(work, 'qsort_ints')], true);
  });
  it('word_count (strtok, strcmp, hash table)', async () => {
    await expectReplayMatchesCachegrind('word_count', [join(work, 'word_count')]);
  });
  it('column_stride (one access per line, large footprint)', async () => {
    await expectReplayMatchesCachegrind('column_stride', [join(work, 'column_stride')]);
  });
  it.skipIf(!existsSync('/usr/bin/sort'))('system binary: /usr/bin/sort', async () => {
    // GNU sort sizes its buffer from the memory free at that moment and its
    // thread count from the CPUs: pin both, or the two runs execute differently
    await expectReplayMatchesCachegrind('sort', ['/usr/bin/sort', '--buffer-size=1M', '--parallel=1', join(work, 'words.txt')]);
  });
  it.skipIf(!existsSync('/usr/bin/md5sum'))('system binary: /usr/bin/md5sum', async () => {
    await expectReplayMatchesCachegrind('md5sum', ['/usr/bin/md5sum', join(work, 'words.txt')]);
  });
});
