// Replaying journals left behind by runs that died without restoring (SIGKILL,
// power loss of the process, a crash inside the restore itself). Called at
// every HostPlatform start and by `umbra cleanup`.
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from '../process/procfs.js';
import { JOURNAL_PREFIX, JOURNAL_SUFFIX, readJournalFile } from './journal.js';
import { restoreChanges, type RestoreDeps, type RestoreReport } from './restore.js';

export interface ReplayResult {
  journal: string;
  runId?: string;
  /** 'restored' | 'failed' (kept for a later try) | 'skipped' (owner still running) | 'empty'. */
  outcome: 'restored' | 'failed' | 'skipped' | 'empty';
  reason?: string;
  report?: RestoreReport;
}

const CLAIM = '.replay-';

/** Journal files in dir: live ones and ones a dead replayer had claimed. */
export function listJournals(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith(JOURNAL_PREFIX) && (f.endsWith(JOURNAL_SUFFIX) || f.includes(JOURNAL_SUFFIX + CLAIM)))
    .sort()
    .map((f) => join(dir, f));
}

function claimOwnerPid(path: string): number | undefined {
  const i = path.lastIndexOf(CLAIM);
  return i < 0 ? undefined : Number(path.slice(i + CLAIM.length));
}

export function replayJournal(path: string, deps: RestoreDeps): ReplayResult {
  let parsed;
  try {
    parsed = readJournalFile(path);
  } catch (err) {
    return { journal: path, outcome: 'failed', reason: `cannot read: ${(err as Error).message}` };
  }
  const { header, changes, done } = parsed;
  const runId = header?.runId;
  const claimer = claimOwnerPid(path);
  if (claimer !== undefined && claimer !== process.pid && isAlive(deps.procRoot, claimer)) {
    return { journal: path, runId, outcome: 'skipped', reason: `being replayed by pid ${claimer}` };
  }
  if (claimer === undefined && header && header.pid !== process.pid && isAlive(deps.procRoot, header.pid, header.pidStartTicks)) {
    return { journal: path, runId, outcome: 'skipped', reason: `owner pid ${header.pid} is still running` };
  }
  if (claimer === undefined && header && header.pid === process.pid) {
    return { journal: path, runId, outcome: 'skipped', reason: 'owned by this process (a run in progress)' };
  }
  if (done || changes.length === 0) {
    rmSync(path, { force: true });
    return { journal: path, runId, outcome: 'empty' };
  }
  // Claim it by rename so two concurrent cleanups never replay the same file.
  const base = claimer === undefined ? path : path.slice(0, path.lastIndexOf(CLAIM));
  const claimed = `${base}${CLAIM}${process.pid}`;
  try {
    renameSync(path, claimed);
  } catch {
    return { journal: path, runId, outcome: 'skipped', reason: 'claimed by another cleanup' };
  }
  const report = restoreChanges(changes, deps);
  if (report.complete) {
    rmSync(claimed, { force: true });
    return { journal: path, runId, outcome: 'restored', report };
  }
  // Put it back under its original name so the next start tries again.
  try {
    renameSync(claimed, base);
  } catch {
    // leave the claimed name; a later replay handles it (its claimer is dead)
  }
  return { journal: path, runId, outcome: 'failed', report, reason: report.failures.map((f) => f.error).join('; ') };
}

/** Replay every leftover journal in dir whose owner is gone. */
export function replayLeftoverJournals(dir: string, deps: RestoreDeps): ReplayResult[] {
  return listJournals(dir).map((p) => replayJournal(p, deps));
}
