// Streaming reader for DRAMsim3 trace files: one request a line,
// `0xADDR READ|WRITE CYCLE` (address hex, 0x optional; cycle decimal).
// Blank lines and lines starting with `#` are skipped. The file is read in
// chunks and handed out in batches, so traces larger than memory replay fine.
// A malformed line is one InputError naming file:line:column.
import { createReadStream } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { InputError } from '../../util/errors.js';
import type { RequestBatch } from './trace-replay.js';

export type TraceFormat = 'dramsim3';
export const TRACE_FORMATS: readonly TraceFormat[] = ['dramsim3'];

/** Addresses wider than this are reduced modulo 2^52 (every DRAM field lies below). */
const ADDRESS_BITS_KEPT = 52;

export class TraceLineParser {
  private lineNo = 0;
  constructor(readonly where: string) {}

  /** Parse one line into the batch at index `i`; returns false for a skipped line. */
  parseInto(line: string, batch: RequestBatch, i: number): boolean {
    this.lineNo++;
    const len = line.length;
    let p = 0;
    const ws = (c: number) => c === 32 || c === 9 || c === 13;
    while (p < len && ws(line.charCodeAt(p))) p++;
    if (p === len || line.charCodeAt(p) === 35 /* # */) return false;
    // token 1: address
    const aStart = p;
    while (p < len && !ws(line.charCodeAt(p))) p++;
    const aTok = line.slice(aStart, p);
    while (p < len && ws(line.charCodeAt(p))) p++;
    const oStart = p;
    while (p < len && !ws(line.charCodeAt(p))) p++;
    const oTok = line.slice(oStart, p);
    while (p < len && ws(line.charCodeAt(p))) p++;
    const cStart = p;
    while (p < len && !ws(line.charCodeAt(p))) p++;
    const cTok = line.slice(cStart, p);
    while (p < len && ws(line.charCodeAt(p))) p++;
    const at = (col: number) => `${this.where}:${this.lineNo}:${col + 1}`;
    const expected = 'expected "0xADDRESS READ|WRITE CYCLE"';
    const hex = aTok.startsWith('0x') || aTok.startsWith('0X') ? aTok.slice(2) : aTok;
    if (hex.length === 0 || !/^[0-9a-fA-F]+$/.test(hex)) throw new InputError(`${expected}: bad address "${aTok}" (hexadecimal)`, at(aStart));
    let addr: number;
    if (hex.length <= 13) addr = parseInt(hex, 16);
    else addr = Number(BigInt.asUintN(ADDRESS_BITS_KEPT, BigInt('0x' + hex)));
    let w: number;
    if (oTok === 'READ' || oTok === 'read') w = 0;
    else if (oTok === 'WRITE' || oTok === 'write') w = 1;
    else throw new InputError(`${expected}: bad operation "${oTok}" (READ or WRITE)`, at(oStart));
    if (cTok.length === 0 || !/^\d+$/.test(cTok)) throw new InputError(`${expected}: bad cycle "${cTok}" (a non-negative integer)`, at(cStart));
    const cycle = Number(cTok);
    if (!Number.isSafeInteger(cycle)) throw new InputError(`cycle ${cTok} is too large`, at(cStart));
    if (p < len) throw new InputError(`${expected}: unexpected text "${line.slice(p).trim()}" after the cycle`, at(p));
    batch.addr[i] = addr;
    batch.isWrite[i] = w;
    batch.cycle[i] = cycle;
    return true;
  }
}

function newBatch(n: number): RequestBatch {
  return { addr: new Float64Array(n), cycle: new Float64Array(n), isWrite: new Uint8Array(n), length: 0 };
}

/** Fail early (InputError, exit 2) if the trace cannot be opened. */
export async function checkTraceReadable(path: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'trace file not found' : `cannot read trace file (${code ?? String(err)})`, path);
  }
}

/** Stream a DRAMsim3 trace as batches of up to `batchSize` requests. */
export async function* readTraceFile(path: string, format: TraceFormat = 'dramsim3', batchSize = 65536): AsyncGenerator<RequestBatch> {
  if (format !== 'dramsim3') throw new InputError(`unknown trace format "${String(format)}" (expected ${TRACE_FORMATS.join(', ')})`, '--format');
  await checkTraceReadable(path);
  const parser = new TraceLineParser(path);
  const stream = createReadStream(path, { encoding: 'latin1', highWaterMark: 1 << 20 });
  let batch = newBatch(batchSize);
  let rest = '';
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const text = rest + chunk;
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        if (parser.parseInto(text.slice(start, nl), batch, batch.length)) {
          batch.length++;
          if (batch.length === batchSize) {
            yield batch;
            batch = newBatch(batchSize);
          }
        }
        start = nl + 1;
      }
      rest = text.slice(start);
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read trace file (${code ?? String(err)})`, path);
  }
  if (rest.length > 0 && parser.parseInto(rest, batch, batch.length)) batch.length++;
  if (batch.length > 0) yield batch;
}
