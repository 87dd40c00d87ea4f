// RESP2, the Redis wire protocol: enough to send commands and parse replies
// (simple strings, errors, integers, bulk strings, arrays) incrementally from
// a TCP or Unix socket stream.

export type RespValue = string | number | null | Error | RespValue[];

export function encodeCommand(args: readonly string[]): Buffer {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return Buffer.from(s);
}

export class RespProtocolError extends Error {
  override readonly name = 'RespProtocolError';
}

/** Incremental parser: feed() chunks, get back the complete replies. */
export class RespParser {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;

  feed(chunk: Buffer): RespValue[] {
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    this.pos = 0;
    const out: RespValue[] = [];
    for (;;) {
      const start = this.pos;
      const v = this.parseValue();
      if (v === undefined) {
        this.pos = start;
        break;
      }
      out.push(v);
    }
    return out;
  }

  private line(): string | undefined {
    const end = this.buf.indexOf('\r\n', this.pos, 'latin1');
    if (end < 0) return undefined;
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 2;
    return s;
  }

  /** undefined = incomplete, wait for more bytes. */
  private parseValue(): RespValue | undefined {
    if (this.pos >= this.buf.length) return undefined;
    const type = String.fromCharCode(this.buf[this.pos++]);
    const l = this.line();
    if (l === undefined) return undefined;
    switch (type) {
      case '+':
        return l;
      case '-':
        return new Error(l);
      case ':':
        return Number(l);
      case '$': {
        const n = Number(l);
        if (n < 0) return null;
        if (this.pos + n + 2 > this.buf.length) return undefined;
        const s = this.buf.toString('utf8', this.pos, this.pos + n);
        this.pos += n + 2;
        return s;
      }
      case '*': {
        const n = Number(l);
        if (n < 0) return null;
        const arr: RespValue[] = [];
        for (let i = 0; i < n; i++) {
          const v = this.parseValue();
          if (v === undefined) return undefined;
          arr.push(v);
        }
        return arr;
      }
      default:
        throw new RespProtocolError(`unexpected RESP type byte ${JSON.stringify(type)}`);
    }
  }
}
