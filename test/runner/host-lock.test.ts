// One measurement at a time: a second holder waits for the first, a lock
// left by a dead process is taken over, and a waiter that gives up names the
// holder.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireHostLock, HOST_LOCK_NAME } from '../../runner/safety/host-lock.js';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('host lock', () => {
  it('makes a second holder wait until the first releases', async () => {
    dir = mkdtempSync(join(tmpdir(), 'umbra-lock-'));
    const a = await acquireHostLock({ dir, pollMs: 10 });
    let bHeld = false;
    const b = acquireHostLock({ dir, pollMs: 10 }).then((l) => {
      bHeld = true;
      return l;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(bHeld).toBe(false);
    a.release();
    const lb = await b;
    expect(bHeld).toBe(true);
    lb.release();
    expect(existsSync(join(dir, HOST_LOCK_NAME))).toBe(false);
  });

  it('takes over a lock whose owner process is gone', async () => {
    dir = mkdtempSync(join(tmpdir(), 'umbra-lock-'));
    // a pid that certainly exited: a child we ran to completion
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(dead.stdout);
    mkdirSync(join(dir, HOST_LOCK_NAME));
    writeFileSync(join(dir, HOST_LOCK_NAME, 'owner.json'), JSON.stringify({ pid, threadId: 0, sinceMs: 0 }));
    const l = await acquireHostLock({ dir, pollMs: 10, timeoutMs: 2000 });
    l.release();
  });

  it('gives up after its timeout and names the holder', async () => {
    dir = mkdtempSync(join(tmpdir(), 'umbra-lock-'));
    const a = await acquireHostLock({ dir, purpose: 'a long measurement' });
    await expect(acquireHostLock({ dir, pollMs: 10, timeoutMs: 50 })).rejects.toThrow(new RegExp(`pid ${process.pid}.*a long measurement`));
    a.release();
  });
});
