// Bank colours for page colouring. A colour is the value of the channel, rank,
// bank-group and bank address bits that lie at or above the page offset
// (4 KiB): the OS chooses them when it picks a physical frame, so it can keep a
// task's pages on a subset of banks. Bank bits below the page offset (if a
// mapping puts any there) vary inside every page and are not part of a colour.
import type { DramConfig } from './dram-config.js';
import { banksPerRank } from './dram-config.js';
import { addressLayout, AddressDecoder, type MappingField } from './address-mapping.js';
import { InputError } from '../../util/errors.js';

export const PAGE_BYTES = 4096;
const PAGE_SHIFT = 12;
const BANK_FIELDS: MappingField[] = ['ch', 'ra', 'bg', 'ba'];

export interface ColourLayout {
  /** Physical address bit positions of the colour bits, least significant colour bit first. */
  colourBits: number[];
  /** Bit positions at or above the page offset that are not colour bits (row, high column bits), LSB first. */
  frameBits: number[];
  colours: number;
  /** Flat bank ids (channel * banksPerChannel + rank * banksPerRank + group * banksPerGroup + bank) of each colour. */
  banksOfColour: Int32Array[];
  banksPerChannel: number;
}

const cache = new WeakMap<DramConfig, ColourLayout>();

export function colourLayout(config: DramConfig): ColourLayout {
  const hit = cache.get(config);
  if (hit) return hit;
  const layout = addressLayout(config);
  const colourBits: number[] = [];
  const isColour = new Set<number>();
  for (const f of BANK_FIELDS) {
    const { shift, bits } = layout.fields[f];
    for (let b = shift; b < shift + bits; b++) if (b >= PAGE_SHIFT) isColour.add(b);
  }
  const totalBits = Math.round(Math.log2(layout.capacityBytes));
  const frameBits: number[] = [];
  for (let b = PAGE_SHIFT; b < totalBits; b++) (isColour.has(b) ? colourBits : frameBits).push(b);
  const colours = 2 ** colourBits.length;
  // Which banks each colour reaches: enumerate the bank bits below the page offset.
  const dec = new AddressDecoder(config);
  const lowBankBits: number[] = [];
  for (const f of BANK_FIELDS) {
    const { shift, bits } = layout.fields[f];
    for (let b = shift; b < shift + bits; b++) if (b < PAGE_SHIFT) lowBankBits.push(b);
  }
  const bpc = config.ranks * banksPerRank(config);
  const banksOfColour: Int32Array[] = [];
  for (let c = 0; c < colours; c++) {
    const base = scatter(c, colourBits);
    const set = new Set<number>();
    for (let v = 0; v < 2 ** lowBankBits.length; v++) {
      const a = base + scatter(v, lowBankBits);
      set.add(dec.channel(a) * bpc + dec.flatBank(a));
    }
    banksOfColour.push(Int32Array.from([...set].sort((x, y) => x - y)));
  }
  const out = { colourBits, frameBits, colours, banksOfColour, banksPerChannel: bpc };
  cache.set(config, out);
  return out;
}

/** Spread the bits of `value` over the given address bit positions (LSB first). */
function scatter(value: number, positions: number[]): number {
  let a = 0;
  for (let i = 0; i < positions.length; i++) if (Math.floor(value / 2 ** i) % 2 === 1) a += 2 ** positions[i];
  return a;
}

function gather(addr: number, positions: number[]): number {
  let v = 0;
  for (let i = 0; i < positions.length; i++) if (Math.floor(addr / 2 ** positions[i]) % 2 === 1) v += 2 ** i;
  return v;
}

/** Number of distinct bank colours (2^(bank-selecting bits above the page offset)). */
export function bankColourCount(config: DramConfig): number {
  return colourLayout(config).colours;
}

/** The bank colour of a physical address. */
export function colourOfAddress(config: DramConfig, physAddr: number): number {
  return gather(physAddr, colourLayout(config).colourBits);
}

export interface FramePlacement {
  /** Which of `slots` equal partitions of each colour's frames this task uses (default 0 of 1), so tasks never share frames. */
  slot?: number;
  slots?: number;
}

/**
 * Physical address of the 4 KiB frame backing a task's virtual page:
 * consecutive virtual pages go round-robin over the allowed colours, and the
 * k-th page of a colour takes the k-th frame of that colour (inside the task's
 * slot), so pages stay sequential within a colour and row locality is kept.
 * Deterministic; wraps around when the task's share of a colour is used up.
 */
export function frameAddressForPage(config: DramConfig, virtualPageNumber: number, allowedColours: readonly number[] | null, placement: FramePlacement = {}): number {
  const L = colourLayout(config);
  const colours = allowedColours ?? null;
  const k = colours === null ? L.colours : colours.length;
  if (k === 0) throw new InputError('at least one colour must be allowed', 'allowedColours');
  if (!Number.isInteger(virtualPageNumber) || virtualPageNumber < 0) throw new InputError(`expected a non-negative integer page number, got ${virtualPageNumber}`, 'virtualPageNumber');
  const colour = colours === null ? virtualPageNumber % k : colours[virtualPageNumber % k];
  if (!Number.isInteger(colour) || colour < 0 || colour >= L.colours) throw new InputError(`colour ${colour} out of range [0, ${L.colours})`, 'allowedColours');
  const slots = placement.slots ?? 1;
  const slot = placement.slot ?? 0;
  if (!Number.isInteger(slots) || slots < 1 || !Number.isInteger(slot) || slot < 0 || slot >= slots) throw new InputError(`expected 0 <= slot < slots, got slot ${slot} of ${slots}`, 'placement');
  const framesPerColour = 2 ** L.frameBits.length;
  const perSlot = Math.max(1, Math.floor(framesPerColour / slots));
  const index = (slot * perSlot + (Math.floor(virtualPageNumber / k) % perSlot)) % framesPerColour;
  return scatter(colour, L.colourBits) + scatter(index, L.frameBits);
}

/** Flat bank ids (over all channels) a set of colours reaches; null = every bank. */
export function banksOfColours(config: DramConfig, colours: readonly number[] | null): Int32Array {
  const L = colourLayout(config);
  if (colours === null) return Int32Array.from({ length: L.banksPerChannel * config.channels }, (_, i) => i);
  const set = new Set<number>();
  for (const c of colours) {
    if (!Number.isInteger(c) || c < 0 || c >= L.colours) throw new InputError(`colour ${c} out of range [0, ${L.colours})`, 'colours');
    for (const b of L.banksOfColour[c]) set.add(b);
  }
  return Int32Array.from([...set].sort((x, y) => x - y));
}
