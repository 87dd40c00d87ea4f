// `umbra cache-sim` end to end through the built CLI (bin/umbra.js): output
// shapes, gzip input, and exit code 2 with a clear message for bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execFile } from 'node:child_process';
import { ensureBuilt, UMBRA_BIN } from './build-cli.js';

// Hand-derived with I1 = D1 = 128,2,16 (4 sets) and LL = 1024,4,16 (16 sets):
// I 1000 miss/LL miss; I 1000 hit; L 40 miss/LL miss; L 80 miss/LL miss;
// M 40 hit (one read); L c0,8 miss (evicts 80)/LL miss; L 80 miss/LL hit; S 80 hit.
const TRACE = [
  '==77== Lackey, an example Valgrind tool',
  'I  00001000,4',
  'I  00001000,4',
  ' L 00000040,4',
  ' L 00000080,4',
  ' M 00000040,4',
  ' L 000000c0,8',
  ' L 00000080,2',
  ' S 00000080,4',
  '==77== ',
].join('\n') + '\n';
const CACHES = ['--I1', '128,2,16', '--D1', '128,2,16', '--LL', '1024,4,16'];
const EXPECTED = { I1: { refs: 2, misses: 1 }, D1: { refs: 6, misses: 4 }, LL: { refs: 5, misses: 4 } };

let dir: string;
beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'umbra-cache-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [UMBRA_BIN, 'cache-sim', ...args], (error, out, err) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, out, err });
    });
  });
}

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe('umbra cache-sim', () => {
  it('--json prints exactly the documented one-line shape with the right counts', async () => {
    const r = await run(['--trace', file('t.trace', TRACE), ...CACHES, '--json']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\{"I1":\{"refs":\d+,"misses":\d+\},"D1":\{"refs":\d+,"misses":\d+\},"LL":\{"refs":\d+,"misses":\d+\}\}\n$/);
    expect(JSON.parse(r.out)).toEqual(EXPECTED);
  });

  it('prints a table with miss rates without --json', async () => {
    const r = await run(['--trace', file('t2.trace', TRACE), ...CACHES]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/I1\s.*\s2\s+1\s+50\.00%/);
    expect(r.out).toMatch(/D1\s.*\s6\s+4\s+66\.67%/);
    expect(r.out).toMatch(/LL\s.*\s5\s+4\s+80\.00%/);
  });

  it('reads gzip input detected by magic bytes, whatever the file name', async () => {
    const gz = gzipSync(Buffer.from(TRACE));
    for (const name of ['t.trace.gz', 't.bin']) {
      const r = await run(['--trace', file(name, gz), ...CACHES, '--json']);
      expect(r.code, r.err).toBe(0);
      expect(JSON.parse(r.out)).toEqual(EXPECTED);
    }
    // and a plain-text file named .gz is read as text
    const r = await run(['--trace', file('plain.gz', TRACE), ...CACHES, '--json']);
    expect(JSON.parse(r.out)).toEqual(EXPECTED);
  });

  it('reads a trace whose last line has no newline, split across many gzip members', async () => {
    const half = TRACE.length >> 1;
    const gz = Buffer.concat([gzipSync(Buffer.from(TRACE.slice(0, half))), gzipSync(Buffer.from(TRACE.slice(half).trimEnd()))]);
    const r = await run(['--trace', file('multi.gz', gz), ...CACHES, '--json']);
    expect(JSON.parse(r.out)).toEqual(EXPECTED);
  });

  it('exits 2 naming file:line on a malformed line', async () => {
    const p = file('bad.trace', 'I  00001000,4\n L 00000040,4\n X 00000040,4\n');
    const r = await run(['--trace', p, ...CACHES, '--json']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain(`${p}:3:`);
    expect(r.err).toMatch(/expected a lackey trace line/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    for (const [content, line, what] of [
      ['I  00001000\n', 1, /","/],
      [' L 0000zz40,4\n', 1, /","/],
      ['I  00001000,4\n L 40,\n', 2, /decimal size/],
      [' S 40,4 extra\n', 1, /after the size/],
    ] as const) {
      const q = file('bad2.trace', content);
      const r2 = await run(['--trace', q, ...CACHES]);
      expect(r2.code).toBe(2);
      expect(r2.err).toContain(`${q}:${line}:`);
      expect(r2.err).toMatch(what);
    }
  });

  it('exits 2 on corrupt gzip data', async () => {
    const gz = gzipSync(Buffer.from(TRACE));
    const r = await run(['--trace', file('trunc.gz', gz.subarray(0, gz.length - 12)), ...CACHES]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/gzip/);
  });

  it('exits 2 on a missing file, naming it', async () => {
    const p = join(dir, 'does-not-exist.trace');
    const r = await run(['--trace', p, ...CACHES]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(p);
    expect(r.err).toMatch(/not found/);
  });

  it('exits 2 on cache configurations cachegrind rejects, naming the option', async () => {
    const p = file('ok.trace', TRACE);
    for (const [opt, value, what] of [
      ['--I1', '4096,3,64', /set count is not a power of two/],
      ['--D1', '4096,2,48', /set count is not a power of two/],
      ['--LL', '4096,2,8', /line size 8 is too small/],
      ['--I1', '64,1,64', /size 64 <= line size 64/],
      ['--D1', '4096,0,64', /positive/],
      ['--I1', '4096,2', /SIZE,ASSOC,LINE/],
      ['--LL', '0x1000,2,64', /SIZE,ASSOC,LINE/],
      ['--LL', '99999999999,2,64', /too large/],
    ] as const) {
      const r = await run(['--trace', p, ...CACHES, opt, value]);
      expect(r.code, `${opt}=${value}`).toBe(2);
      expect(r.err).toContain(opt);
      expect(r.err).toMatch(what);
    }
    // accepted by cachegrind: non-power-of-two associativity with power-of-two sets
    const ok = await run(['--trace', p, ...CACHES, '--D1', '12288,3,64', '--json']);
    expect(ok.code).toBe(0);
  });

  it('exits 2 on an unknown --format and on a missing --trace', async () => {
    expect((await run(['--trace', file('f.trace', TRACE), '--format', 'pin'])).code).toBe(2);
    expect((await run([...CACHES])).code).toBe(2);
  });
});
