// The write-ahead journal: every change is on disk before it is made, restore
// returns the host to exactly its prior state, and replay is idempotent.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { Journal, journalPath, readJournalFile } from '../../runner/journal/journal.js';
import { JournaledHost } from '../../runner/journal/journaled-host.js';
import { restoreChanges } from '../../runner/journal/restore.js';
import { replayJournal, replayLeftoverJournals } from '../../runner/journal/replay.js';
import { parseJournal } from '../../runner/journal/journal-entry.js';
import { FakeKernelFs, makeFakeCgroupV1, makeLayout, snapshotTree, type FakeLayout } from './helpers/fake-kernel.js';

let dir: string;
let l: FakeLayout;
let journalDir: string;
let runCounter = 0;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'umbra-journal-test-'));
  l = makeLayout(join(dir, 'host'));
  journalDir = join(dir, 'journals');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A FakeKernelFs that checks, at each mutation, that the journal on disk already covers it. */
class WriteAheadCheckingFs extends FakeKernelFs {
  journalFile = '';
  violations: string[] = [];
  private covered(pred: (e: Record<string, unknown>) => boolean): boolean {
    if (!this.journalFile || !existsSync(this.journalFile)) return false;
    const { changes } = parseJournal(readFileSync(this.journalFile, 'utf8'));
    return changes.some((c) => pred(c as unknown as Record<string, unknown>));
  }
  override mkdir(path: string): void {
    if (!this.covered((e) => e.op === 'mkdir' && e.path === path)) this.violations.push(`mkdir ${path}`);
    super.mkdir(path);
  }
  override writeText(path: string, data: string): void {
    const ok = this.covered(
      (e) => ((e.op === 'write' || e.op === 'freeze') && e.path === path) || (e.op === 'mkdir' && path.startsWith(String(e.path) + sep)) || (e.op === 'attach' && e.into === path),
    );
    if (!ok) this.violations.push(`write ${path}`);
    super.writeText(path, data);
  }
}

type Op =
  | { kind: 'mkdir'; parent: number; name: string }
  | { kind: 'writeForeign'; file: number; value: number }
  | { kind: 'writeOwn'; dir: number; value: number }
  | { kind: 'freeze'; dir: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('mkdir' as const), parent: fc.nat(20), name: fc.constantFrom('a', 'b', 'c', 'task0', 'task1') }),
  fc.record({ kind: fc.constant('writeForeign' as const), file: fc.nat(3), value: fc.integer({ min: 1000, max: 900000 }) }),
  fc.record({ kind: fc.constant('writeOwn' as const), dir: fc.nat(20), value: fc.integer({ min: 1000, max: 900000 }) }),
  fc.record({ kind: fc.constant('freeze' as const), dir: fc.nat(20) }),
);

/** Run ops through a JournaledHost on a v1 cpu+freezer fake. Returns the journal. */
function runOps(fs: FakeKernelFs, ops: Op[], runId: string, onJournal?: (path: string) => void): Journal {
  const journal = Journal.create(journalDir, runId);
  onJournal?.(journal.path);
  const host = new JournaledHost(journal, fs, '/proc');
  const cpu = join(l.cgroupRoot, 'cpu');
  const frz = join(l.cgroupRoot, 'freezer');
  const foreign = [join(cpu, 'cpu.cfs_quota_us'), join(cpu, 'cpu.cfs_period_us'), join(cpu, 'system', 'cpu.cfs_quota_us'), join(cpu, 'system', 'cpu.cfs_period_us')];
  const own: { cpu: string; frz: string }[] = [];
  for (const op of ops) {
    if (op.kind === 'mkdir') {
      const base = own.length && op.parent % 3 !== 0 ? own[op.parent % own.length] : { cpu, frz };
      const d = { cpu: join(base.cpu, `umbra-${op.name}`), frz: join(base.frz, `umbra-${op.name}`) };
      if (existsSync(d.cpu)) continue;
      host.mkdir(d.cpu, 'cgroup');
      host.mkdir(d.frz, 'cgroup');
      own.push(d);
    } else if (op.kind === 'writeForeign') {
      host.write(foreign[op.file], String(op.value));
    } else if (op.kind === 'writeOwn' && own.length) {
      host.write(join(own[op.dir % own.length].cpu, 'cpu.cfs_quota_us'), String(op.value));
    } else if (op.kind === 'freeze' && own.length) {
      host.freeze(join(own[op.dir % own.length].frz, 'freezer.state'), 'FROZEN', 'THAWED');
    }
  }
  return journal;
}

function setupHost(fs: FakeKernelFs): void {
  makeFakeCgroupV1(l, ['cpu', 'freezer']);
  // A group umbra did not create, with its own settings.
  fs.mkdir(join(l.cgroupRoot, 'cpu', 'system'));
  writeFileSync(join(l.cgroupRoot, 'cpu', 'system', 'cpu.cfs_quota_us'), '50000\n');
}

describe('journal', () => {
  it('restore returns the tree to exactly its prior state, for any sequence of changes', () => {
    let n = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => {
        rmSync(l.root, { recursive: true, force: true });
        l = makeLayout(l.root);
        const fs = new FakeKernelFs(l);
        setupHost(fs);
        const before = snapshotTree(l.cgroupRoot);
        const journal = runOps(fs, ops, `prop-${n++}`);
        const report = journal.restore({ fs, procRoot: '/proc' });
        expect(report.failures).toEqual([]);
        expect(snapshotTree(l.cgroupRoot)).toEqual(before);
        expect(existsSync(journal.path)).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it('every change is covered by an fsynced journal entry before it is made', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 20 }), (ops) => {
        rmSync(l.root, { recursive: true, force: true });
        l = makeLayout(l.root);
        const fs = new WriteAheadCheckingFs(l);
        setupHost(fs);
        fs.violations = [];
        const journal = runOps(fs, ops, `wa-${runCounter++}`, (p) => (fs.journalFile = p));
        expect(fs.violations).toEqual([]);
        journal.restore({ fs, procRoot: '/proc' });
      }),
      { numRuns: 40 },
    );
  });

  it('replaying a crashed run restores the tree, and a second replay changes nothing', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => {
        rmSync(l.root, { recursive: true, force: true });
        l = makeLayout(l.root);
        const fs = new FakeKernelFs(l);
        setupHost(fs);
        const before = snapshotTree(l.cgroupRoot);
        // "Crash": the journal object is dropped without restore; only its file remains.
        const journal = runOps(fs, ops, `crash-${runCounter++}`);
        const { changes } = readJournalFile(journal.path);
        const r1 = restoreChanges(changes, { fs, procRoot: '/proc' });
        expect(r1.failures).toEqual([]);
        expect(snapshotTree(l.cgroupRoot)).toEqual(before);
        const r2 = restoreChanges(changes, { fs, procRoot: '/proc' });
        expect(r2.failures).toEqual([]);
        expect(r2.removedDirs).toEqual([]);
        expect(snapshotTree(l.cgroupRoot)).toEqual(before);
        rmSync(journal.path, { force: true });
      }),
      { numRuns: 40 },
    );
  });

  it('thaws before it removes: a frozen group is thawed even when removal is impossible', () => {
    const fs = new FakeKernelFs(l);
    makeFakeCgroupV1(l, ['freezer']);
    const journal = Journal.create(journalDir, 'thaw');
    const host = new JournaledHost(journal, fs, '/proc');
    const g = join(l.cgroupRoot, 'freezer', 'umbra-thaw');
    host.mkdir(g, 'cgroup');
    host.freeze(join(g, 'freezer.state'), 'FROZEN', 'THAWED');
    // A member we cannot remove (pid 1 is never ours, never signalled: it is not a spawn entry).
    writeFileSync(join(g, 'cgroup.procs'), '999999999\n');
    const report = journal.restore({ fs, procRoot: '/proc', killGraceMs: 50 });
    expect(readFileSync(join(g, 'freezer.state'), 'utf8').trim()).toBe('THAWED');
    expect(report.thawed).toEqual([join(g, 'freezer.state')]);
    expect(report.complete).toBe(false);
    expect(existsSync(journal.path)).toBe(true);
    writeFileSync(join(g, 'cgroup.procs'), '');
    const again = restoreChanges(readJournalFile(journal.path).changes, { fs, procRoot: '/proc' });
    expect(again.complete).toBe(true);
    expect(existsSync(g)).toBe(false);
  });

  it('keeps only the first entry for repeated changes of one thing (the original value)', () => {
    const fs = new FakeKernelFs(l);
    makeFakeCgroupV1(l, ['cpu']);
    const journal = Journal.create(journalDir, 'dedup');
    const host = new JournaledHost(journal, fs, '/proc');
    const f = join(l.cgroupRoot, 'cpu', 'cpu.cfs_quota_us');
    for (const v of ['1000', '2000', '3000']) host.write(f, v);
    const writes = journal.entries().filter((e) => e.op === 'write');
    expect(writes).toEqual([{ op: 'write', path: f, before: '-1' }]);
    journal.restore({ fs, procRoot: '/proc' });
    expect(readFileSync(f, 'utf8').trim()).toBe('-1');
  });

  it('tolerates a torn last line (a crash in the middle of an append)', () => {
    const fs = new FakeKernelFs(l);
    makeFakeCgroupV1(l, ['cpu']);
    const journal = Journal.create(journalDir, 'torn');
    const host = new JournaledHost(journal, fs, '/proc');
    host.mkdir(join(l.cgroupRoot, 'cpu', 'umbra-torn'), 'cgroup');
    appendFileSync(journal.path, '{"op":"mkdir","pa');
    const parsed = readJournalFile(journal.path);
    expect(parsed.torn).toBe(true);
    expect(parsed.changes).toHaveLength(1);
    expect(restoreChanges(parsed.changes, { fs, procRoot: '/proc' }).complete).toBe(true);
    expect(existsSync(join(l.cgroupRoot, 'cpu', 'umbra-torn'))).toBe(false);
  });

  it('replay skips journals whose owner is alive, and replays those of dead owners', () => {
    const fs = new FakeKernelFs(l);
    makeFakeCgroupV1(l, ['cpu']);
    mkdirSync(journalDir, { recursive: true });
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const g = join(l.cgroupRoot, 'cpu', 'umbra-dead');
    fs.mkdir(g);
    const write = (runId: string, pid: number, start: number, path: string) =>
      writeFileSync(
        journalPath(journalDir, runId),
        JSON.stringify({ op: 'header', version: 1, runId, pid, pidStartTicks: start }) + '\n' + JSON.stringify({ op: 'mkdir', path, kind: 'cgroup' }) + '\n',
      );
    const live = join(l.cgroupRoot, 'cpu', 'umbra-live');
    fs.mkdir(live);
    // pid 1 with its real start time: alive and not us.
    const init = readFileSync('/proc/1/stat', 'utf8');
    const initStart = Number(init.slice(init.lastIndexOf(')') + 2).split(' ')[19]);
    write('dead', deadPid, 1, g);
    write('live', 1, initStart, live);
    const results = replayLeftoverJournals(journalDir, { fs, procRoot: '/proc' });
    const byRun = Object.fromEntries(results.map((r) => [r.runId, r]));
    expect(byRun.dead.outcome).toBe('restored');
    expect(existsSync(g)).toBe(false);
    expect(byRun.live.outcome).toBe('skipped');
    expect(byRun.live.reason).toMatch(/still running/);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(journalPath(journalDir, 'live'))).toBe(true);
    expect(existsSync(journalPath(journalDir, 'dead'))).toBe(false);
    // A journal whose owner pid was recycled (start time differs) is replayed.
    write('live', 1, initStart + 12345, live);
    expect(replayJournal(journalPath(journalDir, 'live'), { fs, procRoot: '/proc' }).outcome).toBe('restored');
    expect(existsSync(live)).toBe(false);
  });
});
