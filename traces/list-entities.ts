// Which entities a usage table holds and how many rows each has, so a user can
// pick one to drive a workload. Streams the file; memory grows with the number
// of distinct entities (counts only).
import { InputError } from '../util/errors.js';
import { detectFormat } from './detect-format.js';
import { SERIES_FORMAT, tableFormat } from './formats.js';
import { columnIndex } from './table-format.js';
import { parseNumberCell, readRecords } from './table-reader.js';

export interface EntityCount {
  entity: string;
  rows: number;
  /** First and last time stamp seen, seconds in the table's clock. */
  firstSeconds: number;
  lastSeconds: number;
}

export interface EntityListing {
  format: string;
  keyColumns: string[];
  rows: number;
  distinct: number;
  /** Most rows first, then by name; at most `limit`. */
  entities: EntityCount[];
}

export async function listEntities(path: string, opts: { format?: string; by?: string; limit?: number } = {}): Promise<EntityListing> {
  let name = opts.format;
  let header = false;
  if (name === undefined) ({ format: name, header } = await detectFormat(path));
  if (name === SERIES_FORMAT) throw new InputError('a single-series file has no entities', path);
  const f = tableFormat(name);
  const keyCols = opts.by !== undefined ? f.groupings?.[opts.by] : f.entityColumns;
  if (!keyCols) throw new InputError(`${f.name} cannot be grouped by "${opts.by}"; expected one of ${Object.keys(f.groupings ?? {}).join(', ') || '(none)'}`);
  const keyIdx = keyCols.map((c) => columnIndex(f, c));
  const timeIdx = f.timeColumn ? columnIndex(f, f.timeColumn) : -1;
  const unit = f.timeUnitSeconds;
  const counts = new Map<string, EntityCount>();
  let rows = 0;
  let first = true;
  const names = f.columns.map((c) => c.name.toLowerCase());
  for await (const rec of readRecords(path)) {
    const cells = rec.cells;
    if (first) {
      first = false;
      if (header || cells.every((c, i) => c.toLowerCase() === names[i])) continue;
    }
    const min = f.minColumns ?? f.columns.length;
    if (cells.length < min || cells.length > f.columns.length) {
      throw new InputError(`expected ${min === f.columns.length ? min : `${min} to ${f.columns.length}`} columns (${f.name}), got ${cells.length}`, `${path}:${rec.line}:${Math.min(cells.length, f.columns.length) + 1}`);
    }
    rows++;
    const key = keyIdx.map((i) => cells[i]).join(':');
    let t = 0;
    if (timeIdx >= 0) {
      const raw = parseNumberCell(cells[timeIdx]);
      if (raw === null) throw new InputError(`expected a time in column "${f.columns[timeIdx].name}", got ${JSON.stringify(cells[timeIdx])}`, `${path}:${rec.line}:${timeIdx + 1}`);
      t = unit < 1 ? raw / Math.round(1 / unit) : raw * unit;
    }
    const c = counts.get(key);
    if (c) {
      c.rows++;
      c.firstSeconds = Math.min(c.firstSeconds, t);
      c.lastSeconds = Math.max(c.lastSeconds, t);
    } else counts.set(key, { entity: key, rows: 1, firstSeconds: t, lastSeconds: t });
  }
  const all = [...counts.values()].sort((a, b) => b.rows - a.rows || (a.entity < b.entity ? -1 : a.entity > b.entity ? 1 : 0));
  return { format: f.name, keyColumns: keyCols, rows, distinct: all.length, entities: all.slice(0, opts.limit ?? all.length) };
}
