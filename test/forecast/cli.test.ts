// `umbra forecast` end to end: bad input gets one clear line and exit 2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers.js';

let dir: string;
const good = () => join(dir, 'good.csv');
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'umbra-forecast-'));
  const rows = ['t_s,cpu,mem'];
  for (let i = 0; i < 200; i++) rows.push(`${i * 300},${50 + 10 * Math.sin(i / 5)},${(i % 7) + 1}`);
  writeFileSync(good(), rows.join('\n') + '\n');
  writeFileSync(join(dir, 'bad.csv'), 't_s,value\n0,1\n300,2\n600,abc\n900,4\n');
  writeFileSync(join(dir, 'short.csv'), 't_s,value\n0,1\n300,2\n600,3\n900,4\n1200,5\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('umbra forecast', () => {
  it('evaluates a chosen column and prints the JSON fields', async () => {
    const r = await runCli(['forecast', '--trace', good(), '--column', 'mem', '--model', 'ar', '--horizon', '3', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.model).toBe('ar');
    expect(j.horizon).toBe(3);
    // 200 points, training 160, origins 160..197 scored
    expect(j.n).toBe(38);
    expect(j.mase).toBeGreaterThan(0);
    expect(j.usPerPrediction).toBeGreaterThan(0);
  });

  it('missing file: exit 2, names the file', async () => {
    const r = await runCli(['forecast', '--trace', join(dir, 'nope.csv'), '--model', 'naive', '--horizon', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nope.csv');
    expect(r.stderr).toMatch(/no such file/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('bad column: exit 2, lists the columns there are', async () => {
    const r = await runCli(['forecast', '--trace', good(), '--column', 'disk', '--model', 'naive', '--horizon', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"disk"');
    for (const c of ['t_s', 'cpu', 'mem']) expect(r.stderr).toContain(`"${c}"`);
  });

  it('non-numeric cell: exit 2 with file:line:column', async () => {
    const r = await runCli(['forecast', '--trace', join(dir, 'bad.csv'), '--model', 'naive', '--horizon', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'bad.csv')}:4:2`);
    expect(r.stderr).toContain('"abc"');
  });

  it('series too short for the horizon: exit 2', async () => {
    const r = await runCli(['forecast', '--trace', join(dir, 'short.csv'), '--model', 'naive', '--horizon', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/too short/);
  });

  it('unknown model and bad horizon: exit 2', async () => {
    expect((await runCli(['forecast', '--trace', good(), '--model', 'oracle', '--horizon', '1'])).code).toBe(2);
    expect((await runCli(['forecast', '--trace', good(), '--model', 'naive', '--horizon', '0'])).code).toBe(2);
    expect((await runCli(['forecast', '--trace', good(), '--model', 'naive', '--horizon', '1', '--holdout', '1.5'])).code).toBe(2);
  });

  it('same input, same output (apart from the timing field)', async () => {
    const a = JSON.parse((await runCli(['forecast', '--trace', good(), '--model', 'blend', '--horizon', '2', '--json'])).stdout);
    const b = JSON.parse((await runCli(['forecast', '--trace', good(), '--model', 'blend', '--horizon', '2', '--json'])).stdout);
    delete a.usPerPrediction;
    delete b.usPerPrediction;
    expect(a).toEqual(b);
  });
});
