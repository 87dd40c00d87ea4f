// Exact set-associative LRU last-level cache with Intel-CAT-style way masks.
//
// Every access is looked up in its set; a hit refreshes the line's LRU
// position; a miss evicts the least recently used line among the ways in the
// *inserting task's* mask (as CAT does: lookups hit in any way, fills go only to
// the task's ways). Per-task occupancy is tracked line by line (CMT-style).
//
// Speed (the simulator replays hundreds of millions of accesses): for caches of
// at most 16 ways each set keeps
//   - an 8-bit signature of every way's tag, packed 4 per Int32, so a lookup
//     finds candidate ways with a SWAR zero-byte test instead of 16 compares;
//   - its LRU order as a permutation of way numbers packed in two Int32 words
//     (nibble i = way at recency position i; position 0 = MRU), so move-to-front
//     is a few shifts and the full-mask victim is the top nibble.
// Caches with more than 16 ways use a plain per-line timestamp path.
//
// Batches on the packed layout run in the native addon when it is loaded
// (native/src/llc.cc: the same algorithm on these same arrays, with an SSE2 tag
// compare); both paths share state and make identical decisions (tested).

import { nativeAddon, type UmbraNative } from '../../native/addon.js';

export type LlcImplementation = 'auto' | 'js' | 'native';

export interface LlcGeometry {
  sizeBytes: number;
  ways: number;
  lineBytes: number;
}

const BYTE_ONES = 0x01010101;
const BYTE_HIGHS = 0x80808080 | 0;
const NIBBLE_ONES = 0x11111111;
const NIBBLE_HIGHS = 0x88888888 | 0;
// Initial recency order: way 0 at the LRU end, way 15 at the MRU end. Untouched
// (invalid) ways keep this relative order behind every touched way, so fills
// take the lowest-numbered free way in the mask first, as the reference does.
const INITIAL_PERM_LO = 0x89abcdef | 0;
const INITIAL_PERM_HI = 0x01234567;

export class LlcExact {
  readonly sets: number;
  readonly ways: number;
  readonly lineBytes: number;
  readonly maxTasks: number;
  private readonly setMask: number; // sets - 1 when sets is a power of two, else -1
  private readonly setBits: number;
  /** Line slots per set in the arrays: 16 on the packed path (ways <= 16), else `ways`. */
  private readonly stride: number;
  private readonly tags: Int32Array; // per line: tag, -1 = invalid
  private readonly owner: Uint8Array; // per line: task index + 1, 0 = invalid
  private readonly meta: Int32Array; // per set (<=16 ways): 4 signature words, 2 LRU permutation words, 2 pad
  private readonly stamp: Float64Array | null; // per line (>16 ways): last-use time
  private clock = 1;
  private readonly masks: Int32Array; // per task: allowed ways for fills
  readonly occupancyLines: Int32Array; // per task
  readonly hits: Float64Array; // per task
  readonly misses: Float64Array; // per task

  /** The native batch loop when used (see implementation). */
  private readonly native: UmbraNative | null;

  /**
   * `implementation`: 'auto' uses the native batch loop when the addon is
   * loaded and the layout allows it (at most 16 ways, a power-of-two number of
   * sets); 'js' never does; 'native' insists and throws when it cannot.
   */
  constructor(geometry: LlcGeometry, maxTasks = 64, implementation: LlcImplementation = 'auto') {
    const { sizeBytes, ways, lineBytes } = geometry;
    if (!Number.isInteger(ways) || ways < 1 || ways > 32) throw new RangeError(`LLC ways must be an integer in [1, 32], got ${ways}`);
    if (!Number.isInteger(lineBytes) || lineBytes < 1 || (lineBytes & (lineBytes - 1)) !== 0) throw new RangeError(`LLC line size must be a power of two, got ${lineBytes}`);
    const sets = sizeBytes / (ways * lineBytes);
    if (!Number.isInteger(sets) || sets < 1) throw new RangeError(`LLC size ${sizeBytes} B is not a whole number of sets of ${ways} ways x ${lineBytes} B`);
    if (maxTasks < 1 || maxTasks > 255) throw new RangeError(`maxTasks must be in [1, 255], got ${maxTasks}`);
    this.sets = sets;
    this.ways = ways;
    this.lineBytes = lineBytes;
    this.maxTasks = maxTasks;
    const pow2 = (sets & (sets - 1)) === 0;
    this.setMask = pow2 ? sets - 1 : -1;
    this.setBits = pow2 ? Math.log2(sets) : 0;
    this.stride = ways <= 16 ? 16 : ways;
    this.tags = new Int32Array(sets * this.stride).fill(-1);
    this.owner = new Uint8Array(sets * this.stride);
    if (ways <= 16) {
      this.meta = new Int32Array(sets * 8);
      this.stamp = null;
    } else {
      this.meta = new Int32Array(0);
      this.stamp = new Float64Array(sets * ways);
    }
    this.resetLru();
    this.masks = new Int32Array(maxTasks).fill(this.fullMask);
    const packedPow2 = ways <= 16 && pow2;
    const addon = implementation === 'js' || !packedPow2 ? null : nativeAddon();
    this.native = addon && typeof addon.llcAccessBatch === 'function' ? addon : null;
    if (implementation === 'native' && !this.native) {
      throw new Error(packedPow2 ? 'the native LLC loop is not available (native addon not loaded)' : 'the native LLC loop needs at most 16 ways and a power-of-two number of sets');
    }
    this.occupancyLines = new Int32Array(maxTasks);
    this.hits = new Float64Array(maxTasks);
    this.misses = new Float64Array(maxTasks);
  }

  /** Which loop replays batches. */
  get implementation(): 'js' | 'native' {
    return this.native ? 'native' : 'js';
  }

  get fullMask(): number {
    return this.ways === 32 ? -1 : (1 << this.ways) - 1;
  }

  get lines(): number {
    return this.sets * this.ways;
  }

  private resetLru(): void {
    if (this.stamp) {
      this.stamp.fill(0);
      return;
    }
    // Ways beyond `ways` (when ways < 16) are never in any mask, so they are
    // never chosen or touched.
    for (let s = 0; s < this.sets; s++) {
      this.meta[8 * s + 4] = INITIAL_PERM_LO;
      this.meta[8 * s + 5] = INITIAL_PERM_HI;
    }
  }

  /** Ways the task may fill into (bit i = way i). Must be non-empty. */
  setTaskMask(task: number, mask: number): void {
    this.checkTask(task);
    const m = mask & this.fullMask;
    if (m === 0) throw new RangeError(`way mask 0x${(mask >>> 0).toString(16)} selects no way of a ${this.ways}-way cache`);
    this.masks[task] = m;
  }

  taskMask(task: number): number {
    return this.masks[task];
  }

  /** Drop every line (cold cache). */
  invalidateAll(): void {
    this.tags.fill(-1);
    this.owner.fill(0);
    if (!this.stamp) this.meta.fill(0);
    this.resetLru();
    this.occupancyLines.fill(0);
  }

  resetCounters(): void {
    this.hits.fill(0);
    this.misses.fill(0);
  }

  private checkTask(task: number): void {
    if (!Number.isInteger(task) || task < 0 || task >= this.maxTasks) throw new RangeError(`task index ${task} outside [0, ${this.maxTasks})`);
  }

  /** One access to cache block `block` (= address / lineBytes). Returns true on a hit. */
  access(task: number, block: number): boolean {
    let set: number, tag: number;
    if (this.setMask >= 0) {
      set = block & this.setMask;
      tag = Math.floor(block / this.sets) | 0;
    } else {
      set = block % this.sets;
      tag = Math.floor(block / this.sets) | 0;
    }
    return this.stamp ? this.accessStamped(task, set, tag) : this.accessPacked(task, set, tag);
  }

  /**
   * Replay a run of blocks for one task; returns the number of hits. The hot
   * loop of exact mode: blocks must be < 2^31 (addresses < 128 GiB with 64 B lines).
   */
  accessBatch(task: number, blocks: Int32Array, start = 0, end = blocks.length): number {
    if (this.native) {
      const h = this.native.llcAccessBatch(this.tags, this.meta, this.owner, this.occupancyLines, this.setBits, task, this.masks[task] >>> 0, blocks, start, end);
      this.hits[task] += h;
      this.misses[task] += end - start - h;
      return h;
    }
    if (this.stamp || this.setMask < 0) {
      let h = 0;
      for (let i = start; i < end; i++) if (this.access(task, blocks[i])) h++;
      return h;
    }
    const setMask = this.setMask;
    const setBits = this.setBits;
    const tags = this.tags;
    const meta = this.meta;
    const owner = this.owner;
    const occ = this.occupancyLines;
    const mask = this.masks[task];
    const full = mask === this.fullMask && this.ways === 16;
    const me = task + 1;
    let hits = 0;
    for (let i = start; i < end; i++) {
      const b = blocks[i];
      const set = b & setMask;
      const tag = b >>> setBits;
      const sig = (Math.imul(tag, 0x9e3779b1) >>> 24) | 0x80;
      const mb = set << 3;
      const tb = set << 4;
      let w = findWay(meta, tags, mb, tb, tag, Math.imul(sig, BYTE_ONES));
      if (w >= 0) {
        hits++;
      } else {
        w = full ? meta[mb + 5] >>> 28 : lruWayInMask(meta[mb + 4], meta[mb + 5], mask);
        const line = tb + w;
        const prev = owner[line];
        if (prev !== 0) occ[prev - 1]--;
        owner[line] = me;
        occ[task]++;
        tags[line] = tag;
        const k = mb + (w >> 2);
        const sh = (w & 3) << 3;
        meta[k] = (meta[k] & ~(0xff << sh)) | (sig << sh);
      }
      moveToFront(meta, mb, w);
    }
    this.hits[task] += hits;
    this.misses[task] += end - start - hits;
    return hits;
  }

  private accessPacked(task: number, set: number, tag: number): boolean {
    const meta = this.meta;
    const tb = set * 16;
    const mb = set << 3;
    const sig = (Math.imul(tag, 0x9e3779b1) >>> 24) | 0x80;
    let w = findWay(meta, this.tags, mb, tb, tag, Math.imul(sig, BYTE_ONES));
    const hit = w >= 0;
    if (hit) {
      this.hits[task]++;
    } else {
      this.misses[task]++;
      w = lruWayInMask(meta[mb + 4], meta[mb + 5], this.masks[task]);
      const line = tb + w;
      const prev = this.owner[line];
      if (prev !== 0) this.occupancyLines[prev - 1]--;
      this.owner[line] = task + 1;
      this.occupancyLines[task]++;
      this.tags[line] = tag;
      const k = mb + (w >> 2);
      const sh = (w & 3) << 3;
      meta[k] = (meta[k] & ~(0xff << sh)) | (sig << sh);
    }
    moveToFront(meta, mb, w);
    return hit;
  }

  private accessStamped(task: number, set: number, tag: number): boolean {
    const stamp = this.stamp!;
    const base = set * this.stride;
    const now = this.clock++;
    for (let w = 0; w < this.ways; w++) {
      if (this.tags[base + w] === tag && this.owner[base + w] !== 0) {
        stamp[base + w] = now;
        this.hits[task]++;
        return true;
      }
    }
    this.misses[task]++;
    const mask = this.masks[task];
    let victim = -1;
    let oldest = Infinity;
    for (let w = 0; w < this.ways; w++) {
      if (((mask >>> w) & 1) === 0) continue;
      const s = this.owner[base + w] === 0 ? -1 : stamp[base + w];
      if (s < oldest) {
        oldest = s;
        victim = w;
      }
    }
    const line = base + victim;
    const prev = this.owner[line];
    if (prev !== 0) this.occupancyLines[prev - 1]--;
    this.owner[line] = task + 1;
    this.occupancyLines[task]++;
    this.tags[line] = tag;
    stamp[line] = now;
    return false;
  }

  /** Ways currently holding a line of `task` in `set` (for checks and tests). */
  linesOfTaskInSet(task: number, set: number): number[] {
    const out: number[] = [];
    const base = set * this.stride;
    for (let w = 0; w < this.ways; w++) if (this.owner[base + w] === task + 1) out.push(w);
    return out;
  }

  /** Number of valid lines in a set. */
  validLinesInSet(set: number): number {
    const base = set * this.stride;
    let n = 0;
    for (let w = 0; w < this.ways; w++) if (this.owner[base + w] !== 0) n++;
    return n;
  }
}

/** Way holding `tag` in the set, or -1. Candidates come from the signature bytes; tags confirm. */
function findWay(meta: Int32Array, tags: Int32Array, mb: number, tb: number, tag: number, rep: number): number {
  let y = meta[mb] ^ rep;
  let m = (y - BYTE_ONES) & ~y & BYTE_HIGHS;
  while (m !== 0) {
    const way = (31 - Math.clz32(m & -m)) >> 3;
    if (tags[tb + way] === tag) return way;
    m &= m - 1;
  }
  y = meta[mb + 1] ^ rep;
  m = (y - BYTE_ONES) & ~y & BYTE_HIGHS;
  while (m !== 0) {
    const way = 4 | ((31 - Math.clz32(m & -m)) >> 3);
    if (tags[tb + way] === tag) return way;
    m &= m - 1;
  }
  y = meta[mb + 2] ^ rep;
  m = (y - BYTE_ONES) & ~y & BYTE_HIGHS;
  while (m !== 0) {
    const way = 8 | ((31 - Math.clz32(m & -m)) >> 3);
    if (tags[tb + way] === tag) return way;
    m &= m - 1;
  }
  y = meta[mb + 3] ^ rep;
  m = (y - BYTE_ONES) & ~y & BYTE_HIGHS;
  while (m !== 0) {
    const way = 12 | ((31 - Math.clz32(m & -m)) >> 3);
    if (tags[tb + way] === tag) return way;
    m &= m - 1;
  }
  return -1;
}

/** Least recently used way among those in `mask`, from the packed permutation. */
function lruWayInMask(lo: number, hi: number, mask: number): number {
  for (let p = 7; p >= 0; p--) {
    const way = (hi >>> (p << 2)) & 15;
    if ((mask >>> way) & 1) return way;
  }
  for (let p = 7; p >= 0; p--) {
    const way = (lo >>> (p << 2)) & 15;
    if ((mask >>> way) & 1) return way;
  }
  throw new Error('empty way mask');
}

/** Move way `w` to the MRU position of the set's packed LRU permutation. */
function moveToFront(meta: Int32Array, mb: number, w: number): void {
  const lo = meta[mb + 4];
  const rw = Math.imul(w, NIBBLE_ONES);
  let y = lo ^ rw;
  let m = (y - NIBBLE_ONES) & ~y & NIBBLE_HIGHS;
  if (m !== 0) {
    const p = (31 - Math.clz32(m & -m)) >> 2;
    if (p !== 0) {
      const sh = p << 2;
      const below = lo & ((1 << sh) - 1);
      const above = p === 7 ? 0 : (lo >>> (sh + 4)) << (sh + 4);
      meta[mb + 4] = above | (below << 4) | w;
    }
    return;
  }
  const hi = meta[mb + 5];
  y = hi ^ rw;
  m = (y - NIBBLE_ONES) & ~y & NIBBLE_HIGHS;
  const q = (31 - Math.clz32(m & -m)) >> 2;
  const sh = q << 2;
  const below = q === 0 ? 0 : hi & ((1 << sh) - 1);
  const above = q === 7 ? 0 : (hi >>> (sh + 4)) << (sh + 4);
  meta[mb + 5] = above | (below << 4) | (lo >>> 28);
  meta[mb + 4] = (lo << 4) | w;
}
