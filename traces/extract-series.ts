// One entity's series out of a usage table: the rows of one machine, container,
// VM or job task (or all tasks of one machine, ...), one value column, in time
// order, samples at the same time combined, then put on a regular time grid
// (bin means; empty bins filled linearly) because the simulator replays a
// series as equally spaced samples. Streams the file: memory grows with the
// entity's samples, not with the file.
import { InputError } from '../util/errors.js';
import { loadSeriesCsv } from './series-csv.js';
import { detectFormat } from './detect-format.js';
import { SERIES_FORMAT, declareFormat, tableFormat, type DeclaredFormat } from './formats.js';
import { AGGREGATES, columnIndex, type Aggregate, type TableFormat } from './table-format.js';
import { parseNumberCell, readRecords, checkReadableFile } from './table-reader.js';
import { regularGrid } from './resample.js';

export interface ExtractOptions {
  /** A registered format name, a declared format, or omitted to detect it. */
  format?: string | DeclaredFormat;
  /** Which entity: the values of the entity columns joined by ":" (Google: "jobId:taskIndex"). */
  entity?: string;
  /** Group rows by another key the format offers (e.g. "machine": all tasks on one machine). */
  by?: string;
  /** Value column (default: the format's). */
  column?: string;
  /** How samples at the same time combine (default: the format's). */
  aggregate?: Aggregate;
  /** Grid step in seconds (default: the median step between samples). */
  stepSeconds?: number;
}

export interface ExtractedSeries {
  /** Seconds since the first grid point: 0, step, 2*step, ... */
  t: Float64Array;
  values: Float64Array;
  stepSeconds: number;
  /** Time of the first grid point in the table's own clock, seconds. */
  startSeconds: number;
  format: string;
  column: string;
  entity: string | null;
  /** Rows of the entity read, rows skipped for an empty value cell, grid points filled by interpolation. */
  rows: number;
  skippedEmpty: number;
  filledBins: number;
}

export async function extractSeries(path: string, opts: ExtractOptions = {}): Promise<ExtractedSeries> {
  checkReadableFile(path);
  if (opts.aggregate !== undefined && !AGGREGATES.includes(opts.aggregate)) throw new InputError(`unknown aggregate "${opts.aggregate}"; expected one of ${AGGREGATES.join(', ')}`);
  if (opts.stepSeconds !== undefined && !(opts.stepSeconds > 0)) throw new InputError(`stepSeconds must be positive, got ${opts.stepSeconds}`);
  let formatName: string;
  let declared: DeclaredFormat | undefined;
  let hasHeader = false;
  if (typeof opts.format === 'object') {
    declared = opts.format;
    formatName = 'declared';
    hasHeader = declared.header;
  } else if (opts.format === undefined) {
    const d = await detectFormat(path);
    formatName = d.format;
    hasHeader = d.header;
  } else {
    formatName = opts.format;
    if (formatName !== SERIES_FORMAT) tableFormat(formatName);
  }
  if (formatName === SERIES_FORMAT) return fromSeriesFile(path, opts);
  return fromTable(path, formatName, declared, hasHeader, opts);
}

async function fromSeriesFile(path: string, opts: ExtractOptions): Promise<ExtractedSeries> {
  if (opts.entity !== undefined) throw new InputError(`a single-series file has no entities; drop entity "${opts.entity}"`, path);
  const s = await loadSeriesCsv(path, opts.column ? { column: opts.column } : {});
  if (s.values.length === 0) throw new InputError('no data rows', path);
  const grid = regularGrid(Array.from(s.t), Array.from(s.values), opts.stepSeconds ?? s.stepSeconds, opts.aggregate ?? 'mean');
  return { ...grid, startSeconds: 0, format: SERIES_FORMAT, column: s.column, entity: null, rows: s.values.length, skippedEmpty: 0 };
}

async function fromTable(path: string, formatName: string, declared: DeclaredFormat | undefined, headerKnown: boolean, opts: ExtractOptions): Promise<ExtractedSeries> {
  let format: TableFormat | null = declared ? (declared.columns ? declareFormat(declared) : null) : tableFormat(formatName);
  let idx: Indexes | null = format ? indexes(format, opts, path) : null;
  const times: number[] = [];
  const values: number[] = [];
  let skippedEmpty = 0;
  let first = true;
  const seen: string[] = [];
  let rowsRead = 0;
  for await (const rec of readRecords(path)) {
    const cells = rec.cells;
    if (first) {
      first = false;
      const names = format?.columns.map((c) => c.name.toLowerCase());
      const isHeader = headerKnown || format?.header === 'required' || (names !== undefined && cells.length > 0 && cells.every((c, i) => c.toLowerCase() === names[i]));
      if (isHeader) {
        if (!format) {
          format = declareFormat(declared!, cells);
          idx = indexes(format, opts, `${path}:${rec.line}`);
        }
        continue;
      }
      if (!format) throw new InputError('the declared format has no column names and the file no header row', `${path}:${rec.line}`);
    }
    const f = format!;
    const ix = idx!;
    rowsRead++;
    const min = f.minColumns ?? f.columns.length;
    if (cells.length < min || cells.length > f.columns.length) {
      const expected = min === f.columns.length ? `${min}` : `${min} to ${f.columns.length}`;
      throw new InputError(
        `expected ${expected} columns (${f.name}: ${f.columns.map((c) => c.name).join(',')}), got ${cells.length}`,
        `${path}:${rec.line}:${Math.min(cells.length, f.columns.length) + 1}`,
      );
    }
    const key = ix.entity.length === 1 ? cells[ix.entity[0]] : ix.entity.map((i) => cells[i]).join(':');
    for (const i of ix.entity) {
      if (cells[i] === '') throw new InputError(`expected an id in column "${f.columns[i].name}", got an empty cell`, `${path}:${rec.line}:${i + 1}`);
    }
    if (opts.entity === undefined) {
      if (ix.entity.length > 0) {
        if (!seen.includes(key)) seen.push(key);
        if (seen.length >= 3) break;
        continue;
      }
    } else if (key !== opts.entity) {
      if (seen.length < 3 && !seen.includes(key)) seen.push(key);
      continue;
    }
    const vCell = cells[ix.value];
    const v = parseNumberCell(vCell);
    if (v === null) {
      if (vCell === undefined || vCell === '') {
        skippedEmpty++;
        continue;
      }
      throw new InputError(`expected a number in column "${f.columns[ix.value].name}", got ${JSON.stringify(vCell)}`, `${path}:${rec.line}:${ix.value + 1}`);
    }
    let t: number;
    if (ix.time >= 0) {
      const raw = parseNumberCell(cells[ix.time]);
      if (raw === null) throw new InputError(`expected a time (a number, ${f.timeUnitSeconds === 1 ? 'seconds' : `units of ${f.timeUnitSeconds} s`}) in column "${f.columns[ix.time].name}", got ${JSON.stringify(cells[ix.time])}`, `${path}:${rec.line}:${ix.time + 1}`);
      t = raw;
    } else {
      t = times.length;
    }
    times.push(t);
    values.push(v);
  }
  if (!format) throw new InputError('empty file: expected a header row and data rows', path);
  if (opts.entity === undefined && idx!.entity.length > 0) {
    const what = idx!.entity.map((i) => format!.columns[i].name).join(':');
    throw new InputError(
      seen.length ? `a ${format.name} table holds many entities; name one with entity (${what}), e.g. ${seen.map((s) => JSON.stringify(s)).join(', ')} (\`umbra trace entities\` lists them)` : 'no data rows',
      path,
    );
  }
  if (values.length === 0) {
    const hint = seen.length ? `; entities seen include ${seen.map((s) => JSON.stringify(s)).join(', ')}` : '';
    const why = skippedEmpty > 0 ? `every one of its ${skippedEmpty} rows has an empty "${format.columns[idx!.value].name}"` : `no rows for entity ${JSON.stringify(opts.entity)} among ${rowsRead} rows${hint}`;
    throw new InputError(why, path);
  }
  // time order (files are not always sorted), then the table's unit -> seconds from the first sample
  const order = times.map((_, i) => i).sort((a, b) => times[a] - times[b] || a - b);
  const unit = format.timeUnitSeconds;
  const toSeconds = unit < 1 ? (x: number) => x / Math.round(1 / unit) : (x: number) => x * unit;
  const t0 = times[order[0]];
  const ts = order.map((i) => toSeconds(times[i] - t0));
  const vs = order.map((i) => values[i]);
  const step = opts.stepSeconds ?? medianPositiveStep(ts);
  const grid = regularGrid(ts, vs, step, opts.aggregate ?? format.defaultAggregate);
  return {
    ...grid,
    startSeconds: toSeconds(t0),
    format: format.name === 'declared' ? 'declared' : formatName,
    column: format.columns[idx!.value].name,
    entity: opts.entity ?? null,
    rows: values.length,
    skippedEmpty,
  };
}

interface Indexes {
  entity: number[];
  value: number;
  time: number;
}

function indexes(f: TableFormat, opts: ExtractOptions, where: string): Indexes {
  const names = f.columns.map((c) => c.name);
  const need = (name: string, what: string): number => {
    const i = columnIndex(f, name);
    if (i < 0) throw new InputError(`no ${what} column "${name}" in ${f.name}; the columns are: ${names.map((n) => JSON.stringify(n)).join(', ')}`, where);
    return i;
  };
  let entityCols = f.entityColumns;
  if (opts.by !== undefined) {
    const g = f.groupings?.[opts.by];
    if (!g) {
      const offered = Object.keys(f.groupings ?? {});
      throw new InputError(`${f.name} cannot be grouped by "${opts.by}"${offered.length ? `; expected one of ${offered.join(', ')}` : ' (it offers no other grouping)'}`, where);
    }
    entityCols = g;
  }
  const value = need(opts.column ?? f.defaultValueColumn, 'value');
  if (f.columns[value].kind !== 'number') throw new InputError(`column "${names[value]}" holds ids, not numbers`, where);
  return {
    entity: entityCols.map((c) => need(c, 'entity')),
    value,
    time: f.timeColumn ? need(f.timeColumn, 'time') : -1,
  };
}

function medianPositiveStep(t: number[]): number {
  const d: number[] = [];
  for (let i = 1; i < t.length; i++) if (t[i] > t[i - 1]) d.push(t[i] - t[i - 1]);
  if (d.length === 0) return 1;
  d.sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)];
}
