// A deliberately plain reference of cachegrind's cache model for property
// tests: each set keeps its full history of distinct blocks, most recent
// first, and an access hits iff its block is among the first `ways` of them.
// cachegrind zero-initialises every tag, i.e. block 0 starts out resident in
// set 0; the reference models that as a history of [0] for set 0.
import type { CacheConfig } from '../../sim/cache/cache-config.js';
import type { CachegrindCounts } from '../../sim/cache/cachegrind-hierarchy.js';

export class ReferenceCache {
  private readonly history = new Map<number, number[]>();
  readonly sets: number;
  constructor(readonly config: CacheConfig) {
    this.sets = config.sizeBytes / (config.lineBytes * config.ways);
    this.history.set(0, [0]);
  }

  /** Look one block up; returns true on a miss. */
  lookupBlock(block: number): boolean {
    const set = block % this.sets;
    const h = this.history.get(set) ?? [];
    const hit = h.slice(0, this.config.ways).includes(block);
    this.history.set(set, [block, ...h.filter((b) => b !== block)]);
    return !hit;
  }

  /** An access touching one or two lines: both are looked up; a miss if either missed. */
  access(addr: number, size: number): boolean {
    const first = Math.floor(addr / this.config.lineBytes);
    const last = Math.floor((addr + size - 1) / this.config.lineBytes);
    const misses: boolean[] = [];
    for (let b = first; b <= last; b++) misses.push(this.lookupBlock(b));
    return misses.includes(true);
  }
}

export type Kind = 'I' | 'L' | 'S' | 'M';

export class ReferenceHierarchy {
  readonly I1: ReferenceCache;
  readonly D1: ReferenceCache;
  readonly LL: ReferenceCache;
  readonly counts: CachegrindCounts = { Ir: 0, I1mr: 0, ILmr: 0, Dr: 0, D1mr: 0, DLmr: 0, Dw: 0, D1mw: 0, DLmw: 0 };
  constructor(cfg: { I1: CacheConfig; D1: CacheConfig; LL: CacheConfig }) {
    this.I1 = new ReferenceCache(cfg.I1);
    this.D1 = new ReferenceCache(cfg.D1);
    this.LL = new ReferenceCache(cfg.LL);
  }

  access(kind: Kind, addr: number, size: number): void {
    const c = this.counts;
    if (kind === 'I') {
      c.Ir++;
      if (this.I1.access(addr, size)) {
        c.I1mr++;
        if (this.LL.access(addr, size)) c.ILmr++;
      }
      return;
    }
    const write = kind === 'S';
    if (write) c.Dw++;
    else c.Dr++;
    if (this.D1.access(addr, size)) {
      if (write) c.D1mw++;
      else c.D1mr++;
      if (this.LL.access(addr, size)) {
        if (write) c.DLmw++;
        else c.DLmr++;
      }
    }
  }
}

/** Format accesses as lackey writes them. */
export function lackeyText(events: readonly { kind: Kind; addr: number; size: number }[]): string {
  return events
    .map((e) => (e.kind === 'I' ? `I  ${e.addr.toString(16).padStart(8, '0')},${e.size}` : ` ${e.kind} ${e.addr.toString(16).padStart(8, '0')},${e.size}`))
    .join('\n') + '\n';
}
