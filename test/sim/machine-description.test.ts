import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultMachine, loadMachineDescription, parseMachineDescription } from '../../sim/machine/machine-description.js';
import { InputError } from '../../util/errors.js';

describe('machine description', () => {
  it('defaults to a 16-core server, 32 MiB 16-way LLC, two channels of DDR4-3200', () => {
    const m = defaultMachine();
    expect(m.cores.count).toBe(16);
    expect(m.llc.sizeBytes).toBe(32 * 1024 * 1024);
    expect(m.llc.ways).toBe(16);
    expect(m.dram.channels).toBe(2);
    expect(m.dram.timingCycles.tCL).toBe(22);
  });

  it('the shipped default.yaml spells out exactly the defaults', () => {
    expect(loadMachineDescription('sim/machine/machines/default.yaml')).toEqual(defaultMachine());
  });

  it('accepts sizes with units and overrides of single DRAM fields', () => {
    const m = parseMachineDescription({ llc: { sizeBytes: '16 MiB', ways: 8 }, dram: { channels: 4, timingCycles: { tCL: 24 } } });
    expect(m.llc.sizeBytes).toBe(16 * 1024 * 1024);
    expect(m.dram.channels).toBe(4);
    expect(m.dram.timingCycles.tCL).toBe(24);
    expect(m.dram.timingCycles.tRCD).toBe(22);
  });

  const bad: [string, unknown, RegExp][] = [
    ['negative core count', { cores: { count: -2 } }, /cores\.count/],
    ['unknown field', { llc: { sizeBytes: '32 MiB', colour: 3 } }, /llc/],
    ['size not a whole number of sets', { llc: { sizeBytes: 1000000 } }, /llc\.sizeBytes.*whole number of sets/],
    ['too many ways', { llc: { ways: 40 } }, /llc\.ways.*32/],
    ['nonsense size', { llc: { sizeBytes: 'lots' } }, /llc\.sizeBytes/],
    ['unknown DRAM preset', { dram: { preset: 'ddr9' } }, /dram\.preset.*ddr4-3200/],
    ['bad DRAM field', { dram: { channels: 3 } }, /dram.*channels/],
    ['weights out of order', { io: { weightMin: 500, weightMax: 100 } }, /io\.weightDefault/],
  ];
  for (const [what, raw, re] of bad) {
    it(`rejects ${what} naming the field`, () => {
      let err: unknown;
      try {
        parseMachineDescription(raw, 'm.yaml');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).toMatch(/^m\.yaml/);
    });
  }

  it('a file that is not YAML gets its line and column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'umbra-machine-'));
    try {
      const f = join(dir, 'broken.yaml');
      writeFileSync(f, 'cores:\n  count: [16\n');
      expect(() => loadMachineDescription(f)).toThrow(/broken\.yaml:\d+:\d+/);
      expect(() => loadMachineDescription(join(dir, 'missing.yaml'))).toThrow(/missing\.yaml: cannot read.*ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
