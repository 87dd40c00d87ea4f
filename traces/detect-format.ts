// Tells which known format a usage table is in from its first records: a
// header row naming the columns, or (the public files have none) the number of
// columns and what the first cells look like.
import { InputError } from '../util/errors.js';
import { SERIES_FORMAT, TABLE_FORMATS, formatNames } from './formats.js';
import { parseNumberCell, peekRecords } from './table-reader.js';

export interface DetectedFormat {
  /** A name from formatNames(). */
  format: string;
  /** Whether the first record is a header row. */
  header: boolean;
  /** Why: shown by `umbra trace info`. */
  reason: string;
}

const isNum = (c: string | undefined) => parseNumberCell(c) !== null;

/** True when the record looks like a header: no cell is a number. */
export function looksLikeHeader(cells: string[]): boolean {
  return cells.length > 0 && cells.every((c) => c !== '' && !isNum(c));
}

export async function detectFormat(path: string): Promise<DetectedFormat> {
  const recs = await peekRecords(path, 1);
  if (recs.length === 0) throw new InputError('empty file: no records to tell the format from', path);
  const first = recs[0].cells;
  if (looksLikeHeader(first)) {
    const lower = first.map((c) => c.toLowerCase());
    for (const f of Object.values(TABLE_FORMATS)) {
      const names = f.columns.map((c) => c.name);
      const n = lower.length;
      if (n >= (f.minColumns ?? names.length) && n <= names.length && lower.every((c, i) => c === names[i])) {
        return { format: f.name, header: true, reason: `header row names the ${f.name} columns` };
      }
    }
    return { format: SERIES_FORMAT, header: true, reason: `header row (${first.join(',')}): a single-series CSV` };
  }
  // judged on the first record: a later malformed row gets its own error, with its line and column, from the reader
  const data = [first];
  const all = (pred: (cells: string[]) => boolean) => data.every(pred);
  const n = first.length;
  if (n === 9 && all((c) => c.length === 9 && /^m_\w+$/.test(c[0]) && isNum(c[1]))) {
    return { format: 'alibaba-machine-usage', header: false, reason: '9 columns, machine ids like m_1 then a time stamp' };
  }
  if (n === 11 && all((c) => c.length === 11 && /^c_\w+$/.test(c[0]) && /^m_\w+$/.test(c[1]) && isNum(c[2]))) {
    return { format: 'alibaba-container-usage', header: false, reason: '11 columns, container ids like c_1, machine ids like m_1, then a time stamp' };
  }
  if (n === 5 && all((c) => c.length === 5 && isNum(c[0]) && !isNum(c[1]) && isNum(c[2]) && isNum(c[3]) && isNum(c[4]))) {
    return { format: 'azure-vm-cpu', header: false, reason: '5 columns: timestamp, VM id, min, max, avg CPU' };
  }
  if ((n === 19 || n === 20) && all((c) => (c.length === 19 || c.length === 20) && /^\d+$/.test(c[0]) && /^\d+$/.test(c[1]) && /^\d+$/.test(c[2]) && /^\d+$/.test(c[3]))) {
    return { format: 'google-2011-task-usage', header: false, reason: `${n} columns: start/end time (us), job id, task index, ...` };
  }
  throw new InputError(
    `cannot tell the trace format from the first record (${n} columns: ${first.slice(0, 6).map((c) => JSON.stringify(c)).join(',')}${n > 6 ? ',...' : ''}); name it with format (one of ${formatNames().join(', ')})`,
    `${path}:${recs[0].line}`,
  );
}
