// Physical address -> (channel, rank, bank group, bank, row, column), the way
// DRAMsim3 reads a mapping string: six two-letter fields written MSB first;
// the least significant field starts right above the request offset bits
// (6 bits for 64 B requests). Column bits count bursts, not bytes: a 1024-column
// x8 row holds 1024 / BL8 = 128 bursts, so `co` is 7 bits wide.
import type { DramConfig } from './dram-config.js';
import { banksPerRank, requestBytes } from './dram-config.js';

export type MappingField = 'ch' | 'ra' | 'bg' | 'ba' | 'ro' | 'co';

export interface FieldLayout {
  /** Bit position of the field's LSB in the physical byte address. */
  shift: number;
  bits: number;
}

export interface AddressLayout {
  offsetBits: number;
  fields: Record<MappingField, FieldLayout>;
  /** Total bytes the mapping covers (2^(offset + all field bits)). */
  capacityBytes: number;
}

export interface DramCoordinates {
  channel: number;
  rank: number;
  bankGroup: number;
  bank: number;
  row: number;
  column: number;
}

function log2(n: number): number {
  return Math.round(Math.log2(n));
}

export function addressLayout(config: DramConfig): AddressLayout {
  const offsetBits = log2(requestBytes(config));
  const widths: Record<MappingField, number> = {
    ch: log2(config.channels),
    ra: log2(config.ranks),
    bg: log2(config.bankGroups),
    ba: log2(config.banksPerGroup),
    ro: log2(config.rows),
    co: log2(config.columns) - log2(config.burstLength),
  };
  const tokens: MappingField[] = [];
  for (let i = 0; i < 12; i += 2) tokens.push(config.addressMapping.slice(i, i + 2) as MappingField);
  const fields = {} as Record<MappingField, FieldLayout>;
  let pos = offsetBits;
  for (let i = tokens.length - 1; i >= 0; i--) {
    const f = tokens[i];
    fields[f] = { shift: pos, bits: widths[f] };
    pos += widths[f];
  }
  return { offsetBits, fields, capacityBytes: 2 ** pos };
}

/**
 * A decoder with precomputed shifts/masks. Addresses are JS numbers (exact up
 * to 2^53 bytes); fields above bit 31 are extracted with division so no
 * 32-bit truncation happens.
 */
export class AddressDecoder {
  readonly layout: AddressLayout;
  private readonly sh: Int32Array;
  private readonly mask: Int32Array;
  private readonly banksPerRank: number;
  private readonly banksPerGroup: number;

  constructor(readonly config: DramConfig) {
    this.layout = addressLayout(config);
    const order: MappingField[] = ['ch', 'ra', 'bg', 'ba', 'ro', 'co'];
    this.sh = Int32Array.from(order.map((f) => this.layout.fields[f].shift));
    this.mask = Int32Array.from(order.map((f) => 2 ** this.layout.fields[f].bits - 1));
    this.banksPerRank = banksPerRank(config);
    this.banksPerGroup = config.banksPerGroup;
  }

  private field(addr: number, i: number): number {
    const s = this.sh[i];
    if (addr < 4294967296) {
      // fast path: the address fits in 32 bits
      return s < 32 ? (addr >>> s) & this.mask[i] : 0;
    }
    return Math.floor(addr / 2 ** s) % 2147483648 & this.mask[i];
  }

  channel(addr: number): number {
    return this.field(addr, 0);
  }
  rank(addr: number): number {
    return this.field(addr, 1);
  }
  bankGroup(addr: number): number {
    return this.field(addr, 2);
  }
  bank(addr: number): number {
    return this.field(addr, 3);
  }
  row(addr: number): number {
    return this.field(addr, 4);
  }
  column(addr: number): number {
    return this.field(addr, 5);
  }

  /** Flat bank index inside a channel: rank * banksPerRank + bankGroup * banksPerGroup + bank. */
  flatBank(addr: number): number {
    return this.rank(addr) * this.banksPerRank + this.bankGroup(addr) * this.banksPerGroup + this.bank(addr);
  }

  decode(addr: number): DramCoordinates {
    return { channel: this.channel(addr), rank: this.rank(addr), bankGroup: this.bankGroup(addr), bank: this.bank(addr), row: this.row(addr), column: this.column(addr) };
  }

  /** Inverse of decode (fields outside their width are masked). */
  encode(c: DramCoordinates): number {
    const f = this.layout.fields;
    const put = (v: number, l: FieldLayout) => (v & (2 ** l.bits - 1)) * 2 ** l.shift;
    return put(c.channel, f.ch) + put(c.rank, f.ra) + put(c.bankGroup, f.bg) + put(c.bank, f.ba) + put(c.row, f.ro) + put(c.column, f.co);
  }
}
