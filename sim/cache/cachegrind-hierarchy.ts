// cachegrind's I1 + D1 + LL hierarchy (cg_sim.c, cg_main.c of valgrind 3.19):
// instruction fetches go to I1, data accesses to D1; only an I1 or D1 miss
// looks up LL, with the same (addr, size), so a straddling access repeats both
// lines there. No write-back traffic, no back-invalidation. A modify (load and
// store of one address by one instruction) counts as one read.
import type { CacheConfig } from './cache-config.js';
import { CachegrindLruCache } from './lru-cache.js';

/** cachegrind's nine cache events (names as in its `events:` line). */
export interface CachegrindCounts {
  Ir: number;
  I1mr: number;
  ILmr: number;
  Dr: number;
  D1mr: number;
  DLmr: number;
  Dw: number;
  D1mw: number;
  DLmw: number;
}

export const CACHEGRIND_EVENT_NAMES: readonly (keyof CachegrindCounts)[] = ['Ir', 'I1mr', 'ILmr', 'Dr', 'D1mr', 'DLmr', 'Dw', 'D1mw', 'DLmw'];

export interface CacheRefsMisses {
  refs: number;
  misses: number;
}

/** Per-cache totals as `umbra cache-sim` reports them. */
export interface CacheSimSummary {
  I1: CacheRefsMisses;
  D1: CacheRefsMisses;
  LL: CacheRefsMisses;
}

export interface HierarchyConfig {
  I1: CacheConfig;
  D1: CacheConfig;
  LL: CacheConfig;
}

/** Map cachegrind's events to refs/misses per cache (REFERENCE.md's mapping). */
export function summarizeCounts(c: CachegrindCounts): CacheSimSummary {
  return {
    I1: { refs: c.Ir, misses: c.I1mr },
    D1: { refs: c.Dr + c.Dw, misses: c.D1mr + c.D1mw },
    LL: { refs: c.I1mr + c.D1mr + c.D1mw, misses: c.ILmr + c.DLmr + c.DLmw },
  };
}

export class CachegrindHierarchy {
  readonly I1: CachegrindLruCache;
  readonly D1: CachegrindLruCache;
  readonly LL: CachegrindLruCache;
  /**
   * cachegrind caps the size of accesses made by dirty helpers (x87 state,
   * fxsave, ... up to 512 B) at the smallest line size of the three caches, and
   * refuses to run when any ordinary load or store could exceed it; lackey
   * prints the uncapped size. So any data access larger than this is capped.
   */
  readonly maxDataBytes: number;

  Ir = 0;
  I1mr = 0;
  ILmr = 0;
  Dr = 0;
  D1mr = 0;
  DLmr = 0;
  Dw = 0;
  D1mw = 0;
  DLmw = 0;

  constructor(config: HierarchyConfig) {
    this.I1 = new CachegrindLruCache('I1', config.I1);
    this.D1 = new CachegrindLruCache('D1', config.D1);
    this.LL = new CachegrindLruCache('LL', config.LL);
    this.maxDataBytes = Math.min(config.I1.lineBytes, config.D1.lineBytes, config.LL.lineBytes);
  }

  /** Instruction fetch of `sizeBytes` at `addr` (addr < 2^52). */
  instr(addr: number, sizeBytes: number): void {
    // VEX reports 0 for undecodable instructions; cachegrind pretends 1.
    if (sizeBytes === 0) sizeBytes = 1;
    this.Ir++;
    if (this.I1.refIsMiss(addr, sizeBytes)) {
      this.I1mr++;
      if (this.LL.refIsMiss(addr, sizeBytes)) this.ILmr++;
    }
  }

  /** Data read (also used for modify). */
  load(addr: number, sizeBytes: number): void {
    if (sizeBytes > this.maxDataBytes) sizeBytes = this.maxDataBytes;
    this.Dr++;
    if (this.D1.refIsMiss(addr, sizeBytes)) {
      this.D1mr++;
      if (this.LL.refIsMiss(addr, sizeBytes)) this.DLmr++;
    }
  }

  /** Data write: simulated exactly like a read, counted separately. */
  store(addr: number, sizeBytes: number): void {
    if (sizeBytes > this.maxDataBytes) sizeBytes = this.maxDataBytes;
    this.Dw++;
    if (this.D1.refIsMiss(addr, sizeBytes)) {
      this.D1mw++;
      if (this.LL.refIsMiss(addr, sizeBytes)) this.DLmw++;
    }
  }

  /** Load and store of one address by one instruction: one read. */
  modify(addr: number, sizeBytes: number): void {
    this.load(addr, sizeBytes);
  }

  instrBig(addr: bigint, sizeBytes: number): void {
    if (sizeBytes === 0) sizeBytes = 1;
    this.Ir++;
    if (this.I1.refIsMissBig(addr, sizeBytes)) {
      this.I1mr++;
      if (this.LL.refIsMissBig(addr, sizeBytes)) this.ILmr++;
    }
  }

  loadBig(addr: bigint, sizeBytes: number): void {
    if (sizeBytes > this.maxDataBytes) sizeBytes = this.maxDataBytes;
    this.Dr++;
    if (this.D1.refIsMissBig(addr, sizeBytes)) {
      this.D1mr++;
      if (this.LL.refIsMissBig(addr, sizeBytes)) this.DLmr++;
    }
  }

  storeBig(addr: bigint, sizeBytes: number): void {
    if (sizeBytes > this.maxDataBytes) sizeBytes = this.maxDataBytes;
    this.Dw++;
    if (this.D1.refIsMissBig(addr, sizeBytes)) {
      this.D1mw++;
      if (this.LL.refIsMissBig(addr, sizeBytes)) this.DLmw++;
    }
  }

  modifyBig(addr: bigint, sizeBytes: number): void {
    this.loadBig(addr, sizeBytes);
  }

  counts(): CachegrindCounts {
    const { Ir, I1mr, ILmr, Dr, D1mr, DLmr, Dw, D1mw, DLmw } = this;
    return { Ir, I1mr, ILmr, Dr, D1mr, DLmr, Dw, D1mw, DLmw };
  }

  summary(): CacheSimSummary {
    return summarizeCounts(this.counts());
  }
}
