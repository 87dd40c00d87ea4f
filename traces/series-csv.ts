// Loader for single-series CSV files: the shipped `t_s,value` traces and, more
// generally, any CSV with a header row from which one numeric column is taken.
// Parsing is streamed (csv-parse over a file stream) so long traces never sit in
// memory as text; every error names file:line:column and what was expected.
import { createReadStream, statSync } from 'node:fs';
import { parse } from 'csv-parse';
import { InputError } from '../util/errors.js';

export interface SeriesCsv {
  /** Sample times in seconds since the first sample (0 for the first). */
  t: Float64Array;
  values: Float64Array;
  /** Typical spacing of samples: the median of the positive time steps (1 when there is no time column). */
  stepSeconds: number;
  /** Name of the column `values` came from, and every column in the header. */
  column: string;
  columns: string[];
  /** Name of the column times came from, or null when rows are numbered instead. */
  timeColumn: string | null;
}

export interface LoadSeriesOptions {
  /** Column to take values from; default `value` if present, else the last column. */
  column?: string;
}

/** Header names recognised as the time axis, in order of preference. */
const TIME_COLUMNS = ['t_s', 't', 'time_s', 'timestamp', 'time', 'ts', 'date'];

export async function loadSeriesCsv(path: string, opts: LoadSeriesOptions = {}): Promise<SeriesCsv> {
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new InputError('no such file', path);
  }
  if (!isFile) throw new InputError('not a regular file', path);

  const parser = createReadStream(path).pipe(
    parse({ info: true, bom: true, skip_empty_lines: true, trim: true, comment: '#', relax_column_count: false }),
  );

  let header: string[] | null = null;
  let valueIdx = -1;
  let timeIdx = -1;
  let timeIsDate = false;
  const times: number[] = [];
  const values: number[] = [];
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const line = rec.info.lines;
      const row = rec.record;
      if (header === null) {
        header = row;
        valueIdx = pickValueColumn(path, header, opts.column);
        timeIdx = TIME_COLUMNS.map((n) => header!.findIndex((h) => h.toLowerCase() === n)).find((i) => i >= 0 && i !== valueIdx) ?? -1;
        continue;
      }
      const v = parseNumberCell(row[valueIdx]);
      if (v === null) {
        throw new InputError(`expected a number in column "${header[valueIdx]}", got ${JSON.stringify(row[valueIdx])}`, `${path}:${line}:${valueIdx + 1}`);
      }
      values.push(v);
      if (timeIdx >= 0) {
        const cell = row[timeIdx];
        let ts = parseNumberCell(cell);
        if (ts === null && times.length === 0) timeIsDate = true;
        if (timeIsDate) {
          const ms = Date.parse(/Z|[+-]\d\d:?\d\d$/.test(cell) ? cell : `${cell.replace(' ', 'T')}Z`);
          ts = Number.isFinite(ms) ? ms / 1000 : null;
        }
        if (ts === null) {
          throw new InputError(`expected a time (seconds or a date) in column "${header[timeIdx]}", got ${JSON.stringify(cell)}`, `${path}:${line}:${timeIdx + 1}`);
        }
        if (times.length > 0 && ts < times[times.length - 1]) {
          throw new InputError(`times must not decrease (${ts} after ${times[times.length - 1]})`, `${path}:${line}:${timeIdx + 1}`);
        }
        times.push(ts);
      }
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    // csv-parse errors carry the line; keep its message but point at the file.
    const e = err as { message?: string; lines?: number };
    throw new InputError(`malformed CSV: ${e.message ?? String(err)}`, e.lines ? `${path}:${e.lines}` : path);
  }
  if (header === null) throw new InputError('empty file: expected a header row and data rows', path);

  const n = values.length;
  const t = new Float64Array(n);
  const t0 = timeIdx >= 0 && n > 0 ? times[0] : 0;
  for (let i = 0; i < n; i++) t[i] = timeIdx >= 0 ? times[i] - t0 : i;
  return {
    t,
    values: Float64Array.from(values),
    stepSeconds: medianStep(t),
    column: header[valueIdx],
    columns: header,
    timeColumn: timeIdx >= 0 ? header[timeIdx] : null,
  };
}

function pickValueColumn(path: string, header: string[], wanted: string | undefined): number {
  if (wanted !== undefined) {
    const i = header.indexOf(wanted);
    if (i < 0) throw new InputError(`no column "${wanted}"; the columns are: ${header.map((h) => JSON.stringify(h)).join(', ')}`, `${path}:1`);
    return i;
  }
  const v = header.indexOf('value');
  return v >= 0 ? v : header.length - 1;
}

/** A finite number, or null. Empty cells are not numbers. */
function parseNumberCell(cell: string | undefined): number | null {
  if (cell === undefined || cell === '') return null;
  const v = Number(cell);
  return Number.isFinite(v) ? v : null;
}

function medianStep(t: Float64Array): number {
  const d: number[] = [];
  for (let i = 1; i < t.length; i++) if (t[i] > t[i - 1]) d.push(t[i] - t[i - 1]);
  if (d.length === 0) return 1;
  d.sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)];
}
