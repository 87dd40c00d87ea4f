// Byte-level parser of valgrind lackey memory traces
// (`valgrind --tool=lackey --trace-mem=yes`):
//   I  0401ab70,3      instruction fetch
//    L 1ffefffd68,8    load
//    S 1ffefffd68,8    store
//    M 0420f440,4      modify (load + store of one address by one instruction)
// Address in hex without 0x, size in decimal. Lines valgrind itself writes to
// the same log (`==pid== ...` messages, `--pid-- ...` debug messages) are
// skipped, as are blank lines; anything else is an InputError naming
// file:line:column. The parser works on Buffers and never builds a string per
// line: at tens of millions of lines that is most of the cost.
import { InputError } from '../../util/errors.js';
import { SpansTooManyLinesError } from './lru-cache.js';

/** Receives each access. Addresses below 2^52 come as numbers, others as BigInt. */
export interface LackeySink {
  instr(addr: number, sizeBytes: number): void;
  load(addr: number, sizeBytes: number): void;
  store(addr: number, sizeBytes: number): void;
  modify(addr: number, sizeBytes: number): void;
  instrBig(addr: bigint, sizeBytes: number): void;
  loadBig(addr: bigint, sizeBytes: number): void;
  storeBig(addr: bigint, sizeBytes: number): void;
  modifyBig(addr: bigint, sizeBytes: number): void;
}

const NL = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const COMMA = 44;
const EQ = 61;
const DASH = 45;
const KIND_I = 73;
const KIND_L = 76;
const KIND_S = 83;
const KIND_M = 77;

/** Hex digit value per byte, -1 for non-digits. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[65 + c] = 10 + c;
  HEX[97 + c] = 10 + c;
}

/** Up to 13 hex digits an address is a double below 2^52, exact with room for +size. */
const MAX_FAST_HEX_DIGITS = 13;
const MAX_SIZE_DIGITS = 9;

const FORMAT = 'lackey lines are "I  ADDR,SIZE" or " L|S|M ADDR,SIZE" (ADDR hex, SIZE decimal)';
const EXPECTED = `expected a lackey trace line ("I  ADDR,SIZE", " L ADDR,SIZE", " S ADDR,SIZE", " M ADDR,SIZE"; ADDR hex, SIZE decimal) or a valgrind "==PID==" message`;

export class LackeyParser {
  /** Lines consumed so far (the number of the last complete line). */
  lineNo = 0;
  /** Access lines (I/L/S/M) seen so far. */
  accesses = 0;

  constructor(
    private readonly sink: LackeySink,
    /** How errors name the input (a path, or "<stdin>"). */
    private readonly label: string,
  ) {}

  /**
   * Parse complete lines in buf[start, end): buf[end - 1] must be '\n' (the
   * caller appends one to a last line that lacks it).
   */
  parse(buf: Uint8Array, start: number, end: number): void {
    const sink = this.sink;
    let line = this.lineNo;
    let accesses = this.accesses;
    let i = start;
    let lineStart = start;
    try {
      while (i < end) {
        lineStart = i;
        line++;
        let c = buf[i];
        while (c === SPACE || c === TAB) c = buf[++i];
        if (c !== KIND_I && c !== KIND_L && c !== KIND_S && c !== KIND_M) {
          if (c === NL || (c === CR && buf[i + 1] === NL)) {
            i = buf.indexOf(NL, i) + 1;
            continue;
          }
          if ((c === EQ || c === DASH) && i === lineStart && isValgrindMessage(buf, i, c)) {
            i = buf.indexOf(NL, i) + 1;
            continue;
          }
          this.fail(buf, lineStart, i, line, EXPECTED);
        }
        const kind = c;
        c = buf[++i];
        if (c !== SPACE && c !== TAB) this.fail(buf, lineStart, i, line, `expected a space after "${String.fromCharCode(kind)}"; ${FORMAT}`);
        while (c === SPACE || c === TAB) c = buf[++i];

        const hexStart = i;
        let addr = 0;
        let v = HEX[c];
        while (v >= 0) {
          addr = addr * 16 + v;
          v = HEX[buf[++i]];
        }
        const hexDigits = i - hexStart;
        if (hexDigits === 0) this.fail(buf, lineStart, i, line, `expected a hex address; ${FORMAT}`);
        if (buf[i] !== COMMA) this.fail(buf, lineStart, i, line, `expected "," after the hex address; ${FORMAT}`);
        c = buf[++i];

        const sizeStart = i;
        let size = 0;
        while (c >= 48 && c <= 57) {
          size = size * 10 + (c - 48);
          c = buf[++i];
        }
        if (i === sizeStart) this.fail(buf, lineStart, i, line, `expected a decimal size after ","; ${FORMAT}`);
        if (i - sizeStart > MAX_SIZE_DIGITS) this.fail(buf, lineStart, sizeStart, line, `access size ${size} is implausibly large (at most ${MAX_SIZE_DIGITS} digits)`);
        while (c === SPACE || c === TAB || c === CR) c = buf[++i];
        if (c !== NL) this.fail(buf, lineStart, i, line, `unexpected text after the size; ${FORMAT}`);
        i++;

        if (kind !== KIND_I && size === 0) this.fail(buf, lineStart, sizeStart, line, 'a data access of size 0 is not something lackey writes (sizes are at least 1)');
        accesses++;
        if (hexDigits <= MAX_FAST_HEX_DIGITS) {
          if (kind === KIND_I) sink.instr(addr, size);
          else if (kind === KIND_L) sink.load(addr, size);
          else if (kind === KIND_S) sink.store(addr, size);
          else sink.modify(addr, size);
        } else {
          const big = BigInt('0x' + asciiSlice(buf, hexStart, hexStart + hexDigits));
          if (big >= 1n << 64n) this.fail(buf, lineStart, hexStart, line, 'address does not fit in 64 bits');
          if (kind === KIND_I) sink.instrBig(big, size);
          else if (kind === KIND_L) sink.loadBig(big, size);
          else if (kind === KIND_S) sink.storeBig(big, size);
          else sink.modifyBig(big, size);
        }
      }
    } catch (err) {
      if (err instanceof SpansTooManyLinesError) {
        throw new InputError(err.message, `${this.label}:${line}`);
      }
      throw err;
    }
    this.lineNo = line;
    this.accesses = accesses;
  }

  private fail(buf: Uint8Array, lineStart: number, at: number, line: number, what: string): never {
    let lineEnd = buf.indexOf(NL, lineStart);
    if (lineEnd < 0) lineEnd = buf.length;
    const text = asciiSlice(buf, lineStart, Math.min(lineEnd, lineStart + 80)).replace(/\r$/, '');
    const shown = JSON.stringify(text) + (lineEnd - lineStart > 80 ? '...' : '');
    throw new InputError(`${what}; got ${shown}`, `${this.label}:${line}:${at - lineStart + 1}`);
  }
}

/** `==1234==` or `--1234--` at buf[i]: a message valgrind itself wrote. */
function isValgrindMessage(buf: Uint8Array, i: number, mark: number): boolean {
  if (buf[i + 1] !== mark) return false;
  let j = i + 2;
  const digitsStart = j;
  while (buf[j] >= 48 && buf[j] <= 57) j++;
  return j > digitsStart && buf[j] === mark && buf[j + 1] === mark;
}

function asciiSlice(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}
