// `umbra dram-sim` through the CLI entry point (experiments/cli/main.ts):
// the --json shape, streaming a trace file, and exit code 2 with file:line
// for malformed input or a missing file.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../experiments/cli/main.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'umbra-dram-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    err += String(s);
    return true;
  });
  try {
    const code = await main(['dram-sim', ...args]);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const KEYS = ['completionCycle', 'avgReadLatencyCycles', 'activates', 'readRowHits', 'writeRowHits', 'reads', 'writes'];

describe('umbra dram-sim', () => {
  it('--json prints exactly the documented keys, with hand-checkable figures', async () => {
    // one miss on a closed bank, then a hit to the same row, far apart; one write
    const trace = file('t.trace', ['0x0 READ 0', '0x40 READ 1000', '0x80000 WRITE 2000', ''].join('\n'));
    const r = await run(['--trace', trace, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as Record<string, number>;
    expect(Object.keys(j)).toEqual(KEYS);
    // DDR4-3200: miss = 1 + tRCD + tCL + burst = 49, hit = 1 + tCL + burst = 27
    expect(j.avgReadLatencyCycles).toBe((49 + 27) / 2);
    expect(j.activates).toBe(1);
    expect(j.readRowHits).toBe(1);
    expect(j.reads).toBe(2);
    expect(j.writes).toBe(1);
    expect(j.completionCycle).toBe(2001); // the write is acknowledged one cycle after acceptance
  });

  it('streams a large trace in batches and honours --channels / --ranks', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 150_000; i++) lines.push(`0x${(i * 64 * 7).toString(16)} ${i % 4 === 0 ? 'WRITE' : 'READ'} ${i * 3}`);
    const trace = file('big.trace', lines.join('\n') + '\n');
    const one = JSON.parse((await run(['--trace', trace, '--json'])).out) as Record<string, number>;
    const two = JSON.parse((await run(['--trace', trace, '--json', '--channels', '2', '--ranks', '1'])).out) as Record<string, number>;
    expect(one.reads + one.writes).toBe(150_000);
    expect(two.reads + two.writes).toBe(150_000);
    expect(two.activates).not.toBe(one.activates);
  });

  it('accepts addresses without 0x, lower-case operations, blank and # lines, CRLF', async () => {
    const trace = file('loose.trace', '# comment\r\n\r\n1f40 read 0\r\n0X2000 write 5\r\n');
    const r = await run(['--trace', trace, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ reads: 1, writes: 1 });
  });

  it.each([
    ['bad address', '0x10 READ 0\nzz READ 5\n', /:2:1: .*bad address "zz"/],
    ['bad operation', '0x10 READ 0\n0x20 FETCH 5\n', /:2:6: .*bad operation "FETCH"/],
    ['bad cycle', '0x10 READ 0\n\n0x20 WRITE -3\n', /:3:12: .*bad cycle "-3"/],
    ['missing cycle', '0x10 READ\n', /:1:10: .*bad cycle ""/],
    ['trailing text', '0x10 READ 0 extra\n', /:1:13: .*unexpected text "extra"/],
  ])('%s -> exit 2 naming file:line:column', async (_name, content, pattern) => {
    const trace = file(`bad-${_name.replace(/ /g, '-')}.trace`, content);
    const r = await run(['--trace', trace, '--json']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(trace);
    expect(r.err).toMatch(pattern);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.out).toBe('');
  });

  it('missing trace file -> exit 2 with the path', async () => {
    const r = await run(['--trace', join(dir, 'nope.trace'), '--json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/nope\.trace: trace file not found/);
  });

  it('bad options -> exit 2', async () => {
    expect((await run(['--trace', file('ok.trace', '0x0 READ 0\n'), '--channels', '3'])).code).toBe(2);
    expect((await run(['--trace', file('ok2.trace', '0x0 READ 0\n'), '--format', 'ramulator'])).code).toBe(2);
    expect((await run([])).code).toBe(2);
  });

  it('a bad --config field is named', async () => {
    const cfg = file('cfg.yaml', 'timingCycles:\n  tCL: -4\n');
    const r = await run(['--trace', file('ok3.trace', '0x0 READ 0\n'), '--config', cfg]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/timingCycles\.tCL/);
  });

  it('--synthetic --emit-trace writes a trace that replays to the same figures', async () => {
    const out = join(dir, 'gen.trace');
    expect((await run(['--synthetic', 'streams,count=4,n=3000,gap=exp:10,writes=0.3', '--emit-trace', out])).code).toBe(0);
    const fromFile = JSON.parse((await run(['--trace', out, '--json'])).out);
    const direct = JSON.parse((await run(['--synthetic', 'streams,count=4,n=3000,gap=exp:10,writes=0.3', '--json'])).out);
    expect(fromFile).toEqual(direct);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toMatch(/^0x[0-9a-f]+ (READ|WRITE) 0$/);
  });
});
