// The write-ahead journal of one run: before the runner changes anything on
// the host (creates a group, writes a control file, starts or moves a process,
// freezes, sets affinity) it appends what is needed to undo that change and
// fsyncs; only then does it make the change. Repeated changes of the same
// thing share the first entry (it holds the original state), so the 10 ms
// control loop does not fsync once per action.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { readProcStat } from '../process/procfs.js';
import { changeKey, parseJournal, type JournalChange, type JournalEntry, type JournalHeader } from './journal-entry.js';
import { restoreChanges, type RestoreDeps, type RestoreReport } from './restore.js';

export const JOURNAL_PREFIX = 'umbra-';
export const JOURNAL_SUFFIX = '.journal';

export function journalPath(dir: string, runId: string): string {
  return join(dir, `${JOURNAL_PREFIX}${runId}${JOURNAL_SUFFIX}`);
}

export class Journal {
  private fd: number | null;
  private readonly keys = new Set<string>();
  private readonly changes: JournalChange[] = [];
  private restored: RestoreReport | null = null;

  private constructor(
    readonly path: string,
    readonly header: JournalHeader,
  ) {
    this.fd = openSync(path, 'wx', 0o600);
    this.append(header);
  }

  /** Create a new journal for runId in dir (the file must not exist). */
  static create(dir: string, runId: string, procRoot = '/proc'): Journal {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const self = readProcStat(procRoot, process.pid);
    const header: JournalHeader = { op: 'header', version: 1, runId, pid: process.pid, pidStartTicks: self?.startTicks ?? 0 };
    return new Journal(journalPath(dir, runId), header);
  }

  get runId(): string {
    return this.header.runId;
  }

  get isOpen(): boolean {
    return this.fd !== null;
  }

  /** Record a change before making it. Returns false if an equivalent entry exists. */
  record(change: JournalChange): boolean {
    if (this.fd === null) throw new Error(`journal ${this.path} is closed; no further changes may be made`);
    const key = changeKey(change);
    if (this.keys.has(key)) return false;
    this.append(change);
    this.keys.add(key);
    this.changes.push(change);
    return true;
  }

  has(change: JournalChange): boolean {
    return this.keys.has(changeKey(change));
  }

  entries(): readonly JournalChange[] {
    return this.changes;
  }

  /**
   * Undo everything (idempotent: a second call returns the first report). On
   * success the journal file is deleted; otherwise it stays for `umbra cleanup`.
   */
  restore(deps: RestoreDeps): RestoreReport {
    if (this.restored) return this.restored;
    const report = restoreChanges(this.changes, deps);
    this.restored = report;
    if (this.fd !== null) {
      if (report.complete) this.append({ op: 'done' });
      closeSync(this.fd);
      this.fd = null;
    }
    if (report.complete) rmSync(this.path, { force: true });
    return report;
  }

  private append(entry: JournalEntry): void {
    const fd = this.fd as number;
    const line = Buffer.from(JSON.stringify(entry) + '\n');
    let off = 0;
    while (off < line.length) off += writeSync(fd, line, off, line.length - off);
    fsyncSync(fd);
  }
}

/** Read a journal file (for replay). */
export function readJournalFile(path: string): ReturnType<typeof parseJournal> {
  return parseJournal(readFileSync(path, 'utf8'));
}
