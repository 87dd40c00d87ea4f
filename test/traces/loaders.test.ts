// The trace loaders on the public formats: detection, entity extraction, time
// order, grids, gzip, declared formats, and one clear error per malformed file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { detectFormat } from '../../traces/detect-format.js';
import { extractSeries } from '../../traces/extract-series.js';
import { listEntities } from '../../traces/list-entities.js';
import { loadSeriesCsv } from '../../traces/series-csv.js';
import { peekRecords } from '../../traces/table-reader.js';
import { regularGrid } from '../../traces/resample.js';
import { InputError } from '../../util/errors.js';
import { alibabaContainerRows, alibabaMachineRows, azureRows, googleRows, tempDir, writeText } from './helpers.js';

let dir: string;
beforeAll(() => {
  dir = tempDir('traces');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function errorOf(p: Promise<unknown>): Promise<InputError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

describe('format detection', () => {
  it('tells each public format from its first records', async () => {
    const cases: [string, string][] = [
      [writeText(dir, 'mu.csv', alibabaMachineRows([{ m: 'm_1', t: 0, cpu: 10 }, { m: 'm_2', t: 10, cpu: 20 }])), 'alibaba-machine-usage'],
      [writeText(dir, 'cu.csv', alibabaContainerRows([{ c: 'c_1', m: 'm_1', t: 0, cpu: 10 }])), 'alibaba-container-usage'],
      [writeText(dir, 'az.csv', azureRows([{ t: 0, vm: 'yNf/R3X8fyXkOJm3ihXQcT0F52a8cDWPPRzTT6QFW8N+1QPfeKR5//6xyX0VYn7X', avg: 10 }])), 'azure-vm-cpu'],
      [writeText(dir, 'g20.csv', googleRows([{ start: 600_000_000, job: 3418309, task: 0, machine: 4155527081, cpu: 0.03 }])), 'google-2011-task-usage'],
      [writeText(dir, 'g19.csv', googleRows([{ start: 600_000_000, job: 3418309, task: 0, machine: 4155527081, cpu: 0.03 }], 19)), 'google-2011-task-usage'],
      [writeText(dir, 'series.csv', 't_s,value\n0,1\n300,2\n'), 'series'],
    ];
    for (const [p, want] of cases) expect((await detectFormat(p)).format, p).toBe(want);
  });

  it('a file in no known shape: one error naming the file and the line, listing the formats', async () => {
    const p = writeText(dir, 'odd.csv', '1,2,3\n4,5,6\n');
    const e = await errorOf(detectFormat(p));
    expect(e.message).toContain(`${p}:1`);
    expect(e.message).toMatch(/alibaba-machine-usage.*azure-vm-cpu.*google-2011-task-usage/);
  });
});

describe('entity extraction', () => {
  it('Alibaba machine usage: one machine, rows out of order, duplicates averaged, empty values skipped, on a 10 s grid', async () => {
    const p = writeText(
      dir,
      'machines.csv',
      alibabaMachineRows([
        { m: 'm_2', t: 120, cpu: 40 },
        { m: 'm_1', t: 100, cpu: 5 },
        { m: 'm_2', t: 100, cpu: 20 },
        { m: 'm_2', t: 110, cpu: 30 },
        { m: 'm_2', t: 110, cpu: 34 },
        { m: 'm_2', t: 130, cpu: '' },
        { m: 'm_2', t: 150, cpu: 70 },
      ]),
    );
    const s = await extractSeries(p, { entity: 'm_2', stepSeconds: 10 });
    expect(s.format).toBe('alibaba-machine-usage');
    expect(s.column).toBe('cpu_util_percent');
    expect(s.startSeconds).toBe(100);
    expect(Array.from(s.t)).toEqual([0, 10, 20, 30, 40, 50]);
    // 100 -> 20; 110 -> mean(30, 34); 120 -> 40; 130, 140 empty -> interpolated between 40 and 70; 150 -> 70
    expect(Array.from(s.values)).toEqual([20, 32, 40, 50, 60, 70]);
    expect(s.rows).toBe(5);
    expect(s.skippedEmpty).toBe(1);
    expect(s.filledBins).toBe(2);
  });

  it('another value column and the mean of several samples per grid bin', async () => {
    const p = writeText(dir, 'mem.csv', alibabaMachineRows([0, 5, 10, 15].map((t, i) => ({ m: 'm_9', t, cpu: 1, mem: 10 * (i + 1) }))));
    const s = await extractSeries(p, { entity: 'm_9', column: 'mem_util_percent', stepSeconds: 10 });
    expect(Array.from(s.values)).toEqual([15, 35]);
  });

  it('Alibaba container usage grouped by machine sums or averages the containers on it', async () => {
    const p = writeText(
      dir,
      'containers.csv',
      alibabaContainerRows([
        { c: 'c_1', m: 'm_7', t: 0, cpu: 10 },
        { c: 'c_2', m: 'm_7', t: 0, cpu: 30 },
        { c: 'c_1', m: 'm_7', t: 10, cpu: 20 },
        { c: 'c_3', m: 'm_8', t: 10, cpu: 99 },
        { c: 'c_2', m: 'm_7', t: 10, cpu: 40 },
      ]),
    );
    expect(Array.from((await extractSeries(p, { entity: 'm_7', by: 'machine', aggregate: 'sum' })).values)).toEqual([40, 60]);
    expect(Array.from((await extractSeries(p, { entity: 'm_7', by: 'machine' })).values)).toEqual([20, 30]);
    expect(Array.from((await extractSeries(p, { entity: 'c_1' })).values)).toEqual([10, 20]);
  });

  it('Azure VM CPU readings, gzip-compressed, average CPU of one VM every 300 s', async () => {
    const rows = [];
    for (let k = 0; k < 6; k++) for (const vm of ['vmA', 'vmB=', 'vm/C+']) rows.push({ t: 300 * k, vm, avg: vm === 'vmB=' ? 10 + k : 99 });
    const p = writeText(dir, 'vm_cpu_readings-file-1-of-125.csv.gz', azureRows(rows), true);
    expect((await detectFormat(p)).format).toBe('azure-vm-cpu');
    const s = await extractSeries(p, { entity: 'vmB=' });
    expect(s.stepSeconds).toBe(300);
    expect(Array.from(s.values)).toEqual([10, 11, 12, 13, 14, 15]);
    const max = await extractSeries(p, { entity: 'vmB=', column: 'maxcpu' });
    expect(Array.from(max.values)).toEqual([15, 16.5, 18, 19.5, 21, 22.5]);
  });

  it('Google 2011 task usage: microsecond times, job:task entities, machines as sums', async () => {
    const rows = [];
    for (let k = 0; k < 4; k++) {
      rows.push({ start: 600_000_000 + k * 300_000_000, job: 515042969, task: 2, machine: 1, cpu: 0.01 * (k + 1) });
      rows.push({ start: 600_000_000 + k * 300_000_000, job: 515042969, task: 3, machine: 1, cpu: 0.1 });
      rows.push({ start: 600_000_000 + k * 300_000_000, job: 6, task: 2, machine: 2, cpu: 0.5 });
    }
    const p = writeText(dir, 'part-00000-of-00500.csv', googleRows(rows));
    const s = await extractSeries(p, { entity: '515042969:2' });
    expect(s.stepSeconds).toBe(300);
    expect(s.startSeconds).toBe(600);
    expect(Array.from(s.values)).toEqual([0.01, 0.02, 0.03, 0.04]);
    const m = await extractSeries(p, { entity: '1', by: 'machine' });
    expect(Array.from(m.values).map((v) => Math.round(v * 1000) / 1000)).toEqual([0.11, 0.12, 0.13, 0.14]);
  });

  it('a single-series file goes through series-csv and can be put on another grid', async () => {
    const p = writeText(dir, 'plain.csv', 't_s,value\n0,1\n10,3\n20,5\n30,7\n');
    const a = await loadSeriesCsv(p);
    const b = await extractSeries(p);
    expect(Array.from(b.values)).toEqual(Array.from(a.values));
    expect(Array.from((await extractSeries(p, { stepSeconds: 20 })).values)).toEqual([2, 6]);
  });

  it('a declared format: any CSV with a header, entity and time columns named', async () => {
    const p = writeText(dir, 'custom.csv', 'host,ts_ms,load\na,0,1\nb,0,9\na,1000,2\na,2000,4\n');
    const s = await extractSeries(p, { format: { header: true, entityColumns: ['host'], timeColumn: 'ts_ms', timeUnitSeconds: 0.001, valueColumn: 'load' }, entity: 'a' });
    expect(Array.from(s.values)).toEqual([1, 2, 4]);
    expect(s.stepSeconds).toBe(1);
  });

  it('lists entities by row count', async () => {
    const p = writeText(dir, 'many.csv', alibabaMachineRows([...'abcab'].map((m, i) => ({ m: `m_${m}`, t: i, cpu: 1 })).concat([{ m: 'm_a', t: 9, cpu: 1 }])));
    const r = await listEntities(p);
    expect(r.distinct).toBe(3);
    expect(r.entities.map((e) => [e.entity, e.rows])).toEqual([['m_a', 3], ['m_b', 2], ['m_c', 1]]);
    expect(r.entities[0].lastSeconds).toBe(9);
  });
});

describe('laws', () => {
  it('the series does not depend on the order of the rows', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 100 })), { minLength: 1, maxLength: 40 }), fc.integer(), async (samples, salt) => {
        const rows = samples.map(([t, v]) => ({ m: 'm_1', t: t * 10, cpu: v }));
        const shuffled = rows.map((r, i) => ({ r, k: (i * 7919 + salt) % 104729 })).sort((a, b) => a.k - b.k).map((x) => x.r);
        const a = await extractSeries(writeText(dir, 'order-a.csv', alibabaMachineRows(rows)), { entity: 'm_1', stepSeconds: 10, aggregate: 'sum' });
        const b = await extractSeries(writeText(dir, 'order-b.csv', alibabaMachineRows(shuffled)), { entity: 'm_1', stepSeconds: 10, aggregate: 'sum' });
        expect(Array.from(b.values)).toEqual(Array.from(a.values));
      }),
      { numRuns: 25 },
    );
  });

  it('a series already on the grid comes back unchanged; gaps are filled on the straight line', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 900 }), (vals, step) => {
        const t = vals.map((_, i) => i * step);
        const g = regularGrid(t, vals, step, 'mean');
        // (-0 comes back as 0: bins are sums)
        expect(Array.from(g.values).map((x) => x + 0)).toEqual(vals.map((x) => x + 0));
        expect(g.filledBins).toBe(0);
      }),
    );
    fc.assert(
      fc.property(fc.double({ min: -100, max: 100, noNaN: true }), fc.double({ min: -100, max: 100, noNaN: true }), fc.integer({ min: 2, max: 20 }), (a, b, gap) => {
        const g = regularGrid([0, gap], [a, b], 1, 'mean');
        expect(g.values.length).toBe(gap + 1);
        for (let k = 0; k <= gap; k++) expect(g.values[k]).toBeCloseTo(a + ((b - a) * k) / gap, 9);
      }),
    );
  });

  it('reading is streamed: the first records come back without parsing a malformed end', async () => {
    const good = 'm_1,0,1,1,,,,,\n'.repeat(50_000);
    const p = writeText(dir, 'big.csv', `${good}m_1,"unclosed,1,1,,,,,\n`);
    const first = await peekRecords(p, 2);
    expect(first.map((r) => r.line)).toEqual([1, 2]);
    const e = await errorOf(extractSeries(p, { entity: 'm_1', format: 'alibaba-machine-usage' }));
    expect(e.message).toContain(p);
    expect(e.message).toMatch(/:50001/);
  });
});

describe('malformed files: one error naming file, line, column and what was expected', () => {
  it('a row with too few columns', async () => {
    const p = writeText(dir, 'short-row.csv', alibabaMachineRows([{ m: 'm_1', t: 0, cpu: 1 }]) + 'm_1,10,5\n');
    const e = await errorOf(extractSeries(p, { format: 'alibaba-machine-usage', entity: 'm_1' }));
    expect(e.message).toContain(`${p}:2:4`);
    expect(e.message).toMatch(/expected 9 columns.*got 3/);
  });

  it('a value that is not a number', async () => {
    const p = writeText(dir, 'nan.csv', azureRows([{ t: 0, vm: 'v1', avg: 3 }]) + '300,v1,1,2,high\n');
    const e = await errorOf(extractSeries(p, { entity: 'v1' }));
    expect(e.message).toContain(`${p}:2:5`);
    expect(e.message).toContain('expected a number in column "avgcpu", got "high"');
  });

  it('a time that is not a number', async () => {
    const p = writeText(dir, 'badtime.csv', googleRows([{ start: 0, job: 1, task: 0, machine: 1, cpu: 0.1 }]) + googleRows([{ start: 0, job: 1, task: 0, machine: 1, cpu: 0.1 }]).replace(/^0,/, 'soon,'));
    const e = await errorOf(extractSeries(p, { format: 'google-2011-task-usage', entity: '1:0' }));
    expect(e.message).toContain(`${p}:2:1`);
    expect(e.message).toMatch(/expected a time/);
  });

  it('an entity that is not in the file lists some that are', async () => {
    const p = writeText(dir, 'ents.csv', alibabaMachineRows([{ m: 'm_1', t: 0, cpu: 1 }, { m: 'm_2', t: 0, cpu: 1 }]));
    const e = await errorOf(extractSeries(p, { entity: 'm_404' }));
    expect(e.message).toContain(p);
    expect(e.message).toMatch(/no rows for entity "m_404".*"m_1", "m_2"/);
  });

  it('no entity named for a many-entity table', async () => {
    const p = writeText(dir, 'noent.csv', alibabaMachineRows([{ m: 'm_1', t: 0, cpu: 1 }, { m: 'm_2', t: 0, cpu: 1 }]));
    const e = await errorOf(extractSeries(p));
    expect(e.message).toMatch(/name one with entity \(machine_id\), e\.g\. "m_1", "m_2"/);
  });

  it('unknown format, unknown column, unknown grouping', async () => {
    const p = writeText(dir, 'x.csv', alibabaMachineRows([{ m: 'm_1', t: 0, cpu: 1 }]));
    expect((await errorOf(extractSeries(p, { format: 'borg-2019' }))).message).toMatch(/unknown trace format "borg-2019"; expected one of series, alibaba/);
    expect((await errorOf(extractSeries(p, { entity: 'm_1', column: 'gpu' }))).message).toMatch(/no value column "gpu".*"cpu_util_percent"/);
    expect((await errorOf(extractSeries(p, { entity: 'm_1', by: 'rack' }))).message).toMatch(/cannot be grouped by "rack"/);
  });

  it('missing, empty, corrupt gzip, broken quoting', async () => {
    expect((await errorOf(extractSeries(`${dir}/nope.csv`))).message).toMatch(/nope\.csv: no such file/);
    expect((await errorOf(extractSeries(writeText(dir, 'empty.csv', '')))).message).toMatch(/empty\.csv: empty file/);
    const whole = gzipSync(Buffer.from(azureRows(Array.from({ length: 2000 }, (_, k) => ({ t: 300 * k, vm: 'v', avg: k % 97 })))));
    const gz = join(dir, 'cut.csv.gz');
    writeFileSync(gz, whole.subarray(0, Math.floor(whole.length / 2)));
    expect((await errorOf(extractSeries(gz, { format: 'azure-vm-cpu', entity: 'v' }))).message).toMatch(/cut\.csv\.gz: corrupt or truncated gzip/);
    const q = writeText(dir, 'quote.csv', 't_s,value\n0,1\n300,"2\n');
    expect((await errorOf(extractSeries(q))).message).toMatch(/quote\.csv:3/);
  });
});

describe('quoted fields', () => {
  it('quoted cells (even across lines) parse as CSV; plain lines split the same way', async () => {
    const p = writeText(dir, 'quoted.csv', 'host,t,load\n"a",0,1\n"a, b",0,5\na,1,2\n"multi\nline",1,7\na , 2 , 4 \n');
    const s = await extractSeries(p, { format: { header: true, entityColumns: ['host'], timeColumn: 't', valueColumn: 'load' }, entity: 'a' });
    expect(Array.from(s.values)).toEqual([1, 2, 4]);
    const m = await extractSeries(p, { format: { header: true, entityColumns: ['host'], timeColumn: 't', valueColumn: 'load' }, entity: 'multi\nline' });
    expect(Array.from(m.values)).toEqual([7]);
  });
});
