// Every change the runner makes to the host goes through here: the journal
// entry first (fsync'd), then the change. Writes inside directories we created
// need no entry of their own: removing the directory undoes them.
import { sep } from 'node:path';
import type { HostFs } from '../fs/host-fs.js';
import { readProcStat } from '../process/procfs.js';
import type { Journal } from './journal.js';

export class JournaledHost {
  private readonly ownDirs = new Set<string>();
  private readonly ownedFiles = new Set<string>();

  constructor(
    readonly journal: Journal,
    readonly fs: HostFs,
    readonly procRoot: string,
  ) {}

  /** Create a directory that will be removed at restore (never adopts an existing one). */
  mkdir(path: string, kind: 'cgroup' | 'resctrl'): void {
    this.journal.record({ op: 'mkdir', path, kind });
    this.fs.mkdir(path);
    this.ownDirs.add(path);
  }

  owns(path: string): boolean {
    // Walk up from the path (a few Set lookups) rather than testing every
    // directory we made: this runs for each control-file write of the loop.
    // A path found inside stays inside until its directory goes (remembered).
    if (this.ownedFiles.has(path)) return true;
    for (let p = path; ; ) {
      if (this.ownDirs.has(p)) {
        this.ownedFiles.add(path);
        return true;
      }
      const cut = p.lastIndexOf(sep);
      if (cut <= 0) return false;
      p = p.slice(0, cut);
    }
  }

  /** Write a control file. Outside our own directories the old value is journaled first. */
  write(path: string, value: string): void {
    if (!this.owns(path)) {
      const before = this.fs.readText(path).trim();
      this.journal.record({ op: 'write', path, before });
    }
    this.fs.writeText(path, value);
  }

  /** Freeze (or re-freeze) a group; restore thaws it before anything else. */
  freeze(path: string, frozenValue: string, thawValue: string): void {
    this.journal.record({ op: 'freeze', path, thaw: thawValue });
    this.fs.writeText(path, frozenValue);
  }

  /** Move a process into one of our groups; restore moves it back to `back` if it still runs. */
  attach(pid: number, intoProcsFile: string, backProcsFile: string | null): void {
    const startTicks = readProcStat(this.procRoot, pid)?.startTicks ?? 0;
    this.journal.record({ op: 'attach', pid, startTicks, into: intoProcsFile, back: backProcsFile });
    this.fs.writeText(intoProcsFile, String(pid));
  }

  /** Journal a thread's affinity before changing it; `apply` makes the change. */
  affinity(tid: number, before: number[], apply: () => void): void {
    const startTicks = readProcStat(this.procRoot, tid)?.startTicks ?? 0;
    this.journal.record({ op: 'affinity', tid, startTicks, before });
    apply();
  }
}
