// File access for cgroupfs, resctrl, sysfs and procfs. Two implementations
// behind one interface: the native addon (exact errno, batched re-reads for the
// control loop) and plain node:fs (the fallback when the addon did not load).
// Tests substitute a fake kernel over a temp dir.

/** A failed file operation, carrying the errno name (ENOENT, EBUSY, EINVAL...). */
export class HostFsError extends Error {
  override readonly name = 'HostFsError';
  constructor(
    readonly code: string,
    readonly op: string,
    readonly path: string,
    detail?: string,
  ) {
    super(`${op} ${path}: ${code}${detail ? ` (${detail})` : ''}`);
  }
}

export interface HostFs {
  /** Which implementation this is, for reports ("native" | "node:fs" | a fake's name). */
  readonly kind: string;
  readText(path: string): string;
  /**
   * readText for files re-read every control period (/proc/<pid>/status,
   * cgroup.procs, memory.usage_in_bytes, ...): where the filesystem generates
   * contents on each read (procfs, cgroupfs, sysfs, resctrl) the descriptor
   * stays open and the next call re-reads it from offset 0, skipping the path
   * walk that is most of a cold read. Same results and errors as readText.
   * Not for a v1 cgroup.procs or tasks file: the kernel serves a kept-open
   * one the pid list of its first read for as long as it is re-read within
   * a second.
   * reopen: false: when the kept descriptor's file is gone (a removed group,
   * an exited process), fail (ESRCH) instead of opening the path again, which
   * for /proc/<pid>/... could be another process that got the pid since.
   */
  readTextKeepOpen(path: string, o?: { reopen?: boolean }): string;
  /** Close what readTextKeepOpen/writeText kept open (the run is over). */
  closeKept?(): void;
  /** One write(2) of the whole value (cgroupfs parses each write separately). */
  writeText(path: string, data: string): void;
  mkdir(path: string): void;
  rmdir(path: string): void;
  exists(path: string): boolean;
  isDirectory(path: string): boolean;
  list(dir: string): string[];
  /** Keep a counter file open for cheap re-reads. */
  openCounter(path: string): number;
  /** Re-read each counter from offset 0: out[i] = first unsigned integer, or NaN. */
  readCounters(fds: Int32Array, out: Float64Array): void;
  closeCounter(fd: number): void;
}

/** Errno name of an error thrown by node:fs or HostFs, or undefined. */
export function errnoOf(err: unknown): string | undefined {
  if (err instanceof HostFsError) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** readText or undefined when the file does not exist or cannot be read. */
export function tryReadText(fs: HostFs, path: string): string | undefined {
  try {
    return fs.readText(path);
  } catch {
    return undefined;
  }
}

/** readTextKeepOpen or undefined when the file does not exist or cannot be read. */
export function tryReadTextKeepOpen(fs: HostFs, path: string, o?: { reopen?: boolean }): string | undefined {
  try {
    return fs.readTextKeepOpen(path, o);
  } catch {
    return undefined;
  }
}
