import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSeriesCsv } from '../../traces/series-csv.js';
import { InputError } from '../../util/errors.js';

let dir: string;
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'umbra-series-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadSeriesCsv', () => {
  it('reads t_s,value with the median step', async () => {
    const s = await loadSeriesCsv(file('a.csv', 't_s,value\n0,1.5\n300,2\n900,3\n1200,4\n'));
    expect(Array.from(s.values)).toEqual([1.5, 2, 3, 4]);
    expect(Array.from(s.t)).toEqual([0, 300, 900, 1200]);
    expect(s.stepSeconds).toBe(300);
    expect(s.column).toBe('value');
  });

  it('defaults to the last column when there is no "value", and picks one by name', async () => {
    const p = file('b.csv', 'timestamp,cpu,mem\n2014-02-14 14:30:00,10,20\n2014-02-14 14:35:00,11,21\n');
    const s = await loadSeriesCsv(p);
    expect(s.column).toBe('mem');
    expect(Array.from(s.t)).toEqual([0, 300]); // dates become seconds since the first
    expect(Array.from((await loadSeriesCsv(p, { column: 'cpu' })).values)).toEqual([10, 11]);
  });

  it('without a time column, rows are numbered', async () => {
    const s = await loadSeriesCsv(file('c.csv', 'x\n5\n6\n7\n'));
    expect(Array.from(s.t)).toEqual([0, 1, 2]);
    expect(s.stepSeconds).toBe(1);
    expect(s.timeColumn).toBeNull();
  });

  it('errors name file:line:column', async () => {
    const p = file('d.csv', 't_s,value\n0,1\n300,\n');
    await expect(loadSeriesCsv(p)).rejects.toThrow(`${p}:3:2`);
    await expect(loadSeriesCsv(p)).rejects.toBeInstanceOf(InputError);
    const q = file('e.csv', 't_s,value\n0,1\n300,2,9\n');
    await expect(loadSeriesCsv(q)).rejects.toThrow(/e\.csv:3/);
    const r = file('f.csv', 't_s,value\n300,1\n0,2\n');
    await expect(loadSeriesCsv(r)).rejects.toThrow(`${r}:3:1`);
  });
});
