// Streams the records of a CSV usage table (plain or gzip, told apart by the
// magic bytes), one at a time, with the line each came from, so a multi-GB
// file never sits in memory. The public tables never quote a field, so a line
// without a quote character is split on commas directly (the same cells
// csv-parse gives, about 50x faster: 1 M Alibaba rows in ~0.1 s instead of
// ~5 s, measured in experiments/README.md); a line with a quote is handed to
// csv-parse, with the following lines while its quotes are unbalanced. The
// column-count and cell checks are the callers', so every error names
// file:line:column and what was expected.
import { createReadStream, openSync, readSync, closeSync, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { parse as parseSync } from 'csv-parse/sync';
import { InputError } from '../util/errors.js';

export interface RawRecord {
  /** 1-based line of the record's start in the (decompressed) file. */
  line: number;
  cells: string[];
}

/** Throws InputError('no such file' / 'not a regular file') naming the path. */
export function checkReadableFile(path: string): void {
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new InputError('no such file', path);
  }
  if (!isFile) throw new InputError('not a regular file', path);
}

function isGzip(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(2);
    const n = readSync(fd, b, 0, 2, 0);
    return n === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

function countQuotes(s: string): number {
  let n = 0;
  for (let i = s.indexOf('"'); i >= 0; i = s.indexOf('"', i + 1)) n++;
  return n;
}

/** Cells of a quote-free line: split on commas, whitespace around each trimmed (as csv-parse with trim). */
function splitPlain(line: string): string[] {
  const cells = line.split(',');
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i];
    if (c.length > 0 && (c.charCodeAt(0) <= 32 || c.charCodeAt(c.length - 1) <= 32)) cells[i] = c.trim();
  }
  return cells;
}

/**
 * Every non-empty record of the file, in order. `#` lines are comments.
 * Stops reading (and closes the file) when the consumer stops iterating.
 */
export async function* readRecords(path: string): AsyncGenerator<RawRecord> {
  checkReadableFile(path);
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  let source: Readable = file;
  if (isGzip(path)) {
    const gunzip = createGunzip();
    file.on('error', (e) => gunzip.destroy(e));
    source = file.pipe(gunzip);
  }
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let lineNo = 0;
  let first = true;
  // a quoted record spanning lines: its text so far, its first line
  let pending: string | null = null;
  let pendingLine = 0;
  const quoted = (text: string, line: number): string[] => {
    try {
      const rows = parseSync(text, { bom: false, trim: true, relax_column_count: true, skip_empty_lines: false }) as string[][];
      return rows[0] ?? [];
    } catch (err) {
      const e = err as { message?: string; lines?: number };
      throw new InputError(`malformed CSV: ${e.message ?? String(err)}`, `${path}:${line + (e.lines ? e.lines - 1 : 0)}`);
    }
  };
  function* handle(raw: string): Generator<RawRecord> {
    lineNo++;
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (first) {
      first = false;
      if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    }
    if (pending !== null) {
      pending += '\n' + line;
      if (countQuotes(pending) % 2 === 0) {
        const text = pending;
        pending = null;
        yield { line: pendingLine, cells: quoted(text, pendingLine) };
      }
      return;
    }
    if (line.length === 0 || line.charCodeAt(0) === 35 /* # */) return;
    if (line.indexOf('"') < 0) {
      if (line.trim().length === 0) return;
      yield { line: lineNo, cells: splitPlain(line) };
      return;
    }
    if (countQuotes(line) % 2 === 0) {
      yield { line: lineNo, cells: quoted(line, lineNo) };
      return;
    }
    pending = line;
    pendingLine = lineNo;
  }
  try {
    for await (const chunk of source) {
      const text = rest + decoder.write(chunk as Buffer);
      let i = 0;
      for (let j = text.indexOf('\n'); j >= 0; j = text.indexOf('\n', i)) {
        yield* handle(text.slice(i, j));
        i = j + 1;
      }
      rest = text.slice(i);
    }
    const tail = rest + decoder.end();
    if (tail.length > 0) yield* handle(tail);
    if (pending !== null) yield { line: pendingLine, cells: quoted(pending, pendingLine) };
  } catch (err) {
    if (err instanceof InputError) throw err;
    const e = err as { message?: string; code?: string };
    if (typeof e.code === 'string' && e.code.startsWith('Z_')) throw new InputError(`corrupt or truncated gzip data: ${e.message}`, path);
    throw new InputError(`cannot read: ${e.message ?? String(err)}`, path);
  } finally {
    file.destroy();
    if (source !== file) source.destroy();
  }
}

/** The first `n` records (for format detection and error hints). */
export async function peekRecords(path: string, n: number): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  for await (const r of readRecords(path)) {
    out.push(r);
    if (out.length >= n) break;
  }
  return out;
}

/** A finite number, or null. Empty cells are not numbers. */
export function parseNumberCell(cell: string | undefined): number | null {
  if (cell === undefined || cell === '') return null;
  const v = Number(cell);
  return Number.isFinite(v) ? v : null;
}
