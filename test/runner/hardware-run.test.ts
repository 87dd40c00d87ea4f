// A scenario run on this host as a Platform (runner/scenario/hardware-run.ts):
// the clock starts at the loop's first now(), the run closes itself at its
// last window and when the loop dies (a policy threw), and policies get
// snapshots of their own to scribble on. Uses only the built-in compute
// kernel, so it needs neither root nor redis.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Policy } from '../../policies/platform.js';
import { resolveScenario } from '../../sim/platform/resolve-scenario.js';
import { scenarioSchema } from '../../sim/platform/scenario.js';
import { runControlLoop } from '../../experiments/loop/control-loop.js';
import { startHardwareRun, type HardwareRun } from '../../runner/scenario/hardware-run.js';
import { isAlive, processTree } from '../../runner/process/procfs.js';

let run: HardwareRun | null = null;
let dir = '';
afterEach(async () => {
  await run?.close();
  run = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function start(idleCloseMs?: number): Promise<HardwareRun> {
  dir = mkdtempSync(join(tmpdir(), 'umbra-hwrun-'));
  const scenario = await resolveScenario(scenarioSchema.parse({ machine: { cores: { count: 1 } }, tasks: [{ id: 'be', class: 'second', kernel: 'compute', cores: [0] }] }), {
    baseDir: process.cwd(),
    seed: 1,
  });
  return startHardwareRun({
    scenario,
    seed: 1,
    durationNs: 300e6,
    stressors: 'builtin',
    journalDir: join(dir, 'journal'),
    host: { scratchRoot: dir, killGraceMs: 500 },
    ...(idleCloseMs ? { idleCloseMs } : {}),
  });
}

describe('hardware run', () => {
  it('runs from 0 to its duration on the loop\'s clock and closes itself at the last window', async () => {
    run = await start();
    const pids = run.host.tasks().flatMap((t) => processTree('/proc', t.proc.pid));
    const scribbler: Policy = {
      name: 'scribbler',
      decide(s) {
        // a policy may treat its snapshot as its own (it does on the simulator)
        for (const t of s.tasks) t.allocation.cores.push(99);
        return [];
      },
    };
    const { recording } = await runControlLoop(run, scribbler, { durationNs: 300e6, periodNs: 20e6 });
    expect(recording.tNs[0]).toBeLessThan(40e6);
    expect(recording.tNs[recording.tNs.length - 1]).toBeGreaterThanOrEqual(300e6);
    expect(recording.tasks[0].progressPerSec.some((x) => x > 0)).toBe(true);
    expect(run.closed).toBe(true);
    expect((await run.close()).failures).toEqual([]);
    for (const p of pids) expect(isAlive('/proc', p)).toBe(false);
  });

  it('closes itself when the loop dies, so nothing it started outlives the error', async () => {
    run = await start(300);
    const pids = run.host.tasks().flatMap((t) => processTree('/proc', t.proc.pid));
    let calls = 0;
    const thrower: Policy = {
      name: 'thrower',
      decide() {
        if (++calls === 3) throw new Error('policy bug');
        return [];
      },
    };
    await expect(runControlLoop(run, thrower, { durationNs: 10e9, periodNs: 10e6 })).rejects.toThrow('policy bug');
    for (let i = 0; i < 40 && !run.closed; i++) await new Promise((r) => setTimeout(r, 50));
    expect(run.closed).toBe(true);
    expect(run.idleClosed).toBe(true);
    expect((await run.close()).failures).toEqual([]);
    for (const p of pids) expect(isAlive('/proc', p)).toBe(false);
  });
});
