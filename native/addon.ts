// Loads the native module built by native/build.mjs, or explains why it is not
// there. Callers use nativeAddon() and must handle null with a pure-JS path.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** Result of a syscall made by the addon: ok, or the exact errno. */
export interface SyscallResult {
  ok: boolean;
  errno: number;
  error?: string;
}

export interface PerfProbeResult extends SyscallResult {
  value?: number;
}

export interface PerfOpenResult extends SyscallResult {
  fd?: number;
  id?: number;
  /** True when kernel time could not be counted (no privilege for it). */
  excludeKernel?: boolean;
}

export interface PerfGroupRead extends SyscallResult {
  timeEnabledNs?: number;
  timeRunningNs?: number;
  values?: number[];
  ids?: number[];
}

export interface LoadgenStartOptions {
  socketPath?: string;
  host?: string;
  port?: number;
  connections: number;
  ctrl: Int32Array;
  times: Float64Array;
  keys: Int32Array;
  isGet: Uint8Array;
  status: Uint8Array;
  lagNs: Float64Array;
  doneNs: Float64Array;
  cap: number;
  /** process.hrtime's clock (CLOCK_MONOTONIC) at the schedule's time 0, ns. */
  startNs: number;
  maxOutstanding: number;
  keyPrefix: string;
  valueBytes: number;
  /** The sender wakes this long before a request and spins to its time. */
  spinNs: number;
  /** Run the two threads at SCHED_FIFO 1 (needs CAP_SYS_NICE; the result says whether it held). */
  realtime?: boolean;
}

/** The addon's functions (see native/src/*.cc for each one's contract). */
export interface UmbraNative {
  abiVersion: number;
  probePerfEvent(type: number, config: number): PerfProbeResult;
  /** single: a counter without members, read in the cheaper non-group format (perfReadGroups reads both). */
  perfOpen(pid: number, type: number, config: number, groupFd: number, inherit: boolean, single?: boolean): PerfOpenResult;
  perfReadGroup(fd: number): PerfGroupRead;
  /** out[i*stride]: members read or -errno; +1 enabled ns; +2 running ns; +3.. values. Returns groups read. */
  perfReadGroups(fds: Int32Array, out: Float64Array, stride: number): number;
  perfClose(fd: number): SyscallResult;
  readFile(path: string): SyscallResult & { data?: string };
  writeFile(path: string, data: string): SyscallResult;
  mkdir(path: string): SyscallResult;
  rmdir(path: string): SyscallResult;
  /** control: on cgroupfs/sysfs/resctrl/procfs, where a kept-open descriptor re-reads fresh contents. */
  openRead(path: string): SyscallResult & { fd?: number; control?: boolean };
  closeFd(fd: number): SyscallResult;
  /** Re-reads each fd from offset 0; out[i] = first unsigned integer in it, or NaN. Returns files read. */
  preadInts(fds: Int32Array, out: Float64Array): number;
  /** sysconf(_SC_PAGESIZE): the unit of /proc/<pid>/statm. */
  pageSizeBytes: number;
  /** The whole file, re-read from offset 0 on an open descriptor. */
  preadText(fd: number): SyscallResult & { data?: string };
  /** Open for writing; control: on cgroupfs/sysfs/resctrl/procfs, so pwriteText may rewrite it. */
  openWrite(path: string): SyscallResult & { fd?: number; control?: boolean };
  /** One pwrite(2) of the whole value at offset 0. */
  pwriteText(fd: number, data: string): SyscallResult;
  setAffinity(tid: number, cpus: number[]): SyscallResult;
  getAffinity(tid: number): SyscallResult & { cpus?: number[] };
  /** Block this thread until CLOCK_MONOTONIC (process.hrtime's clock) reaches monotonicNs. */
  sleepUntilNs(monotonicNs: number): SyscallResult;
  /** CPU time of the calling thread, ns (CLOCK_THREAD_CPUTIME_ID). */
  threadCpuNs(): number;
  /** ranges = [start, length, start, length, ...] in the target's address space. */
  processMadvise(pid: number, ranges: Float64Array, advice: number): SyscallResult & { bytes?: number };
  MADV_WILLNEED: number;
  MADV_COLD: number;
  pointerChase(workingSetBytes: number, accesses: number, seed: number): SyscallResult & { nsPerAccess: number; lines: number };
  streamBandwidth(workingSetBytes: number, reps: number): SyscallResult & { bytesPerSec: number };
  computeRate(iterations: number): SyscallResult & { opsPerSec: number };
  /** The exact LLC's batch loop on its own arrays (sim/llc/llc-exact.ts, 16-slot packed layout); returns hits. */
  /**
   * The load generator's sender and reply reader as native threads, on the
   * shared schedule of runner/workloads/redis-load-generator.ts (see
   * native/src/loadgen.cc for the protocol). Connects `connections` sockets.
   */
  loadgenStart(o: LoadgenStartOptions): SyscallResult & { handle?: number; realtime?: boolean; realtimeError?: string };
  /** Stop both threads and close the connections. */
  loadgenStop(handle: number): SyscallResult;
  /**
   * A thread pinned to `core` that wakes rateHz times a second and does
   * nothing else (SCHED_FIFO 1 when realtime and permitted; see
   * native/src/waker.cc): the calibration of a wake-up's cost to a job.
   */
  wakerStart(core: number, rateHz: number, realtime: boolean): SyscallResult & { handle?: number; realtime?: boolean; realtimeError?: string };
  /** Stop it: the wake-ups it made and its CPU time. */
  wakerStop(handle: number): SyscallResult & { wakeups?: number; cpuNs?: number };
  llcAccessBatch(tags: Int32Array, meta: Int32Array, owner: Uint8Array, occupancy: Int32Array, setBits: number, task: number, mask: number, blocks: Int32Array, start: number, end: number): number;
}

/** The abiVersion native/src/umbra.cc exports; a build with another one is stale. */
export const NATIVE_ABI_VERSION = 9;

export interface NativeStatus {
  available: boolean;
  reason?: string;
  path: string;
}

// dist/native/addon.js and native/addon.ts both resolve to <repo>/native/build.
function buildDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const repo = here.includes(`${'/'}dist${'/'}`) || here.endsWith('/dist/native') ? join(here, '..', '..') : join(here, '..');
  return join(repo, 'native', 'build');
}

let cached: { addon: UmbraNative | null; status: NativeStatus } | undefined;

function load(): { addon: UmbraNative | null; status: NativeStatus } {
  if (cached) return cached;
  const dir = buildDir();
  const path = join(dir, 'umbra.node');
  if (process.env.UMBRA_NO_NATIVE === '1') {
    cached = { addon: null, status: { available: false, reason: 'disabled by UMBRA_NO_NATIVE=1', path } };
    return cached;
  }
  if (!existsSync(path)) {
    let reason = 'native/build/umbra.node was not built';
    try {
      const st = JSON.parse(readFileSync(join(dir, 'build-status.json'), 'utf8')) as { reason?: string };
      if (st.reason) reason += `: ${st.reason}`;
    } catch {
      reason += ' (no build-status.json: the install script did not run; run `node native/build.mjs`)';
    }
    cached = { addon: null, status: { available: false, reason, path } };
    return cached;
  }
  try {
    const require = createRequire(import.meta.url);
    const addon = require(path) as UmbraNative;
    if (addon.abiVersion !== NATIVE_ABI_VERSION) {
      cached = { addon: null, status: { available: false, reason: `stale build: abiVersion ${addon.abiVersion}, expected ${NATIVE_ABI_VERSION} (run \`node native/build.mjs\`)`, path } };
    } else {
      cached = { addon, status: { available: true, path } };
    }
  } catch (err) {
    cached = { addon: null, status: { available: false, reason: `failed to load: ${(err as Error).message.split('\n')[0]}`, path } };
  }
  return cached;
}

export function nativeAddon(): UmbraNative | null {
  return load().addon;
}

export function nativeStatus(): NativeStatus {
  return load().status;
}
