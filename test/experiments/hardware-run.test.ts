// `platform: hardware` through the same `umbra run`: a short spec on this host
// gives results.json in the usual format, recorded windows with measured
// latency; specs a host cannot run are refused naming the field.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable } from '../../runner/process/find-executable.js';
import { ensureDistFresh } from '../runner/helpers/cli-build.js';
import { runCli, tempDir, UMBRA_BIN, ROOT } from './helpers.js';
import { processesCarrying } from '../helpers/processes.js';

const root = typeof process.geteuid === 'function' && process.geteuid() === 0;
const cgroups = existsSync('/sys/fs/cgroup/freezer/cgroup.procs') || existsSync('/sys/fs/cgroup/cgroup.controllers');
const redis = findExecutable('redis-server');
const skipReason = !root ? 'needs root (it creates cgroups)' : !cgroups ? 'needs cgroups' : !redis ? 'redis-server is not installed (apt-get install redis-server)' : '';
if (skipReason) console.warn(`hardware run test skipped: ${skipReason}`);

/** Live processes (not the test itself) that carry UMBRA_RUN_MARK=mark: what a run started. */
const carrying = (mark: string) => processesCarrying('UMBRA_RUN_MARK', mark);

function spec(dir: string, body: string): string {
  const p = join(dir, 'hw.yaml');
  writeFileSync(p, body);
  return p;
}

const BASE = `name: hw
platform: hardware
machine: { cores: { count: 2 } }
durationMs: 800
warmupMs: 200
seeds: [1]
`;

describe('platform: hardware', () => {
  it.skipIf(!!skipReason)('runs through umbra run and writes the usual results', async () => {
    ensureDistFresh();
    const dir = tempDir('hw-run');
    try {
      const p = spec(
        dir,
        BASE +
          `hardware: { stressors: builtin, keySpace: 2000 }
workloads:
  - { id: kv, class: first, kernel: kv, sloP99Ms: 5, cores: [0], load: { constant: 1500 }, peakRps: 20000 }
  - { id: be, class: second, kernel: compute, threads: 1, cores: [1] }
policies: [static, shadow]
`,
      );
      const r = await runCli(['run', p, '--out', join(dir, 'out'), '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const results = JSON.parse(readFileSync(join(dir, 'out', 'results.json'), 'utf8')) as { policies: { name: string; metrics: Record<string, { mean: number | null; n: number }> }[] };
      expect(results.policies.map((x) => x.name)).toEqual(['static', 'shadow']);
      for (const pol of results.policies) {
        expect(pol.metrics.sloViolationPct.n).toBe(1);
        expect(pol.metrics.sloViolationPct.mean).not.toBeNull();
      }
      for (const f of readdirSync(join(dir, 'out', 'cells'))) {
        const cell = JSON.parse(readFileSync(join(dir, 'out', 'cells', f), 'utf8')) as { recording: { tasks: { id: string; requests: number[]; p99Ns: number[]; progressPerSec: number[] }[] } };
        const kv = cell.recording.tasks.find((t) => t.id === 'kv')!;
        expect(kv.requests.reduce((a, b) => a + b, 0)).toBeGreaterThan(1500 * 0.8 * 0.3);
        expect(kv.p99Ns.some((x) => x > 0)).toBe(true);
        // the built-in kernel reports its progress
        expect(cell.recording.tasks.find((t) => t.id === 'be')!.progressPerSec.some((x) => x > 0)).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!!skipReason)('SIGINT during a run on worker threads: every worker restores the host before the run exits', async () => {
    // Signals reach only the main thread; a worker terminated mid-job runs no
    // handler. Before the workers were told to abort and restore, the job
    // running here left its processes (service, stressor) running and its cgroups
    // in place (the journal stayed for `umbra cleanup`).
    ensureDistFresh();
    const dir = tempDir('hw-sigint');
    const journals = join(dir, 'journals');
    mkdirSync(journals);
    const mark = `sigint-${process.pid}-${Date.now()}`;
    try {
      const p = spec(
        dir,
        BASE.replace('durationMs: 800', 'durationMs: 30000') +
          `hardware: { stressors: builtin, keySpace: 2000 }
workloads:
  - { id: kv, class: first, kernel: kv, sloP99Ms: 5, cores: [0], load: { constant: 1000 }, peakRps: 20000 }
  - { id: be, class: second, kernel: compute, threads: 1, cores: [1] }
policies: [static, shadow]
`,
      );
      const child = spawn(process.execPath, [UMBRA_BIN, 'run', p, '--out', join(dir, 'out'), '--workers', '2', '--quiet'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, UMBRA_JOURNAL_DIR: journals, UMBRA_RUN_MARK: mark },
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += String(d)));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      // wait until a job has started a process of its own (it inherits the
      // mark; the CLI itself does not count)
      const started = () => carrying(mark).some((p) => p !== child.pid);
      const deadline = Date.now() + 30_000;
      while (!started() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(started()).toBe(true);
      expect(readdirSync(journals).some((f) => f.endsWith('.journal'))).toBe(true);
      await new Promise((r) => setTimeout(r, 500));
      child.kill('SIGINT');
      const code = await exited;
      expect(code, stderr).not.toBe(0);
      expect(stderr).toMatch(/interrupted/);
      expect(carrying(mark)).toEqual([]);
      expect(readdirSync(journals).filter((f) => f.endsWith('.journal'))).toEqual([]);
    } finally {
      // on failure, leave nothing behind: replay what the run journaled
      if (readdirSync(journals).some((f) => f.endsWith('.journal'))) {
        await new Promise((r) => spawn(process.execPath, [UMBRA_BIN, 'cleanup'], { cwd: ROOT, stdio: 'ignore', env: { ...process.env, UMBRA_JOURNAL_DIR: journals } }).on('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  /** `umbra run` of BASE + `rest` is refused as bad input (exit 2) with stderr matching `message`. */
  async function expectRefused(rest: string, message: RegExp): Promise<void> {
    ensureDistFresh();
    const dir = tempDir('hw-bad');
    try {
      const r = await runCli(['run', spec(dir, BASE + rest), '--out', join(dir, 'out'), '--workers', '1', '--quiet']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('refuses a first-class kernel with no real service, at its line in the spec', async () => {
    await expectRefused(
      `workloads:
  - id: srch
    class: first
    kernel: search
    sloP99Ms: 10
    cores: [0]
    load: { constant: 100 }
    peakRps: 1000
policies: [static]
`,
      /hw\.yaml:\d+:\d+: field "workloads\[0\]\.kernel": first-class kernel "search" has no real service/,
    );
  });

  it('refuses an unknown hardware setting, naming it', async () => {
    await expectRefused(
      `hardware: { stressors: fastest }
workloads:
  - { id: kv, class: first, kernel: kv, sloP99Ms: 5, cores: [0], load: { constant: 100 }, peakRps: 1000 }
policies: [static]
`,
      /hw\.yaml:\d+:\d+: field "hardware\.stressors"/,
    );
  });

  it('refuses client cores this process may not run on, naming the field', async () => {
    await expectRefused(
      `hardware: { stressors: builtin, clientCores: [4095] }
workloads:
  - { id: kv, class: first, kernel: kv, sloP99Ms: 5, cores: [0], load: { constant: 100 }, peakRps: 1000 }
policies: [static]
`,
      /hw\.yaml:\d+:\d+: field "hardware\.clientCores": core\(s\) 4095 are not among the cores this process may run on/,
    );
  });
});
