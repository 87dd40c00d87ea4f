// HostFs over the native addon: exact errno from each syscall and one call per
// tick for all counter re-reads.
import { existsSync, readdirSync, statSync } from 'node:fs';
import type { UmbraNative, SyscallResult } from '../../../native/addon.js';
import { HostFs, HostFsError } from '../host-fs.js';

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 9: 'EBADF', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES',
  16: 'EBUSY', 17: 'EEXIST', 19: 'ENODEV', 20: 'ENOTDIR', 21: 'EISDIR', 22: 'EINVAL', 28: 'ENOSPC', 30: 'EROFS',
  39: 'ENOTEMPTY', 95: 'EOPNOTSUPP',
};

export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

function check(op: string, path: string, r: SyscallResult): void {
  if (!r.ok) throw new HostFsError(errnoName(r.errno), op, path, r.error);
}

export class NativeHostFs implements HostFs {
  readonly kind = 'native';
  constructor(private readonly addon: UmbraNative) {}

  readText(path: string): string {
    const r = this.addon.readFile(path);
    check('read', path, r);
    return r.data ?? '';
  }

  writeText(path: string, data: string): void {
    check('write', path, this.addon.writeFile(path, data));
  }

  mkdir(path: string): void {
    check('mkdir', path, this.addon.mkdir(path));
  }

  rmdir(path: string): void {
    check('rmdir', path, this.addon.rmdir(path));
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
    try {
      return readdirSync(dir).sort();
    } catch (err) {
      throw new HostFsError((err as { code?: string }).code ?? 'EIO', 'readdir', dir);
    }
  }

  openCounter(path: string): number {
    const r = this.addon.openRead(path);
    check('open', path, r);
    return r.fd as number;
  }

  readCounters(fds: Int32Array, out: Float64Array): void {
    this.addon.preadInts(fds, out);
  }

  closeCounter(fd: number): void {
    this.addon.closeFd(fd);
  }
}
