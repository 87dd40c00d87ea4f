// One set-associative cache with true LRU per set, exactly as valgrind 3.19's
// cachegrind simulates it (cg_sim.c):
//  - set = block & (sets - 1), block = addr >> log2(line); the whole block
//    number is the tag;
//  - each set is an MRU-first array of `ways` tags, all initialised to 0, so
//    block 0 (addresses 0..line-1) starts out resident in set 0;
//  - a hit moves the tag to the front; a miss inserts it at the front and drops
//    the last entry (write-allocate; reads and writes are the same lookup);
//  - an access straddling two lines looks up both lines (both become MRU in
//    their sets) and is one miss if either missed; more than two lines is
//    something cachegrind aborts on ("item straddles more than two cache
//    sets"), so it is reported as an error here too.
// Block numbers are kept as doubles: exact below 2^53, i.e. for every address
// with at most 13 hex digits. Larger addresses go through the BigInt path,
// which maps each distinct huge block to its own negative key.
import type { CacheConfig } from './cache-config.js';
import { validateCacheConfig } from './cache-config.js';

const MASK64 = (1n << 64n) - 1n;
const TWO_POW_53 = 2n ** 53n;

/** An access that would touch more than two lines: cachegrind panics on it. */
export class SpansTooManyLinesError extends Error {
  override readonly name = 'SpansTooManyLinesError';
  constructor(
    readonly cacheName: string,
    readonly addrHex: string,
    readonly sizeBytes: number,
    readonly lineBytes: number,
  ) {
    super(
      `access ${addrHex},${sizeBytes} spans more than two ${lineBytes}-byte lines of ${cacheName}; ` +
        `cachegrind aborts on this ("item straddles more than two cache sets")`,
    );
  }
}

export class CachegrindLruCache {
  readonly sets: number;
  readonly ways: number;
  readonly lineBits: number;
  readonly setMask: number;
  private readonly invLineBytes: number;
  private readonly tags: Float64Array;
  private readonly lineBitsBig: bigint;
  private readonly setMaskBig: bigint;
  private readonly hugeBlockKeys = new Map<bigint, number>();

  constructor(
    readonly name: string,
    readonly config: CacheConfig,
  ) {
    validateCacheConfig(config, name);
    this.ways = config.ways;
    this.sets = config.sizeBytes / (config.lineBytes * config.ways);
    this.lineBits = Math.log2(config.lineBytes);
    this.setMask = this.sets - 1;
    this.invLineBytes = 1 / config.lineBytes; // a power of two: exact
    this.tags = new Float64Array(this.sets * this.ways); // zero, like cachegrind
    this.lineBitsBig = BigInt(this.lineBits);
    this.setMaskBig = BigInt(this.setMask);
  }

  /**
   * Look `tag` up in `set` (cachesim_setref_is_miss): true on a miss. Either
   * way the tag ends up most recently used.
   */
  setRefIsMiss(set: number, tag: number): boolean {
    const tags = this.tags;
    const base = set * this.ways;
    if (tags[base] === tag) return false;
    const last = base + this.ways - 1;
    for (let i = base + 1; i <= last; i++) {
      if (tags[i] === tag) {
        for (let j = i; j > base; j--) tags[j] = tags[j - 1];
        tags[base] = tag;
        return false;
      }
    }
    for (let j = last; j > base; j--) tags[j] = tags[j - 1];
    tags[base] = tag;
    return true;
  }

  /**
   * One access of `sizeBytes` at `addr` (cachesim_ref_is_miss); `addr` must be
   * an integer below 2^52. True if it missed (in either line it touches).
   */
  refIsMiss(addr: number, sizeBytes: number): boolean {
    const block1 = Math.floor(addr * this.invLineBytes);
    const block2 = Math.floor((addr + sizeBytes - 1) * this.invLineBytes);
    if (block1 === block2) return this.setRefIsMiss(block1 & this.setMask, block1);
    if (block1 + 1 === block2) {
      // both lookups always happen: each updates its set's LRU order
      const miss1 = this.setRefIsMiss(block1 & this.setMask, block1);
      const miss2 = this.setRefIsMiss(block2 & this.setMask, block2);
      return miss1 || miss2;
    }
    throw new SpansTooManyLinesError(this.name, addr.toString(16), sizeBytes, this.config.lineBytes);
  }

  /** As refIsMiss for any 64-bit address (wrapping like a C UWord). */
  refIsMissBig(addr: bigint, sizeBytes: number): boolean {
    const end = (addr + BigInt(sizeBytes) - 1n) & MASK64;
    const block1 = addr >> this.lineBitsBig;
    const block2 = end >> this.lineBitsBig;
    const set1 = Number(block1 & this.setMaskBig);
    if (block1 === block2) return this.setRefIsMiss(set1, this.keyOf(block1));
    if (block1 + 1n === block2) {
      const miss1 = this.setRefIsMiss(set1, this.keyOf(block1));
      const miss2 = this.setRefIsMiss(Number(block2 & this.setMaskBig), this.keyOf(block2));
      return miss1 || miss2;
    }
    throw new SpansTooManyLinesError(this.name, addr.toString(16), sizeBytes, this.config.lineBytes);
  }

  /** Block number of an address below 2^53. */
  blockOf(addr: number): number {
    return Math.floor(addr * this.invLineBytes);
  }

  /** Set index of a block number below 2^53. */
  setOf(block: number): number {
    return block & this.setMask;
  }

  /**
   * The distinct blocks resident in `set`, most recently used first. (The
   * zero-initialised ways all hold block 0, so it may appear once here while
   * occupying several ways.)
   */
  blocksInSet(set: number): number[] {
    const base = set * this.ways;
    const out: number[] = [];
    for (let i = 0; i < this.ways; i++) {
      const t = this.tags[base + i];
      if (!out.includes(t)) out.push(t);
    }
    return out;
  }

  private keyOf(block: bigint): number {
    if (block < TWO_POW_53) return Number(block);
    let key = this.hugeBlockKeys.get(block);
    if (key === undefined) {
      key = -1 - this.hugeBlockKeys.size;
      this.hugeBlockKeys.set(block, key);
    }
    return key;
  }
}
