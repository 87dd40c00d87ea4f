// Streams a trace file as Buffers, gunzipping it when its first bytes are the
// gzip magic (1f 8b), whatever its name. Never holds the whole file: traces
// can be gigabytes. Missing/unreadable files and corrupt gzip data become
// InputErrors naming the file (exit 2).
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from '../../util/errors.js';

const CHUNK_BYTES = 1 << 20;

/** True when `head` starts with the gzip magic bytes. */
export function isGzipMagic(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** "-" reads standard input. */
export async function* traceChunks(path: string): AsyncGenerator<Buffer> {
  const label = path === '-' ? '<stdin>' : path;
  let raw: AsyncIterable<Buffer>;
  if (path === '-') {
    raw = process.stdin;
  } else {
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      throw openError(err, path);
    }
    const st = await handle.stat();
    if (st.isDirectory()) {
      await handle.close();
      throw new InputError('is a directory, expected a trace file', path);
    }
    raw = handle.createReadStream({ highWaterMark: CHUNK_BYTES });
  }
  try {
    const it = raw[Symbol.asyncIterator]();
    // Peek at the first bytes (a first chunk may be a single byte on a pipe).
    const head: Buffer[] = [];
    let headBytes = 0;
    while (headBytes < 2) {
      const r = await it.next();
      if (r.done) break;
      head.push(r.value);
      headBytes += r.value.length;
    }
    const first = Buffer.concat(head);
    const rest: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => it };
    if (!isGzipMagic(first)) {
      if (first.length) yield first;
      for await (const chunk of rest) yield chunk;
      return;
    }
    const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
    const compressed = Readable.from(prepend(first, rest), { objectMode: false });
    compressed.on('error', (e) => gunzip.destroy(e));
    compressed.pipe(gunzip);
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
    } catch (err) {
      if (isZlibError(err)) throw new InputError(`corrupt or truncated gzip data (${(err as Error).message})`, label);
      throw err;
    } finally {
      compressed.destroy();
      gunzip.destroy();
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw readError(err, label);
  } finally {
    if (raw !== process.stdin) (raw as Readable).destroy();
  }
}

async function* prepend(first: Buffer, rest: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  for await (const chunk of rest) yield chunk;
}

function isZlibError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

function openError(err: unknown, path: string): Error {
  const code = (err as { code?: string })?.code;
  if (code === 'ENOENT') return new InputError('trace file not found', path);
  if (code === 'EACCES' || code === 'EPERM') return new InputError('trace file is not readable (permission denied)', path);
  if (code === 'EISDIR') return new InputError('is a directory, expected a trace file', path);
  return err instanceof Error ? err : new Error(String(err));
}

function readError(err: unknown, label: string): Error {
  const code = (err as { code?: string })?.code;
  if (code === 'EISDIR') return new InputError('is a directory, expected a trace file', label);
  return err instanceof Error ? err : new Error(String(err));
}
