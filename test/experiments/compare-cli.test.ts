// `umbra compare` end to end on this host (short runs): the table has both
// sides and the simulator's error computed from them, the service demand and
// the stream kernel's memory intensity are fitted from the alone runs, the
// service's LLC accesses per request are measured (cachegrind), the
// measurement path is added, the simulated side is reproducible, and bad
// input is refused with exit code 2.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable } from '../../runner/process/find-executable.js';
import { ensureDistFresh, ROOT } from '../runner/helpers/cli-build.js';
import { runCli, tempDir } from './helpers.js';
import type { Comparison } from '../../experiments/compare/compare-report.js';

const root = typeof process.geteuid === 'function' && process.geteuid() === 0;
const cgroups = existsSync('/sys/fs/cgroup/freezer/cgroup.procs') || existsSync('/sys/fs/cgroup/cgroup.controllers');
const redis = findExecutable('redis-server');
const skipReason = !root ? 'needs root (it creates cgroups)' : !cgroups ? 'needs cgroups' : !redis ? 'redis-server is not installed (apt-get install redis-server)' : '';
if (skipReason) console.warn(`compare test skipped: ${skipReason}`);

const MACHINE = join(ROOT, 'experiments', 'compare', 'machine-2c.yaml');

function writeSpec(dir: string, policies = '[static]'): string {
  const p = join(dir, 'cmp.yaml');
  writeFileSync(
    p,
    `name: cmp
platform: hardware
hardware: { keySpace: 2000 }
durationMs: 600
warmupMs: 100
seeds: [4]
workloads:
  - { id: kv, class: first, kernel: kv, sloP99Ms: 5, cores: [0], load: { constant: 1500 } }
  - { id: be, class: second, kernel: stream, threads: 1, cores: [1] }
policies: ${policies}
`,
  );
  return p;
}

describe('umbra compare', () => {
  it.skipIf(!!skipReason)('puts host and simulator side by side with the simulator\'s error', async () => {
    ensureDistFresh();
    const dir = tempDir('compare');
    try {
      const out = join(dir, 'out');
      const r = await runCli(['compare', writeSpec(dir), '--machine', MACHINE, '--out', out, '--seeds', '2', '--json']);
      expect(r.code).toBe(0);
      const c = JSON.parse(r.stdout) as Comparison;
      expect(JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'))).toEqual(c);
      expect(readFileSync(join(out, 'compare.md'), 'utf8')).toMatch(/\| static \| kv \|/);
      expect(c.rows).toHaveLength(1);
      const row = c.rows[0];
      for (const side of [row.host, row.sim]) {
        expect(side.p99AloneNs).toBeGreaterThan(0);
        expect(side.p99ColocNs).toBeGreaterThan(0);
        expect(side.beThroughputRel).toBeGreaterThan(0);
      }
      expect(row.host.meanAloneNs).toBeGreaterThan(0);
      expect(row.error.slowdownP99).toBeCloseTo((row.sim.slowdownP99! - row.host.slowdownP99!) / row.host.slowdownP99!, 9);
      expect(row.error.p99ColocNs).toBeCloseTo((row.sim.p99ColocNs! - row.host.p99ColocNs!) / row.host.p99ColocNs!, 9);
      // the service demand was fitted on the alone runs: the simulated CPU per request moved to the host's
      expect(c.fits).toHaveLength(1);
      const fit = c.fits[0];
      expect(fit.fittedInstrPerRequest).toBeGreaterThan(0);
      const simAlone = c.runs.find((x) => x.side === 'sim' && x.label === 'alone-kv')!.figures.fc.kv;
      const simCpuUs = (simAlone.cpuCores / simAlone.completedRps) * 1e6;
      expect(Math.abs(Math.log(simCpuUs / fit.hostCpuUsPerRequest!))).toBeLessThan(Math.abs(Math.log(fit.simPresetCpuUsPerRequest! / fit.hostCpuUsPerRequest!)) + 0.05);
      // ... by correction runs, the last of which is the simulated alone run reported
      expect(fit.steps).toBeGreaterThanOrEqual(1);
      expect(simCpuUs).toBeCloseTo(fit.simFittedCpuUsPerRequest!, 6);
      // the service's LLC accesses per request, measured with cachegrind where valgrind is installed,
      // kept as its instructions were fitted: apki = accesses x 1000 / instructions
      expect(c.footprints).toHaveLength(1);
      const fp = c.footprints[0];
      if (findExecutable('valgrind')) {
        expect(fp.measured!.llcAccessesPerRequest).toBeGreaterThan(0);
        expect(fp.instrPerRequest).toBe(fit.fittedInstrPerRequest);
        expect(fp.apki).toBeCloseTo((fp.measured!.llcAccessesPerRequest * 1000) / fp.instrPerRequest!, 9);
        expect(readFileSync(join(out, 'compare.md'), 'utf8')).toMatch(/LLC accesses per request of kv: [\d.]+ .*measured with cachegrind/);
      } else {
        expect(fp.measured).toBeNull();
        expect(fp.note).toMatch(/valgrind is not installed/);
      }
      // the stream kernel's memory intensity was fitted on alone runs: its simulated alone bandwidth moved to the host stressor's
      expect(c.memoryFits).toHaveLength(1);
      const mf = c.memoryFits[0];
      expect(mf.hostBytesPerSec).toBeGreaterThan(1e8);
      expect(mf.intensity).toBeGreaterThan(0);
      const simBe = c.runs.find((x) => x.side === 'sim' && x.label === 'alone-be')!.figures.be.be.memBandwidthBytesPerSec!;
      expect(Math.abs(Math.log(simBe / mf.hostBytesPerSec!))).toBeLessThan(Math.abs(Math.log(mf.simPresetBytesPerSec! / mf.hostBytesPerSec!)) + 0.05);
      const fitRuns = c.runs.filter((x) => /^alone-be-fit\d+$/.test(x.label));
      expect(fitRuns.length).toBe(mf.steps);
      // the fits' runs (first seed) once, every seed's alone and policy runs on both sides
      expect(c.runs.filter((x) => !/-fit\d+$/.test(x.label)).map((x) => `${x.side}:${x.label}:${x.seed}`).sort()).toEqual(
        [
          ...c.seeds.flatMap((seed) => ['host:alone-be', 'host:alone-kv', 'host:static', 'sim:alone-be', 'sim:alone-kv', 'sim:static'].map((l) => `${l}:${seed}`)),
          `sim:alone-be-preset:${c.seeds[0]}`,
          `sim:alone-kv-preset:${c.seeds[0]}`,
        ].sort(),
      );
      // the measurement path: the host's alone p99 minus the simulated one, added to the simulated runs
      // one path per seed, each from that seed's own alone runs
      expect(c.paths.map((p) => p.seed)).toEqual(c.seeds);
      for (const p of c.paths) {
        expect(p.hostAloneP99Ns).toBe(c.runs.find((x) => x.side === 'host' && x.label === 'alone-kv' && x.seed === p.seed)!.figures.fc.kv.p99Ns);
        expect(p.p99Ns).toBeCloseTo(p.hostAloneP99Ns - p.simAloneP99Ns, 6);
      }
      expect(row.sim.p99AloneNs).toBeCloseTo(row.host.p99AloneNs!, 3);
      expect(row.simSlowdownP99WithoutPath).toBeGreaterThan(0);
      expect(c.notes.join('\n')).toMatch(/the simulated platform offered only the host's knobs|the host offered every knob/);
      expect(c.runs.filter((x) => x.side === 'host').every((x) => x.hostLoad !== null)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!!skipReason)('gives the same simulated runs for the same inputs (without the fits, which are measured)', async () => {
    ensureDistFresh();
    const dir = tempDir('compare-det');
    try {
      const spec = writeSpec(dir);
      const flags = ['--no-fit-service', '--no-fit-footprint', '--no-fit-memory', '--no-fit-path', '--quiet'];
      const a = await runCli(['compare', spec, '--machine', MACHINE, '--out', join(dir, 'a'), ...flags]);
      const b = await runCli(['compare', spec, '--machine', MACHINE, '--out', join(dir, 'b'), ...flags]);
      expect(a.code).toBe(0);
      expect(b.code).toBe(0);
      const sims = readdirSync(join(dir, 'a', 'runs')).filter((f) => f.startsWith('sim-'));
      expect(sims.length).toBe(3);
      for (const f of sims) expect(readFileSync(join(dir, 'b', 'runs', f), 'utf8')).toBe(readFileSync(join(dir, 'a', 'runs', f), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad input with exit code 2', async () => {
    ensureDistFresh();
    const dir = tempDir('compare-bad');
    try {
      const missing = await runCli(['compare', join(dir, 'nope.yaml'), '--out', join(dir, 'o')]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/nope\.yaml: no such file/);
      const badFlag = await runCli(['compare', writeSpec(dir), '--stressors', 'bogus', '--out', join(dir, 'o')]);
      expect(badFlag.code).toBe(2);
      expect(badFlag.stderr).toMatch(/--stressors expects/);
      const oracle = await runCli(['compare', writeSpec(dir, '[static, oracle]'), '--machine', MACHINE, '--out', join(dir, 'o')]);
      expect(oracle.code).toBe(2);
      expect(oracle.stderr).toMatch(/cmp\.yaml:\d+:\d+: field "policies/);
      const badMachine = join(dir, 'm.yaml');
      writeFileSync(badMachine, 'cores: { count: -1 }\n');
      const bm = await runCli(['compare', writeSpec(dir), '--machine', badMachine, '--out', join(dir, 'o')]);
      expect(bm.code).toBe(2);
      expect(bm.stderr).toMatch(/m\.yaml: field "cores\.count"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
