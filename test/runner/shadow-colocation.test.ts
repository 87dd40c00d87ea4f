// CI integration: a short real co-location on this host under the shadowing
// engine. redis-server under the open-loop load generator (first-class) next
// to one stressor (stress-ng --cache where installed, else the built-in
// pointer chase), started from a scenario the way `platform: hardware` runs
// do, driven by createPolicy('shadow') through the experiments' control loop
// for a few seconds. Asserts behaviour, not timing: latency was measured in
// the windows, the engine's actions were applied on the host, and afterwards
// no umbra cgroup, no frozen process and no process of the run remain.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Snapshot } from '../../policies/platform.js';
import { createPolicy } from '../../policies/registry.js';
import { resolveScenario } from '../../sim/platform/resolve-scenario.js';
import { scenarioSchema } from '../../sim/platform/scenario.js';
import { runControlLoop } from '../../experiments/loop/control-loop.js';
import { startHardwareRun, type HardwareRun } from '../../runner/scenario/hardware-run.js';
import { findExecutable } from '../../runner/process/find-executable.js';
import { isAlive, processTree, readProcStat } from '../../runner/process/procfs.js';

const CG = '/sys/fs/cgroup';
const root = typeof process.geteuid === 'function' && process.geteuid() === 0;
const cgroups = existsSync(join(CG, 'freezer', 'cgroup.procs')) || existsSync(join(CG, 'cgroup.controllers'));
const redis = findExecutable('redis-server');
const skipReason = !root ? 'needs root (it creates cgroups)' : !cgroups ? 'needs a cgroup freezer (v1 or cgroup2)' : !redis ? 'redis-server is not installed (apt-get install redis-server)' : '';
if (skipReason) console.warn(`shadow co-location test skipped: ${skipReason}`);

let run: HardwareRun | null = null;
afterEach(async () => {
  await run?.close();
  run = null;
});

/** Every cgroup directory under the hierarchies whose name starts with prefix. */
function cgroupDirs(prefix: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    let entries: string[] = [];
    try {
      entries = readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.startsWith(prefix)) out.push(join(d, e));
      else if (depth < 2) walk(join(d, e), depth + 1);
    }
  };
  walk(CG, 0);
  return out;
}

describe.skipIf(!!skipReason)('real co-location under the shadow policy', () => {
  it('measures latency every window, applies the engine\'s actions, and leaves nothing behind', async () => {
    const scenario = await resolveScenario(
      scenarioSchema.parse({
        machine: { cores: { count: 2 } },
        tasks: [
          { id: 'kv', class: 'first', kernel: 'kv', sloP99Ms: 5, cores: [0], load: { constant: 1500 } },
          { id: 'be', class: 'second', kernel: 'thrash', threads: 1, cores: [1] },
        ],
      }),
      { baseDir: process.cwd(), seed: 3 },
    );
    run = await startHardwareRun({ scenario, seed: 3, durationNs: 3e9, stressors: 'auto', keySpace: 5000, purpose: 'shadow co-location test' });
    const runName = run.runName;
    const journalPath = run.host.rt.journal.path;
    // Every process of the run, as it grows (the stressor forks its workers
    // after it starts), by pid and start time: all must be gone at the end.
    const seen = new Map<number, number | undefined>();
    const look = () => {
      for (const t of run!.host.tasks()) for (const p of processTree('/proc', t.proc.pid)) if (!seen.has(p)) seen.set(p, readProcStat('/proc', p)?.startTicks);
    };
    look();
    expect(seen.size).toBeGreaterThanOrEqual(2);
    const snaps: Snapshot[] = [];
    const policy = createPolicy('shadow');
    const { recording } = await runControlLoop(run, policy, {
      durationNs: 3e9,
      periodNs: 10e6,
      onWindow: (s) => {
        snaps.push(s);
        if (snaps.length % 20 === 0) look();
      },
    });

    // The run closed itself at its last window; wait for the restore.
    expect(run.closed).toBe(true);
    const report = await run.close();
    run = null;
    expect(report.failures).toEqual([]);

    // Latency was measured: the service completed requests in most windows, at about the offered rate.
    const kv = snaps.map((s) => s.tasks.find((t) => t.id === 'kv')!.latency!);
    const served = kv.filter((l) => l.requests > 0 && l.p99Ns > 0);
    expect(served.length).toBeGreaterThan(0.5 * kv.length);
    const completed = kv.reduce((a, l) => a + l.requests, 0);
    expect(completed).toBeGreaterThan(1500 * 3 * 0.3);
    expect(kv.every((l) => l.sloP99Ns === 5e6)).toBe(true);

    // The engine acted on the host: at least one of its actions was applied.
    const applied = Object.values(recording.appliedByKind).reduce((a, b) => a + b, 0);
    expect(applied).toBeGreaterThanOrEqual(1);

    // Nothing left behind: no process of the run (so none frozen), no group of the
    // run in any hierarchy, no journal, no scratch dir.
    for (const [p, start] of seen) expect(isAlive('/proc', p, start), `pid ${p}`).toBe(false);
    expect(cgroupDirs(runName)).toEqual([]);
    expect(existsSync(journalPath)).toBe(false);
    expect(existsSync(join(tmpdir(), runName))).toBe(false);
  });
});
