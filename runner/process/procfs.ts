// Reading /proc for the processes the runner started: identity (pid plus start
// time, so a recycled pid is never mistaken for ours), state, CPU time, memory,
// IO, threads, children, cgroup membership and memory maps.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Clock ticks per second for /proc/<pid>/stat times (USER_HZ; 100 on Linux/x86 and arm64). */
export const USER_HZ = 100;

export interface ProcStat {
  pid: number;
  /** R, S, D, Z, T, t, X, I ... */
  state: string;
  ppid: number;
  pgid: number;
  minorFaults: number;
  majorFaults: number;
  userTicks: number;
  systemTicks: number;
  /** Start time in clock ticks after boot: with the pid, a process's identity. */
  startTicks: number;
}

/** How a caller reads a /proc file: contents, or undefined when it cannot be read. */
export type ProcReader = (path: string) => string | undefined;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Parse /proc/<pid>/stat (the command name may contain spaces and parentheses). */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  const open = text.indexOf('(');
  if (close < 0 || open < 0) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const f = text.slice(close + 2).trim().split(/\s+/);
  // f[0] is field 3 (state) in proc(5)'s numbering.
  const at = (field: number) => Number(f[field - 3]);
  if (f.length < 20) return undefined;
  return {
    pid,
    state: f[0],
    ppid: at(4),
    pgid: at(5),
    minorFaults: at(10),
    majorFaults: at(12),
    userTicks: at(14),
    systemTicks: at(15),
    startTicks: at(22),
  };
}

export function readProcStat(procRoot: string, pid: number, read: ProcReader = readText): ProcStat | undefined {
  const text = read(join(procRoot, String(pid), 'stat'));
  return text === undefined ? undefined : parseProcStat(text);
}

/** True when pid exists, is not a zombie, and (if given) started at startTicks. */
export function isAlive(procRoot: string, pid: number, startTicks?: number): boolean {
  const st = readProcStat(procRoot, pid);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return startTicks === undefined || st.startTicks === startTicks;
}

/** Thread ids of a process. */
export function threadIds(procRoot: string, pid: number): number[] {
  try {
    return readdirSync(join(procRoot, String(pid), 'task')).map(Number).filter(Number.isInteger).sort((a, b) => a - b);
  } catch {
    return [];
  }
}

/** The process and all its descendants (via /proc/<pid>/task/<tid>/children). */
export function processTree(procRoot: string, pid: number): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop() as number;
    if (seen.has(p)) continue;
    seen.add(p);
    if (!readProcStat(procRoot, p)) continue;
    out.push(p);
    for (const tid of threadIds(procRoot, p)) {
      const kids = readText(join(procRoot, String(p), 'task', String(tid), 'children'));
      if (!kids) continue;
      for (const k of kids.trim().split(/\s+/)) if (k) stack.push(Number(k));
    }
  }
  return out.sort((a, b) => a - b);
}

export interface ProcStatus {
  rssBytes: number;
  voluntaryCtxSwitches: number;
  involuntaryCtxSwitches: number;
}

export function readProcStatus(procRoot: string, pid: number, read: ProcReader = readText): ProcStatus | undefined {
  const text = read(join(procRoot, String(pid), 'status'));
  if (text === undefined) return undefined;
  const num = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  return {
    rssBytes: num('VmRSS') * 1024,
    voluntaryCtxSwitches: num('voluntary_ctxt_switches'),
    involuntaryCtxSwitches: num('nonvoluntary_ctxt_switches'),
  };
}

/** Resident set size from /proc/<pid>/statm (its second field, in pages): VmRSS, read cheaper. */
export function readProcRssBytes(procRoot: string, pid: number, pageSizeBytes: number, read: ProcReader = readText): number | undefined {
  const text = read(join(procRoot, String(pid), 'statm'));
  if (text === undefined) return undefined;
  const resident = Number(text.split(' ', 2)[1]);
  return Number.isFinite(resident) ? resident * pageSizeBytes : undefined;
}

/** Bytes the process read plus wrote at the storage layer (/proc/<pid>/io). */
export function readProcIoBytes(procRoot: string, pid: number, read: ProcReader = readText): number | undefined {
  const text = read(join(procRoot, String(pid), 'io'));
  if (text === undefined) return undefined;
  const r = /^read_bytes:\s+(\d+)/m.exec(text);
  const w = /^write_bytes:\s+(\d+)/m.exec(text);
  return (r ? Number(r[1]) : 0) + (w ? Number(w[1]) : 0);
}

/**
 * cgroup membership from /proc/<pid>/cgroup: controller list -> path.
 * v1 lines look like "4:memory:/a/b", the v2 line "0::/a".
 */
export function readProcCgroups(procRoot: string, pid: number | 'self'): Map<string, string> {
  const out = new Map<string, string>();
  const text = readText(join(procRoot, String(pid), 'cgroup'));
  if (!text) return out;
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    out.set(m[1], m[2]);
  }
  return out;
}

export interface MemoryRange {
  start: number;
  end: number;
  perms: string;
  path: string;
}

/** Mappings from /proc/<pid>/maps (addresses fit in a double on x86-64: < 2^53). */
export function readProcMaps(procRoot: string, pid: number): MemoryRange[] {
  const text = readText(join(procRoot, String(pid), 'maps'));
  if (!text) return [];
  const out: MemoryRange[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S+)\s+\S+\s+\S+\s+\S+\s*(.*)$/.exec(line);
    if (!m) continue;
    out.push({ start: parseInt(m[1], 16), end: parseInt(m[2], 16), perms: m[3], path: m[4] });
  }
  return out;
}
