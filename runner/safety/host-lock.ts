// One measurement on a host at a time. Two hardware runs side by side (a
// sweep's worker threads, `umbra compare` next to `umbra run`) would each
// measure the other's interference, so every hardware run holds this lock.
// It is a directory created atomically (mkdir) next to the journals, with a
// file naming the owner (pid, thread, process start time). A lock whose owner
// process is gone is taken over; otherwise waiters poll until it is free or
// their patience runs out, and then say who holds it.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { isAlive, readProcStat } from '../process/procfs.js';
import { registerRestorer } from './cleanup-hooks.js';

export const HOST_LOCK_NAME = 'measure.lock';

export interface HostLockOptions {
  dir: string;
  procRoot?: string;
  /** Give up after this long (default 15 min). */
  timeoutMs?: number;
  pollMs?: number;
  /** What the holder is doing, for the message a waiter prints. */
  purpose?: string;
}

export interface HostLock {
  release(): void;
}

interface Owner {
  pid: number;
  threadId: number;
  startTicks?: number;
  purpose?: string;
  sinceMs: number;
}

function readOwner(path: string): Owner | null {
  try {
    return JSON.parse(readFileSync(join(path, 'owner.json'), 'utf8')) as Owner;
  } catch {
    return null;
  }
}

export async function acquireHostLock(o: HostLockOptions): Promise<HostLock> {
  const procRoot = o.procRoot ?? '/proc';
  const path = join(o.dir, HOST_LOCK_NAME);
  const deadline = Date.now() + (o.timeoutMs ?? 15 * 60_000);
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  for (;;) {
    try {
      mkdirSync(path);
      const me: Owner = { pid: process.pid, threadId, startTicks: readProcStat(procRoot, process.pid)?.startTicks, purpose: o.purpose, sinceMs: Date.now() };
      writeFileSync(join(path, 'owner.json'), JSON.stringify(me));
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        rmSync(path, { recursive: true, force: true });
      };
      const unregister = registerRestorer(release);
      return {
        release: () => {
          release();
          unregister();
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = readOwner(path);
    // An owner that died (or a lock directory whose owner file was never written by a process now gone) is stale.
    if (owner && !isAlive(procRoot, owner.pid, owner.startTicks)) {
      rmSync(path, { recursive: true, force: true });
      continue;
    }
    if (!owner) {
      // being written right now, or left half-made: give the writer a moment, then take it over
      await new Promise((r) => setTimeout(r, o.pollMs ?? 100));
      if (!readOwner(path)) rmSync(path, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `another umbra measurement holds this host (pid ${owner.pid}${owner.threadId ? ` thread ${owner.threadId}` : ''}${owner.purpose ? `: ${owner.purpose}` : ''}, since ${new Date(owner.sinceMs).toISOString()}); if it is gone, remove ${path}`,
      );
    }
    await new Promise((r) => setTimeout(r, o.pollMs ?? 100));
  }
}
