// HostFs over node:fs: the pure-JS fallback when the native addon is missing.
import {
  closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmdirSync, statSync, writeSync,
} from 'node:fs';
import { HostFs, HostFsError } from '../host-fs.js';

function wrap<T>(op: string, path: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'EIO';
    throw new HostFsError(code, op, path);
  }
}

export class NodeHostFs implements HostFs {
  readonly kind: string = 'node:fs';
  private readonly buf = Buffer.alloc(256);

  readText(path: string): string {
    return wrap('read', path, () => readFileSync(path, 'utf8'));
  }

  /** The fallback keeps nothing open: it is the path taken when speed matters least. */
  readTextKeepOpen(path: string, _o?: { reopen?: boolean }): string {
    return this.readText(path);
  }

  writeText(path: string, data: string): void {
    wrap('write', path, () => {
      // O_WRONLY without O_CREAT: a control file that does not exist is an
      // error (as on cgroupfs), never silently created.
      const fd = openSync(path, 'r+');
      try {
        const bytes = Buffer.from(data);
        const n = writeSync(fd, bytes, 0, bytes.length);
        if (n !== bytes.length) throw Object.assign(new Error('short write'), { code: 'EIO' });
      } finally {
        closeSync(fd);
      }
    });
  }

  mkdir(path: string): void {
    wrap('mkdir', path, () => mkdirSync(path));
  }

  rmdir(path: string): void {
    wrap('rmdir', path, () => rmdirSync(path));
  }

  exists(path: string): boolean {
    return existsSync(path);
  }

  isDirectory(path: string): boolean {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  }

  list(dir: string): string[] {
    return wrap('readdir', dir, () => readdirSync(dir).sort());
  }

  openCounter(path: string): number {
    return wrap('open', path, () => openSync(path, 'r'));
  }

  readCounters(fds: Int32Array, out: Float64Array): void {
    for (let i = 0; i < fds.length; i++) {
      out[i] = NaN;
      try {
        const n = readSync(fds[i], this.buf, 0, this.buf.length, 0);
        out[i] = firstUnsignedInt(this.buf.toString('latin1', 0, n));
      } catch {
        // leave NaN: the counter is gone (group removed, process exited)
      }
    }
  }

  closeCounter(fd: number): void {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
}

export function firstUnsignedInt(text: string): number {
  const m = /\d+/.exec(text);
  return m ? Number(m[0]) : NaN;
}
