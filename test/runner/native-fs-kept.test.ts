// NativeHostFs keeps the descriptors of files the control loop touches every
// period open (cgroup control files, /proc/<pid>/... statistics) and rewrites
// or re-reads them in place. What must hold: every write lands, every read is
// fresh, a removed group or an exited process is an error as with a fresh
// open, a re-created group is written through, and regular files (fake
// trees) are never kept.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeAddon } from '../../native/addon.js';
import { NativeHostFs } from '../../runner/fs/impl/native-fs.js';
import { HostFsError } from '../../runner/fs/host-fs.js';

const addon = nativeAddon();
const CPU = '/sys/fs/cgroup/cpu';
const root = typeof process.geteuid === 'function' && process.geteuid() === 0;
const v1cpu = existsSync(join(CPU, 'cgroup.procs'));

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.reverse()) f();
  cleanup = [];
});

describe.skipIf(!addon)('NativeHostFs kept-open descriptors', () => {
  it.skipIf(!root || !v1cpu)('rewrites a cgroup control file in place, and writes through to a group re-created at the same path', () => {
    const fs = new NativeHostFs(addon!);
    const dir = join(CPU, `umbra-fs-test-${process.pid}`);
    const quota = join(dir, 'cpu.cfs_quota_us');
    mkdirSync(dir);
    cleanup.push(() => existsSync(dir) && rmdirSync(dir));
    for (const v of ['50000', '7000', '120000', '-1']) {
      fs.writeText(quota, v);
      expect(readFileSync(quota, 'utf8').trim()).toBe(v);
      expect(fs.readTextKeepOpen(quota).trim()).toBe(v);
    }
    // Removed behind the cache's back: the kept descriptor is stale, the
    // error is the one a fresh open gives.
    rmdirSync(dir);
    expect(() => fs.writeText(quota, '50000')).toThrow(HostFsError);
    expect(() => fs.readTextKeepOpen(quota)).toThrow(/ENOENT/);
    // Re-created: written and read through, not through the dead descriptor.
    mkdirSync(dir);
    fs.writeText(quota, '30000');
    expect(readFileSync(quota, 'utf8').trim()).toBe('30000');
    expect(fs.readTextKeepOpen(quota).trim()).toBe('30000');
    // rmdir through the fs drops what it kept below the group.
    fs.rmdir(dir);
    expect(existsSync(dir)).toBe(false);
    fs.closeKept();
  });

  it("re-reads a live process's /proc files, and reports an exited one as gone", async () => {
    const fs = new NativeHostFs(addon!);
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = child.pid as number;
    cleanup.push(() => child.kill('SIGKILL'));
    const status = `/proc/${pid}/status`;
    const first = fs.readTextKeepOpen(status);
    expect(first).toMatch(new RegExp(`^Pid:\\s+${pid}$`, 'm'));
    // Fresh contents each read: the state line of a process that is stopped, then continued.
    process.kill(pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, 50));
    expect(fs.readTextKeepOpen(status)).toMatch(/^State:\s+T/m);
    process.kill(pid, 'SIGCONT');
    await new Promise((r) => setTimeout(r, 50));
    expect(fs.readTextKeepOpen(status)).toMatch(/^State:\s+S/m);
    const statm = `/proc/${pid}/statm`;
    expect(fs.readTextKeepOpen(statm, { reopen: false })).toMatch(/^\d+ \d+ /);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(() => fs.readTextKeepOpen(status)).toThrow(/ENOENT|ESRCH/);
    // reopen: false never opens the path again (it could be another process's pid by now)
    expect(() => fs.readTextKeepOpen(statm, { reopen: false })).toThrow(/ESRCH.*kept open is gone/);
    fs.closeKept();
  });

  it('never keeps a regular file open: a file replaced under the same name is read afresh', () => {
    const fs = new NativeHostFs(addon!);
    const dir = mkdtempSync(join(tmpdir(), 'umbra-fs-kept-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const f = join(dir, 'value');
    writeFileSync(f, '1\n');
    expect(fs.readTextKeepOpen(f)).toBe('1\n');
    writeFileSync(f, '22\n');
    expect(fs.readTextKeepOpen(f)).toBe('22\n');
    // read through a fresh open each time: a replaced file (new inode) is seen
    rmSync(f);
    writeFileSync(f, '333\n');
    expect(fs.readTextKeepOpen(f)).toBe('333\n');
    fs.closeKept();
  });
});
