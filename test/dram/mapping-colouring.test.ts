// Address mapping (DRAMsim3 string semantics), configuration validation, and
// page colouring: colours are the bank-selecting bits above the 4 KiB page
// offset; frames handed out for a task stay inside its colours.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DDR4_3200_8GB_X8, MACHINE_DEFAULT_DRAM, ddr4PeakBytesPerSec, parseDramConfig } from '../../sim/dram/dram-config.js';
import { AddressDecoder, addressLayout } from '../../sim/dram/address-mapping.js';
import { bankColourCount, banksOfColours, colourOfAddress, frameAddressForPage, PAGE_BYTES } from '../../sim/dram/page-colouring.js';
import { InputError } from '../../util/errors.js';

describe('address mapping', () => {
  it('rochrababgco on 1 channel, 2 ranks: column 6-12, bank group 13-14, bank 15-16, rank 17, row 18+', () => {
    const f = addressLayout(DDR4_3200_8GB_X8).fields;
    expect([f.co.shift, f.co.bits]).toEqual([6, 7]);
    expect([f.bg.shift, f.bg.bits]).toEqual([13, 2]);
    expect([f.ba.shift, f.ba.bits]).toEqual([15, 2]);
    expect([f.ra.shift, f.ra.bits]).toEqual([17, 1]);
    expect([f.ch.shift, f.ch.bits]).toEqual([18, 0]);
    expect([f.ro.shift, f.ro.bits]).toEqual([18, 16]);
    const d = new AddressDecoder(DDR4_3200_8GB_X8);
    expect(d.decode(0x3_ffff_ffc0)).toEqual({ channel: 0, rank: 1, bankGroup: 3, bank: 3, row: 65535, column: 127 });
    expect(d.decode(1 << 13)).toMatchObject({ bankGroup: 1, bank: 0, column: 0 });
  });

  it('decode and encode are inverse for addresses inside the capacity', () => {
    fc.assert(
      fc.property(fc.constantFrom('rochrababgco', 'chrorababgco', 'robgbarachco'), fc.constantFrom(1, 2, 4), fc.integer({ min: 0, max: 2 ** 28 - 1 }), (mapping, channels, line) => {
        const cfg = parseDramConfig({ ...DDR4_3200_8GB_X8, addressMapping: mapping, channels });
        const d = new AddressDecoder(cfg);
        const addr = (line % (addressLayout(cfg).capacityBytes / 64)) * 64;
        expect(d.encode(d.decode(addr))).toBe(addr);
      }),
    );
  });

  it('peak bandwidth is 64 B per 4 clocks per channel: 25.6 GB/s for DDR4-3200', () => {
    expect(ddr4PeakBytesPerSec(DDR4_3200_8GB_X8)).toBeCloseTo(25.6e9, -6);
    expect(ddr4PeakBytesPerSec(MACHINE_DEFAULT_DRAM)).toBeCloseTo(51.2e9, -6);
  });
});

describe('DRAM configuration', () => {
  it('takes missing fields from the preset', () => {
    const c = parseDramConfig({ channels: 2, timingCycles: { tCL: 20 } });
    expect(c.channels).toBe(2);
    expect(c.timingCycles.tCL).toBe(20);
    expect(c.timingCycles.tRCD).toBe(22);
  });

  it.each([
    [{ channels: 3 }, /dram\.channels: channels: expected a power of two/],
    [{ timingCycles: { tRAS: 'x' } }, /dram\.timingCycles\.tRAS/],
    [{ timingCycles: { tRC: 10 } }, /dram\.timingCycles\.tRC: tRC must be >= tRAS/],
    [{ addressMapping: 'rochrababg' }, /dram\.addressMapping/],
    [{ controller: { scheduler: 'lifo' } }, /dram\.controller\.scheduler/],
    [{ banks: 16 }, /Unrecognized key/],
  ])('rejects %j with one error naming the field', (raw, pattern) => {
    expect(() => parseDramConfig(raw, 'dram')).toThrow(InputError);
    expect(() => parseDramConfig(raw, 'dram')).toThrow(pattern);
  });
});

describe('page colouring', () => {
  it('colours = channel, rank, bank-group and bank bits above the page offset', () => {
    expect(bankColourCount(DDR4_3200_8GB_X8)).toBe(32); // 2 bg + 2 ba + 1 ra bits
    expect(bankColourCount(MACHINE_DEFAULT_DRAM)).toBe(64); // + 1 channel bit
    // rank bit inside the page (bit 6): it does not colour; each colour reaches both ranks
    const rankInPage = parseDramConfig({ ...DDR4_3200_8GB_X8, addressMapping: 'robabgcorach' });
    expect(addressLayout(rankInPage).fields.ra.shift).toBe(6);
    expect(bankColourCount(rankInPage)).toBe(16);
    expect(banksOfColours(rankInPage, [5]).length).toBe(2);
    // every bank bit inside the page: a single colour reaching every bank
    const allInPage = parseDramConfig({ ...DDR4_3200_8GB_X8, addressMapping: 'rocorabachbg' });
    expect(bankColourCount(allInPage)).toBe(1);
    expect(banksOfColours(allInPage, [0]).length).toBe(32);
  });

  it('each colour of the DDR4 default reaches one bank; the colours partition the banks', () => {
    const all = new Set<number>();
    for (let c = 0; c < 32; c++) {
      const banks = banksOfColours(DDR4_3200_8GB_X8, [c]);
      expect(banks.length).toBe(1);
      all.add(banks[0]);
    }
    expect(all.size).toBe(32);
    expect(banksOfColours(DDR4_3200_8GB_X8, null).length).toBe(32);
  });

  it('frames for a task stay in its colours, are page aligned, distinct, and deterministic', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(DDR4_3200_8GB_X8, MACHINE_DEFAULT_DRAM),
        fc.uniqueArray(fc.integer({ min: 0, max: 31 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 300 }),
        (cfg, colours, start, count) => {
          const seen = new Set<number>();
          for (let v = start; v < start + count; v++) {
            const a = frameAddressForPage(cfg, v, colours);
            expect(a % PAGE_BYTES).toBe(0);
            expect(colours).toContain(colourOfAddress(cfg, a));
            expect(frameAddressForPage(cfg, v, colours)).toBe(a);
            seen.add(a);
          }
          expect(seen.size).toBe(count);
        },
      ),
    );
  });

  it('tasks in different slots never share a frame; consecutive pages of a colour keep the DRAM row', () => {
    const cfg = DDR4_3200_8GB_X8;
    const a = new Set<number>();
    const b = new Set<number>();
    for (let v = 0; v < 2000; v++) {
      a.add(frameAddressForPage(cfg, v, [3, 4], { slot: 0, slots: 2 }));
      b.add(frameAddressForPage(cfg, v, [3, 4], { slot: 1, slots: 2 }));
    }
    for (const x of a) expect(b.has(x)).toBe(false);
    const d = new AddressDecoder(cfg);
    // pages 0 and 2 both have colour 3 (round-robin over two colours): same bank, same row, other half of it
    const p0 = d.decode(frameAddressForPage(cfg, 0, [3, 4]));
    const p2 = d.decode(frameAddressForPage(cfg, 2, [3, 4]));
    expect({ ...p2, column: 0 }).toEqual({ ...p0, column: 0 });
    expect(p2.column).not.toBe(p0.column);
  });

  it('rejects colours out of range', () => {
    expect(() => frameAddressForPage(DDR4_3200_8GB_X8, 0, [32])).toThrow(/colour 32 out of range/);
    expect(() => banksOfColours(DDR4_3200_8GB_X8, [-1])).toThrow(InputError);
  });
});
