// Replays a lackey trace through cachegrind's I1/D1/LL model, streaming: only
// one chunk (plus a partial line) is in memory at a time.
import { InputError } from '../../util/errors.js';
import { CachegrindHierarchy, type CachegrindCounts, type CacheSimSummary, type HierarchyConfig } from './cachegrind-hierarchy.js';
import { LackeyParser } from './lackey-parser.js';
import { traceChunks } from './trace-source.js';

export interface ReplayResult {
  counts: CachegrindCounts;
  summary: CacheSimSummary;
  /** Lines read, including valgrind's own messages. */
  lines: number;
  /** I/L/S/M lines replayed. */
  accesses: number;
}

/** A partial line longer than this means the input is not a line-oriented trace. */
const MAX_LINE_BYTES = 1 << 20;
const NL = 10;
const NEWLINE = Buffer.from('\n');

/** Replay the lackey trace at `path` ("-" for stdin; gzip detected by magic bytes). */
export async function replayLackeyTrace(path: string, config: HierarchyConfig): Promise<ReplayResult> {
  const label = path === '-' ? '<stdin>' : path;
  const cache = new CachegrindHierarchy(config);
  const parser = new LackeyParser(cache, label);
  let carry: Buffer | null = null;
  for await (const chunk of traceChunks(path)) {
    let from = 0;
    if (carry) {
      // finish the line split across chunks, then parse the rest in place
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        carry = Buffer.concat([carry, chunk]);
        checkLineLength(carry, parser, label);
        continue;
      }
      const joined = Buffer.concat([carry, chunk.subarray(0, nl + 1)]);
      parser.parse(joined, 0, joined.length);
      carry = null;
      from = nl + 1;
    }
    const lastNl = chunk.lastIndexOf(NL);
    if (lastNl >= from) {
      parser.parse(chunk, from, lastNl + 1);
      from = lastNl + 1;
    }
    if (from < chunk.length) {
      carry = Buffer.from(chunk.subarray(from));
      checkLineLength(carry, parser, label);
    }
  }
  if (carry && carry.length) {
    const last = Buffer.concat([carry, NEWLINE]);
    parser.parse(last, 0, last.length);
  }
  return finish(cache, parser);
}

/** Replay a whole in-memory trace (tests, small inputs). */
export function replayLackeyText(text: string | Uint8Array, config: HierarchyConfig, label = '<text>'): ReplayResult {
  const cache = new CachegrindHierarchy(config);
  const parser = new LackeyParser(cache, label);
  let buf = typeof text === 'string' ? Buffer.from(text, 'latin1') : Buffer.from(text);
  if (buf.length && buf[buf.length - 1] !== NL) buf = Buffer.concat([buf, NEWLINE]);
  parser.parse(buf, 0, buf.length);
  return finish(cache, parser);
}

function finish(cache: CachegrindHierarchy, parser: LackeyParser): ReplayResult {
  return { counts: cache.counts(), summary: cache.summary(), lines: parser.lineNo, accesses: parser.accesses };
}

function checkLineLength(carry: Buffer, parser: LackeyParser, label: string): void {
  if (carry.length > MAX_LINE_BYTES) {
    throw new InputError(`line longer than ${MAX_LINE_BYTES} bytes; not a lackey trace (binary or compressed in a format other than gzip?)`, `${label}:${parser.lineNo + 1}`);
  }
}
