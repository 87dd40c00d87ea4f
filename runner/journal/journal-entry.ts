// What the write-ahead journal records. Each entry holds what is needed to undo
// one kind of change, and is on disk (fsync'd) before the change is made.

export interface JournalHeader {
  op: 'header';
  version: 1;
  runId: string;
  /** The process that owns the journal; a live owner's journal is never replayed by others. */
  pid: number;
  pidStartTicks: number;
}

export type JournalChange =
  /** A directory we created (cgroup or resctrl group): undo = rmdir, after its processes are gone. */
  | { op: 'mkdir'; path: string; kind: 'cgroup' | 'resctrl' }
  /** A write to a file outside our own directories: undo = write `before` back. */
  | { op: 'write'; path: string; before: string }
  /** A freezer we may freeze: undo = write `thaw` (done first, before any kill). */
  | { op: 'freeze'; path: string; thaw: string }
  /** A process we started: undo = SIGTERM then SIGKILL its process group, if it is still ours. */
  | { op: 'spawn'; pid: number; startTicks: number; pgid: number; argv: string[] }
  /** A process moved into one of our groups: undo = move it back (if it still lives). */
  | { op: 'attach'; pid: number; startTicks: number; into: string; back: string | null }
  /** A thread's CPU affinity we changed: undo = restore `before`. */
  | { op: 'affinity'; tid: number; startTicks: number; before: number[] }
  /** A scratch directory of the run (sockets, IO stressor files): undo = remove it recursively. */
  | { op: 'scratch'; path: string };

export type JournalEntry = JournalHeader | JournalChange | { op: 'done' };

/** Entries that describe the same undo share a key; only the first is kept. */
export function changeKey(c: JournalChange): string {
  switch (c.op) {
    case 'mkdir':
    case 'write':
    case 'freeze':
    case 'scratch':
      return `${c.op}:${c.path}`;
    case 'spawn':
      return `spawn:${c.pid}:${c.startTicks}`;
    case 'attach':
      return `attach:${c.pid}:${c.startTicks}:${c.into}`;
    case 'affinity':
      return `affinity:${c.tid}:${c.startTicks}`;
  }
}

/** Parse a journal file's text. A torn last line (crash mid-append) is dropped. */
export function parseJournal(text: string): { header?: JournalHeader; changes: JournalChange[]; done: boolean; torn: boolean } {
  const lines = text.split('\n').filter((l) => l.length > 0);
  let header: JournalHeader | undefined;
  const changes: JournalChange[] = [];
  let done = false;
  let torn = false;
  for (let i = 0; i < lines.length; i++) {
    let e: JournalEntry;
    try {
      e = JSON.parse(lines[i]) as JournalEntry;
    } catch {
      // Only the last line can be torn; anything else is corruption, and we
      // still undo what we can read.
      torn = true;
      continue;
    }
    if (e.op === 'header') header = e;
    else if (e.op === 'done') done = true;
    else changes.push(e);
  }
  return { header, changes, done, torn };
}
