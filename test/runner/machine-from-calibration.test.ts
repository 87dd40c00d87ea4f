// Calibration -> machine description: fixed measurement inputs (no timing
// here), the description the simulator loads, the DRAM fit's laws, and the
// errors for malformed calibration files.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMachineDescription } from '../../sim/machine/machine-description.js';
import { DRAM_PRESETS, parseDramConfig } from '../../sim/dram/dram-config.js';
import { copyBytesPerSec, DRAM_FIT_CHANNELS, DRAM_FIT_PRESET, fitDram, loadedInflation, unloadedLatencyNs } from '../../runner/calibrate/dram-fit.js';
import { machineDescriptionYaml, machineFromCalibration, parseCalibration, type CalibrationInput } from '../../runner/calibrate/machine-from-calibration.js';
import { InputError } from '../../util/errors.js';
import { runCli } from '../experiments/helpers.js';
import { ensureDistFresh } from './helpers/cli-build.js';

/** Measurements shaped like a 2-vCPU cloud VM's (hand-written, not this host's output). */
function vm(over: Partial<CalibrationInput> = {}): CalibrationInput {
  return {
    cores: 2,
    cacheLevels: [
      { sizeBytes: 32 << 10, latencyNs: 1.1 },
      { sizeBytes: 1 << 20, latencyNs: 4.5 },
      { sizeBytes: 4 << 20, latencyNs: 40 },
    ],
    dramLatencyNs: 150,
    streamBandwidthBytesPerSec: 20e9,
    computeOpsPerSecPerCore: 2.2e9,
    sysfsCaches: [
      { level: 1, type: 'Data', sizeBytes: 32 << 10, ways: 8, lineBytes: 64 },
      { level: 1, type: 'Instruction', sizeBytes: 32 << 10, ways: 8, lineBytes: 64 },
      { level: 2, type: 'Unified', sizeBytes: 1 << 20, ways: 8, lineBytes: 64 },
      { level: 3, type: 'Unified', sizeBytes: 16 << 20, ways: 16, lineBytes: 64 },
    ],
    cpuinfoMHz: 2500,
    memTotalBytes: 8 * 1024 ** 3,
    ...over,
  };
}

function roundTrip(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'umbra-machine-'));
  try {
    const p = join(dir, 'machine.yaml');
    writeFileSync(p, text);
    return loadMachineDescription(p);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('machine description from measurements', () => {
  it('maps cores, clock, LLC, memory and DRAM, and the simulator loads the file', () => {
    const cal = vm();
    const m = machineFromCalibration(cal);
    const loaded = roundTrip(machineDescriptionYaml(m, cal));
    expect(loaded.cores.count).toBe(2);
    expect(loaded.cores.freqGHz).toBeCloseTo(2.5, 6);
    expect(loaded.llc).toMatchObject({ sizeBytes: 16 << 20, ways: 16, lineBytes: 64 });
    // the LLC's hit latency is the measured level nearest its size (4 MiB, 40 ns) at 2.5 GHz
    expect(loaded.llc.hitLatencyCycles).toBe(100);
    expect(loaded.memory.capacityBytes).toBe(8 * 1024 ** 3);
    // what the simulator will charge a miss is what the host measured
    expect(unloadedLatencyNs(loaded.dram)).toBeGreaterThan(150 * 0.99);
    expect(unloadedLatencyNs(loaded.dram)).toBeLessThan(150 * 1.01);
    expect(loaded).toEqual(m.machine);
    // the mismatch between sysfs (16 MiB) and the curve (4 MiB) is said, not hidden
    expect(m.notes.join('\n')).toMatch(/ends at 4 MiB/);
    expect(m.notes.join('\n')).toMatch(/not measured/);
  });

  it('maps the measured wake-up cost to cores.wakeupCostNs, and leaves it off, saying why, when not measured', () => {
    const pair = { aloneBytesPerSec: 30e9, withWakerBytesPerSec: 24e9, wakeupsPerSec: 8000, wakerCpuShare: 0.1, costNs: 18750 };
    const cal = vm({ wakeupCost: { core: 0, rateHz: 8000, realtime: true, pairs: [pair], costNs: 18750.4 } });
    const m = machineFromCalibration(cal);
    const text = machineDescriptionYaml(m, cal);
    expect(roundTrip(text).cores.wakeupCostNs).toBe(18750);
    expect(text).toMatch(/8000 wake-ups\/s on its core.*0\.8\/0\.1\/18750/);
    const off = machineFromCalibration(vm({ wakeupCost: { unavailable: 'the native addon is not loaded (the waker is a native thread)' } }));
    expect(off.machine.cores.wakeupCostNs).toBeUndefined();
    expect(off.notes.join('\n')).toMatch(/cores.wakeupCostNs left off .*native addon is not loaded/);
    expect(() => parseCalibration({ ...vm(), schema: 'umbra-host-calibration/1', curve: [], method: {}, seed: 1, wakeupCost: { core: 0, rateHz: 8000, realtime: true, pairs: [], costNs: 1 } }, 'cal.json')).toThrow(/wakeupCost/);
  });

  it('takes the clock from the compute rate when /proc/cpuinfo has none', () => {
    const m = machineFromCalibration(vm({ cpuinfoMHz: undefined, computeOpsPerSecPerCore: 3.1e9 }));
    expect(m.machine.cores.freqGHz).toBeCloseTo(3.1, 6);
    expect(m.notes[0]).toMatch(/compute rate/);
  });

  it('uses the measured last level when sysfs has no caches, and rounds to whole sets', () => {
    const m = machineFromCalibration(vm({ sysfsCaches: [], cacheLevels: [{ sizeBytes: 3_000_000, latencyNs: 30 }] }));
    const sets = Math.round(3_000_000 / (16 * 64));
    expect(m.machine.llc).toMatchObject({ sizeBytes: sets * 16 * 64, ways: 16, lineBytes: 64 });
    expect(m.notes.join('\n')).toMatch(/latency curve's last cache level/);
  });

  it('caps ways at the simulator\'s 32-bit masks, keeping the size', () => {
    const m = machineFromCalibration(vm({ sysfsCaches: [{ level: 3, type: 'Unified', sizeBytes: 40 << 20, ways: 40, lineBytes: 64 }] }));
    expect(m.machine.llc.ways).toBe(32);
    expect(m.machine.llc.sizeBytes).toBe(40 << 20);
  });

  it('--llc measured: the LLC ends where the chase leaves its last plateau (a quarter of DRAM latency), with the latency there', () => {
    // shaped like a VM whose 32 MiB L3 gives this guest a few MiB: a plateau to 4 MiB, then a climb to DRAM
    const pts: [number, number][] = [[1, 9], [2, 13.5], [3, 15.5], [4, 16], [6, 71], [8, 79], [12, 133], [16, 146], [32, 170], [64, 192]];
    const cal = vm({ dramLatencyNs: 176, curve: pts.map(([m, l]) => ({ workingSetBytes: m << 20, latencyNs: l })), sysfsCaches: [{ level: 3, type: 'Unified', sizeBytes: 32 << 20, ways: 16, lineBytes: 64 }] });
    const sysfs = machineFromCalibration(cal);
    expect(sysfs.machine.llc.sizeBytes).toBe(32 << 20);
    const m = machineFromCalibration(cal, { llcSize: 'measured' });
    expect(m.machine.llc.sizeBytes).toBe(4 << 20);
    expect(m.machine.llc.hitLatencyCycles).toBe(Math.round(16 * 2.5));
    expect(m.notes.join('\n')).toMatch(/llc\.sizeBytes set to the effective 4 MiB \(--llc measured\) instead of 32 MiB/);
    // a lone spike on the plateau does not end it (median of three), and a curve with no plateau keeps sysfs' size
    const spiky = vm({ ...cal, curve: pts.map(([m, l]) => ({ workingSetBytes: m << 20, latencyNs: m === 2 ? 120 : l })) });
    expect(machineFromCalibration(spiky, { llcSize: 'measured' }).machine.llc.sizeBytes).toBe(4 << 20);
    const flat = vm({ ...cal, curve: pts.map(([m]) => ({ workingSetBytes: m << 20, latencyNs: 170 })) });
    expect(machineFromCalibration(flat, { llcSize: 'measured' }).machine.llc.sizeBytes).toBe(32 << 20);
  });

  it('is a function of its input (same measurements, same file)', () => {
    const a = machineFromCalibration(vm());
    const b = machineFromCalibration(vm());
    expect(machineDescriptionYaml(a, vm())).toBe(machineDescriptionYaml(b, vm()));
  });
});

describe('DRAM fit', () => {
  it('law: the simulated unloaded latency is within one DRAM clock of any reachable measured latency', () => {
    const base = DRAM_PRESETS[DRAM_FIT_PRESET];
    const floor = unloadedLatencyNs(parseDramConfig({ timingCycles: { tCL: 1 } }, 'x', base));
    fc.assert(
      fc.property(fc.double({ min: Math.ceil(floor) + 1, max: 400, noNaN: true }), fc.double({ min: 3e9, max: 120e9, noNaN: true }), (lat, bw) => {
        const f = fitDram({ latencyNs: lat, bandwidthBytesPerSec: bw });
        expect(Math.abs(f.simUnloadedLatencyNs - lat)).toBeLessThanOrEqual(base.tCkNs * 1.01);
        expect(f.tCL).toBe(f.config.timingCycles.tCL);
        expect(f.config.channels).toBe(f.channels);
      }),
      { numRuns: 6 },
    );
  });

  it('law: no other channel count, with its latency fitted the same way, comes nearer the measured bandwidth', () => {
    fc.assert(
      fc.property(fc.double({ min: 80, max: 250, noNaN: true }), fc.double({ min: 3e9, max: 120e9, noNaN: true }), (lat, bw) => {
        const f = fitDram({ latencyNs: lat, bandwidthBytesPerSec: bw });
        const mine = Math.abs(Math.log(f.simCopyBytesPerSec / bw));
        for (const ch of DRAM_FIT_CHANNELS) {
          if (ch === f.channels) continue;
          // same tCL search for this channel count: scan the cycles around the chosen tCL
          let bestTcl = 1;
          let bestErr = Infinity;
          for (let t = Math.max(1, f.tCL - 40); t <= f.tCL + 40; t++) {
            const e = Math.abs(unloadedLatencyNs(parseDramConfig({ channels: ch, timingCycles: { tCL: t } }, 'x', DRAM_PRESETS[DRAM_FIT_PRESET])) - lat);
            if (e < bestErr) {
              bestErr = e;
              bestTcl = t;
            }
          }
          const other = copyBytesPerSec(parseDramConfig({ channels: ch, timingCycles: { tCL: bestTcl } }, 'x', DRAM_PRESETS[DRAM_FIT_PRESET]));
          expect(mine).toBeLessThanOrEqual(Math.abs(Math.log(other / bw)) + 1e-9);
        }
      }),
      { numRuns: 3 },
    );
  });

  it('with the latency under load measured: the channel count whose simulated inflation is nearest, among those that carry the copy', () => {
    // a one-core copy of 20 GB/s next to a chase: light interference (x1.15)
    // means far more peak than the copy's own bandwidth, heavy (x1.6) less
    for (const inflation of [1.05, 1.15, 1.35, 1.6]) {
      const f = fitDram({ latencyNs: 170, bandwidthBytesPerSec: 20e9, loaded: { inflation, copyBytesPerSec: 20e9 } });
      expect(f.rule).toBe('loaded-latency');
      expect(f.hostLoadedInflation).toBe(inflation);
      const mine = Math.abs(Math.log(f.simLoadedInflation! / inflation));
      for (const ch of DRAM_FIT_CHANNELS) {
        // the unloaded latency hardly depends on the channel count, so the chosen tCL stands in for each one's own fit
        const other = loadedInflation(parseDramConfig({ channels: ch, timingCycles: { tCL: f.tCL } }, 'x', DRAM_PRESETS[DRAM_FIT_PRESET]), 20e9);
        if (other === null) continue; // cannot carry the copy: not a candidate
        expect(mine).toBeLessThanOrEqual(Math.abs(Math.log(other / inflation)) + 0.02);
      }
    }
    // more interference measured -> never more channels
    const chans = [1.05, 1.15, 1.35, 1.6].map((inflation) => fitDram({ latencyNs: 170, bandwidthBytesPerSec: 20e9, loaded: { inflation, copyBytesPerSec: 20e9 } }).channels);
    for (let i = 1; i < chans.length; i++) expect(chans[i]).toBeLessThanOrEqual(chans[i - 1]);
    expect(chans[0]).toBeGreaterThan(chans[chans.length - 1]);
    // the bandwidth rule alone would give 2 channels here, which cannot carry that copy next to a chase without saturating
    expect(fitDram({ latencyNs: 170, bandwidthBytesPerSec: 20e9 }).rule).toBe('copy-bandwidth');
  });

  it('a copy no channel count carries falls back to the bandwidth rule, and says so', () => {
    const f = fitDram({ latencyNs: 170, bandwidthBytesPerSec: 20e9, loaded: { inflation: 1.2, copyBytesPerSec: 5e12 } });
    expect(f.rule).toBe('copy-bandwidth');
    expect(f.ruleNote).toMatch(/carries/);
    expect(f.channels).toBe(fitDram({ latencyNs: 170, bandwidthBytesPerSec: 20e9 }).channels);
  });

  it('the machine mapping uses the loaded measurement only from a quiet host, and notes which rule it used', () => {
    const loadedLatency = { chaseCore: 0, copyCore: 1, workingSetBytes: 256 << 20, aloneNs: 200, loadedNs: 230, inflation: 1.15, copyBytesPerSec: 20e9, repeats: 3, backgroundCores: 0, disturbed: false };
    const quiet = machineFromCalibration(vm({ loadedLatency }));
    expect(quiet.dram.rule).toBe('loaded-latency');
    expect(quiet.notes.join('\n')).toMatch(/channels chosen by latency under load/);
    expect(machineDescriptionYaml(quiet, vm({ loadedLatency }))).toMatch(/# DRAM latency under load/);
    const busy = machineFromCalibration(vm({ loadedLatency: { ...loadedLatency, disturbed: true, backgroundCores: 0.8 } }));
    expect(busy.dram.rule).toBe('copy-bandwidth');
    expect(busy.notes.join('\n')).toMatch(/left out: other processes were busy/);
    // a file with a malformed measurement names the field
    expect(() => parseCalibration({ schema: 'umbra-host-calibration/1', ...vm(), loadedLatency: { ...loadedLatency, inflation: -1 } }, 'cal.json')).toThrow(/cal\.json.*loadedLatency/);
    const none = machineFromCalibration(vm({ loadedLatency: { unavailable: 'one core' } }));
    expect(none.dram.rule).toBe('copy-bandwidth');
    expect(none.notes.join('\n')).toMatch(/not measured \(one core\)/);
  });

  it('a latency below what the device can do is reported as an error, not hidden', () => {
    const f = fitDram({ latencyNs: 5, bandwidthBytesPerSec: 20e9 });
    expect(f.tCL).toBe(1);
    expect(f.latencyErrorPct).toBeGreaterThan(100);
  });
});

describe('calibration files', () => {
  it('names the field at fault', () => {
    const bad = { schema: 'umbra-host-calibration/1', ...vm(), dramLatencyNs: -3 };
    expect(() => parseCalibration(bad, 'cal.json')).toThrow(InputError);
    expect(() => parseCalibration(bad, 'cal.json')).toThrow(/cal\.json: field "dramLatencyNs"/);
    expect(() => parseCalibration({ ...bad, dramLatencyNs: 100, schema: 'other' }, 'cal.json')).toThrow(/field "schema"/);
    const { cores: _c, ...noCores } = { ...bad, dramLatencyNs: 100 };
    expect(() => parseCalibration(noCores, 'cal.json')).toThrow(/field "cores"/);
  });
});

describe('umbra calibrate --from / --machine-out', () => {
  it('maps a calibration file to a machine description the simulator loads, and names what is wrong in a bad one', async () => {
    ensureDistFresh();
    const dir = mkdtempSync(join(tmpdir(), 'umbra-cal-cli-'));
    try {
      const cal = join(dir, 'cal.json');
      writeFileSync(cal, JSON.stringify({ schema: 'umbra-host-calibration/1', ...vm() }, null, 2));
      const out = join(dir, 'machine.yaml');
      const r = await runCli(['calibrate', '--from', cal, '--machine-out', out, '--json']);
      expect(r.code).toBe(0);
      const printed = JSON.parse(r.stdout) as { machine: { description: { cores: { count: number } } } };
      expect(printed.machine.description.cores.count).toBe(2);
      expect(loadMachineDescription(out)).toEqual(machineFromCalibration(vm()).machine);
      writeFileSync(cal, '{"schema": "umbra-host-calibration/1",\n  "cores": 2,, }');
      const bad = await runCli(['calibrate', '--from', cal, '--machine-out', out]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/cal\.json:2:\d+: not valid JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
