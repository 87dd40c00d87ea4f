// Undoing a journal. Synchronous on purpose: it runs from process 'exit' and
// signal handlers, where nothing asynchronous would ever complete.
//
// Order matters for safety, so it is fixed in phases rather than plain reverse:
//  1. thaw every freezer we may have frozen (a frozen task cannot even die);
//  2. stop every process we started: SIGTERM to its process group, wait, then
//     SIGKILL, plus anything still inside a cgroup we created;
//  3. undo the rest in reverse order: move survivors back, restore affinities
//     and files we overwrote outside our own directories, remove our directories.
// Every step is idempotent (a missing dir, a dead pid, an already-thawed group
// are fine), so a replay after a crash mid-restore simply runs again.
import { rmSync } from 'node:fs';
import { join, sep } from 'node:path';
import type { HostFs } from '../fs/host-fs.js';
import { errnoOf } from '../fs/host-fs.js';
import { isAlive, readProcStat } from '../process/procfs.js';
import type { JournalChange } from './journal-entry.js';
import { sleepSync } from './sleep-sync.js';

export interface RestoreDeps {
  fs: HostFs;
  procRoot: string;
  /** How long processes get between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  /** Restores a thread's affinity (native sched_setaffinity); absent = skip with a note. */
  setAffinity?: (tid: number, cpus: number[]) => boolean;
  /** Sends a signal; tests may observe it. Defaults to process.kill. */
  kill?: (pid: number, signal: NodeJS.Signals) => void;
}

export interface RestoreFailure {
  change: JournalChange;
  error: string;
}

export interface RestoreReport {
  thawed: string[];
  killedPids: number[];
  movedBack: number[];
  restoredFiles: string[];
  removedDirs: string[];
  failures: RestoreFailure[];
  /** True when nothing failed: the journal can be deleted. */
  complete: boolean;
}

function defaultKill(pid: number, signal: NodeJS.Signals): void {
  process.kill(pid, signal);
}

function isUnder(path: string, dirs: string[]): boolean {
  return dirs.some((d) => path.startsWith(d + sep));
}

/** Pids listed in a cgroup's cgroup.procs (or resctrl's tasks), if it still exists. */
function groupPids(fs: HostFs, dir: string, kind: 'cgroup' | 'resctrl'): number[] {
  const file = join(dir, kind === 'cgroup' ? 'cgroup.procs' : 'tasks');
  try {
    return fs.readText(file).split(/\s+/).filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return [];
  }
}

export function restoreChanges(changes: JournalChange[], deps: RestoreDeps): RestoreReport {
  const { fs, procRoot } = deps;
  const kill = deps.kill ?? defaultKill;
  const graceMs = deps.killGraceMs ?? 2000;
  const report: RestoreReport = { thawed: [], killedPids: [], movedBack: [], restoredFiles: [], removedDirs: [], failures: [], complete: false };
  const fail = (change: JournalChange, err: unknown) =>
    report.failures.push({ change, error: err instanceof Error ? err.message : String(err) });
  const ours = changes.filter((c): c is Extract<JournalChange, { op: 'mkdir' }> => c.op === 'mkdir');
  const ourDirs = ours.map((c) => c.path);

  // Phase 1: thaw.
  for (const c of [...changes].reverse()) {
    if (c.op !== 'freeze') continue;
    try {
      fs.writeText(c.path, c.thaw);
      report.thawed.push(c.path);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') fail(c, err);
    }
  }

  // Phase 2: stop our processes. Targets: each spawned process group whose
  // leader is still the process we started, and every pid inside a cgroup we
  // created (descendants that left the process group).
  const targets = new Map<number, number | undefined>(); // pid or -pgid -> identity check
  for (const c of changes) {
    if (c.op !== 'spawn') continue;
    if (isAlive(procRoot, c.pid, c.startTicks)) targets.set(-c.pgid, undefined);
    if (isAlive(procRoot, c.pid, c.startTicks)) targets.set(c.pid, c.startTicks);
  }
  for (const c of ours) {
    if (c.kind !== 'cgroup') continue;
    for (const pid of groupPids(fs, c.path, 'cgroup')) if (!targets.has(pid)) targets.set(pid, readProcStat(procRoot, pid)?.startTicks);
  }
  // Whatever a journal says, the restoring process never signals itself or its parent.
  for (const self of [process.pid, process.ppid, -process.pid]) targets.delete(self);
  const alive = () => [...targets.entries()].filter(([pid, start]) => pid > 0 && isAlive(procRoot, pid, start)).map(([pid]) => pid);
  const signalAll = (sig: NodeJS.Signals) => {
    for (const [pid] of targets) {
      try {
        kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  if (targets.size > 0) {
    const before = alive();
    signalAll('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (alive().length > 0 && Date.now() < deadline) sleepSync(10);
    if (alive().length > 0) {
      signalAll('SIGKILL');
      const hard = Date.now() + 2000;
      while (alive().length > 0 && Date.now() < hard) sleepSync(10);
    }
    const still = new Set(alive());
    report.killedPids = before.filter((p) => !still.has(p));
    for (const pid of still) {
      const spawn = changes.find((c) => c.op === 'spawn' && c.pid === pid);
      if (spawn) fail(spawn, `process ${pid} did not exit after SIGKILL`);
    }
  }

  // Phase 3: everything else, newest first.
  for (const c of [...changes].reverse()) {
    try {
      switch (c.op) {
        case 'attach':
          if (c.back && isAlive(procRoot, c.pid, c.startTicks)) {
            fs.writeText(c.back, String(c.pid));
            report.movedBack.push(c.pid);
          }
          break;
        case 'affinity':
          if (isAlive(procRoot, c.tid, c.startTicks)) {
            if (!deps.setAffinity) throw new Error('no sched_setaffinity available to restore affinity');
            if (!deps.setAffinity(c.tid, c.before)) throw new Error(`could not restore affinity of ${c.tid}`);
          }
          break;
        case 'write':
          // Files inside directories we created vanish with them.
          if (!isUnder(c.path, ourDirs) && fs.exists(c.path)) {
            fs.writeText(c.path, c.before);
            report.restoredFiles.push(c.path);
          }
          break;
        case 'mkdir':
          removeDir(fs, c, report, fail);
          break;
        case 'scratch':
          // Only ever a directory umbra created under a temp dir, named umbra-*.
          if (/(^|\/)umbra-[^/]+$/.test(c.path)) {
            rmSync(c.path, { recursive: true, force: true });
            report.removedDirs.push(c.path);
          } else {
            throw new Error(`refusing to remove scratch dir ${c.path}: not an umbra-* directory`);
          }
          break;
        default:
          break;
      }
    } catch (err) {
      fail(c, err);
    }
  }
  report.complete = report.failures.length === 0;
  return report;
}

function removeDir(
  fs: HostFs,
  c: Extract<JournalChange, { op: 'mkdir' }>,
  report: RestoreReport,
  fail: (c: JournalChange, err: unknown) => void,
): void {
  // Killed tasks leave a cgroup asynchronously; EBUSY for a moment is normal.
  const deadline = Date.now() + 2000;
  for (;;) {
    try {
      fs.rmdir(c.path);
      report.removedDirs.push(c.path);
      return;
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT') return;
      if (code === 'EBUSY' && Date.now() < deadline) {
        sleepSync(20);
        continue;
      }
      fail(c, err);
      return;
    }
  }
}
