// Who holds what on the simulated machine, and the rules every action must
// pass (the semantics in policies/platform.ts). An action that breaks a rule is
// refused with the reason and changes nothing; nothing is silently clipped.
import type { Action, ResourceGrant } from '../../policies/platform.js';

export interface TaskAlloc {
  cores: number[];
  /** Explicit CAT mask; 0 = every way not reserved by another task. */
  wayMask: number;
  /** Explicit bank colours; empty = every colour not reserved by another task. */
  colours: number[];
  mbaPct: number;
  ioWeight: number;
  quotaPct: number;
  paused: boolean;
}

export interface TaskReserve {
  cores: Set<number>;
  wayMask: number;
  colours: Set<number>;
  mbaPct: number;
  ioWeight: number;
}

export interface AllocLimits {
  coreCount: number;
  ways: number;
  minWaysPerMask: number;
  colours: number;
  mbaMinPct: number;
  mbaStepPct: number;
  ioWeightMin: number;
  ioWeightMax: number;
  maxWarmNs: number;
  maxEchoNs: number;
}

export class Refusal extends Error {}

/** What an applied action changed, so the platform knows what to recompute. */
export type Change = 'cpu' | 'cache' | 'dram' | 'mba' | 'io' | 'reservation' | 'warm' | 'echo';

export function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

export function isContiguousMask(m: number): boolean {
  if (m === 0) return false;
  const low = m & -m;
  return ((m + low) & m) === 0;
}

export function maskToWays(mask: number): number[] {
  const out: number[] = [];
  for (let w = 0; w < 32; w++) if ((mask >>> w) & 1) out.push(w);
  return out;
}

export class AllocationState {
  readonly alloc: TaskAlloc[];
  readonly reserve: TaskReserve[];
  private readonly indexOf: Map<string, number>;
  readonly fullMask: number;

  constructor(
    readonly limits: AllocLimits,
    readonly ids: string[],
    initial: TaskAlloc[],
  ) {
    this.indexOf = new Map(ids.map((id, i) => [id, i]));
    this.fullMask = limits.ways >= 32 ? -1 : (1 << limits.ways) - 1;
    this.alloc = initial.map((a) => ({ ...a, cores: [...a.cores], colours: [...a.colours] }));
    this.reserve = ids.map(() => ({ cores: new Set<number>(), wayMask: 0, colours: new Set<number>(), mbaPct: 0, ioWeight: 0 }));
    initial.forEach((a, i) => {
      this.checkCores(i, a.cores, 'initial cores');
      if (a.wayMask !== 0) this.checkMask(i, a.wayMask, 'initial ways');
      if (a.colours.length) this.checkColours(i, a.colours, 'initial bank colours');
    });
  }

  index(id: string): number {
    const i = this.indexOf.get(id);
    if (i === undefined) throw new Refusal(`no task "${id}"`);
    return i;
  }

  /** Ways reserved by tasks other than i. */
  private reservedWaysOfOthers(i: number): number {
    let m = 0;
    this.reserve.forEach((r, j) => {
      if (j !== i) m |= r.wayMask;
    });
    return m;
  }

  /** Bumped by every change; derived views are cached against it. */
  private versionCount = 0;
  /** Changes so far: a view derived from the state holds while this is unchanged. */
  get version(): number {
    return this.versionCount;
  }
  private derivedVersion = -1;
  private maskCache: number[] = [];
  private coloursCache: (number[] | null)[] = [];

  private refreshDerived(): void {
    if (this.derivedVersion === this.versionCount) return;
    this.maskCache = this.alloc.map((_, i) => this.computeEffectiveMask(i));
    this.coloursCache = this.alloc.map((_, i) => this.computeEffectiveColours(i));
    this.derivedVersion = this.versionCount;
  }

  /** The ways task i actually fills into. */
  effectiveMask(i: number): number {
    this.refreshDerived();
    return this.maskCache[i];
  }

  /** The bank colours task i's pages may use; null = all of them (shared: do not modify). */
  effectiveColours(i: number): number[] | null {
    this.refreshDerived();
    return this.coloursCache[i];
  }

  private computeEffectiveMask(i: number): number {
    const m = this.alloc[i].wayMask;
    const allowed = this.fullMask & ~this.reservedWaysOfOthers(i);
    return m === 0 ? allowed : m & allowed;
  }

  private computeEffectiveColours(i: number): number[] | null {
    const own = this.alloc[i].colours;
    const othersReserved = new Set<number>();
    this.reserve.forEach((r, j) => {
      if (j !== i) r.colours.forEach((c) => othersReserved.add(c));
    });
    if (own.length === 0) {
      if (othersReserved.size === 0) return null;
      return Array.from({ length: this.limits.colours }, (_, c) => c).filter((c) => !othersReserved.has(c));
    }
    return own.filter((c) => !othersReserved.has(c));
  }

  private checkCores(i: number, cores: number[], what: string): void {
    if (cores.length === 0) throw new Refusal(`${what}: a task needs at least one core`);
    const seen = new Set<number>();
    for (const c of cores) {
      if (!Number.isInteger(c) || c < 0 || c >= this.limits.coreCount) throw new Refusal(`${what}: core ${c} does not exist (cores 0-${this.limits.coreCount - 1})`);
      if (seen.has(c)) throw new Refusal(`${what}: core ${c} listed twice`);
      seen.add(c);
      this.reserve.forEach((r, j) => {
        if (j !== i && r.cores.has(c)) throw new Refusal(`${what}: core ${c} is reserved by ${this.ids[j]}`);
      });
    }
  }

  private checkMask(i: number, mask: number, what: string): void {
    if (!Number.isInteger(mask) || mask <= 0 || (mask & ~this.fullMask) !== 0) throw new Refusal(`${what}: way mask 0x${(mask >>> 0).toString(16)} is not within the ${this.limits.ways} ways`);
    if (!isContiguousMask(mask)) throw new Refusal(`${what}: way mask 0x${mask.toString(16)} is not contiguous (CAT needs contiguous ways)`);
    if (popcount(mask) < this.limits.minWaysPerMask) throw new Refusal(`${what}: way mask 0x${mask.toString(16)} has fewer than ${this.limits.minWaysPerMask} ways`);
    const clash = mask & this.reservedWaysOfOthers(i);
    if (clash) {
      const owner = this.reserve.findIndex((r, j) => j !== i && (r.wayMask & clash) !== 0);
      throw new Refusal(`${what}: way(s) ${maskToWays(clash).join(',')} are reserved by ${this.ids[owner]}`);
    }
  }

  private checkColours(i: number, colours: number[], what: string): void {
    const seen = new Set<number>();
    for (const c of colours) {
      if (!Number.isInteger(c) || c < 0 || c >= this.limits.colours) throw new Refusal(`${what}: bank colour ${c} does not exist (colours 0-${this.limits.colours - 1})`);
      if (seen.has(c)) throw new Refusal(`${what}: bank colour ${c} listed twice`);
      seen.add(c);
      this.reserve.forEach((r, j) => {
        if (j !== i && r.colours.has(c)) throw new Refusal(`${what}: bank colour ${c} is reserved by ${this.ids[j]}`);
      });
    }
  }

  /** Validate and apply one action. Throws Refusal (and changes nothing) when it breaks a rule. */
  apply(a: Action): Change[] {
    try {
      return this.applyUnversioned(a);
    } finally {
      // a refusal changes nothing, but views are cheap to rebuild: never trust one across an attempt
      this.versionCount++;
    }
  }

  private applyUnversioned(a: Action): Change[] {
    const i = this.index(a.task);
    const al = this.alloc[i];
    switch (a.kind) {
      case 'setCores':
      case 'migrate': {
        const cores = [...a.cores].sort((x, y) => x - y);
        this.checkCores(i, cores, a.kind);
        al.cores = cores;
        return ['cpu'];
      }
      case 'setCacheWays':
        this.checkMask(i, a.mask, 'setCacheWays');
        al.wayMask = a.mask;
        return ['cache'];
      case 'setBankColours': {
        const colours = [...a.colours].sort((x, y) => x - y);
        if (colours.length) this.checkColours(i, colours, 'setBankColours');
        al.colours = colours;
        return ['dram'];
      }
      case 'setMemBandwidth': {
        const { mbaMinPct, mbaStepPct } = this.limits;
        if (!(a.pct >= mbaMinPct && a.pct <= 100)) throw new Refusal(`setMemBandwidth: ${a.pct}% is outside [${mbaMinPct}, 100]`);
        if (a.pct !== 100 && Math.abs(a.pct / mbaStepPct - Math.round(a.pct / mbaStepPct)) > 1e-9) throw new Refusal(`setMemBandwidth: ${a.pct}% is not a multiple of the ${mbaStepPct}% MBA step`);
        al.mbaPct = a.pct;
        return ['mba'];
      }
      case 'setIoWeight':
        if (!Number.isInteger(a.weight) || a.weight < this.limits.ioWeightMin || a.weight > this.limits.ioWeightMax) throw new Refusal(`setIoWeight: ${a.weight} is outside [${this.limits.ioWeightMin}, ${this.limits.ioWeightMax}]`);
        al.ioWeight = a.weight;
        return ['io'];
      case 'pause':
        al.paused = true;
        return ['cpu'];
      case 'resume':
        al.paused = false;
        return ['cpu'];
      case 'throttle':
        if (!(a.cpuPct > 0 && a.cpuPct <= 100)) throw new Refusal(`throttle: ${a.cpuPct}% is outside (0, 100]`);
        al.quotaPct = a.cpuPct;
        return ['cpu'];
      case 'reserve':
        return this.applyReserve(i, a.grant);
      case 'release':
        return this.applyRelease(i, a.grant);
      case 'warm': {
        if (!(a.budgetNs > 0 && a.budgetNs <= this.limits.maxWarmNs)) throw new Refusal(`warm: budget ${a.budgetNs} ns is outside (0, ${this.limits.maxWarmNs}]`);
        const r = this.reserve[i];
        const held = a.resource === 'cores' ? r.cores.size : a.resource === 'cacheWays' ? popcount(r.wayMask) : a.resource === 'bankColours' ? r.colours.size : a.resource === 'memBandwidthPct' ? r.mbaPct : r.ioWeight;
        if (!held) throw new Refusal(`warm: ${a.task} has no ${a.resource} reserved to warm`);
        if (a.resource !== 'cores' && a.resource !== 'cacheWays') throw new Refusal(`warm: ${a.resource} cannot be warmed (only cores and cacheWays)`);
        return ['warm'];
      }
      case 'echo':
        if (!(a.durationNs > 0 && a.durationNs <= this.limits.maxEchoNs)) throw new Refusal(`echo: duration ${a.durationNs} ns is outside (0, ${this.limits.maxEchoNs}]`);
        return ['echo'];
    }
  }

  private applyReserve(i: number, g: ResourceGrant): Change[] {
    const r = this.reserve[i];
    switch (g.resource) {
      case 'cores': {
        if (g.cores.length === 0) throw new Refusal('reserve: no cores named');
        for (const c of g.cores) {
          if (!Number.isInteger(c) || c < 0 || c >= this.limits.coreCount) throw new Refusal(`reserve: core ${c} does not exist`);
          this.reserve.forEach((o, j) => {
            if (j !== i && o.cores.has(c)) throw new Refusal(`reserve: core ${c} is already reserved by ${this.ids[j]}`);
          });
          this.alloc.forEach((o, j) => {
            if (j !== i && o.cores.includes(c)) throw new Refusal(`reserve: core ${c} is in the cpuset of ${this.ids[j]} (migrate it first)`);
          });
        }
        g.cores.forEach((c) => r.cores.add(c));
        return ['reservation', 'cpu'];
      }
      case 'cacheWays': {
        const m = g.mask;
        if (!Number.isInteger(m) || m <= 0 || (m & ~this.fullMask) !== 0) throw new Refusal(`reserve: way mask 0x${(m >>> 0).toString(16)} is not within the ${this.limits.ways} ways`);
        const clashR = m & this.reservedWaysOfOthers(i);
        if (clashR) throw new Refusal(`reserve: way(s) ${maskToWays(clashR).join(',')} are already reserved`);
        for (let j = 0; j < this.alloc.length; j++) {
          if (j === i) continue;
          const clash = this.alloc[j].wayMask & m;
          if (clash) throw new Refusal(`reserve: way(s) ${maskToWays(clash).join(',')} are in the mask of ${this.ids[j]} (shrink it first)`);
        }
        r.wayMask |= m;
        return ['reservation', 'cache'];
      }
      case 'bankColours': {
        for (const c of g.colours) {
          if (!Number.isInteger(c) || c < 0 || c >= this.limits.colours) throw new Refusal(`reserve: bank colour ${c} does not exist`);
          this.reserve.forEach((o, j) => {
            if (j !== i && o.colours.has(c)) throw new Refusal(`reserve: bank colour ${c} is already reserved by ${this.ids[j]}`);
          });
          this.alloc.forEach((o, j) => {
            if (j !== i && o.colours.includes(c)) throw new Refusal(`reserve: bank colour ${c} is in use by ${this.ids[j]}`);
          });
        }
        g.colours.forEach((c) => r.colours.add(c));
        return ['reservation', 'dram'];
      }
      case 'memBandwidthPct': {
        const total = this.reserve.reduce((s, o, j) => s + (j === i ? 0 : o.mbaPct), 0);
        if (!(g.pct > 0) || total + r.mbaPct + g.pct > 100) throw new Refusal(`reserve: ${g.pct}% of memory bandwidth on top of ${total + r.mbaPct}% already reserved exceeds 100%`);
        r.mbaPct += g.pct;
        return ['reservation'];
      }
      case 'ioWeight':
        if (!Number.isInteger(g.weight) || g.weight < this.limits.ioWeightMin || g.weight > this.limits.ioWeightMax) throw new Refusal(`reserve: IO weight ${g.weight} is outside [${this.limits.ioWeightMin}, ${this.limits.ioWeightMax}]`);
        r.ioWeight = g.weight;
        return ['reservation'];
    }
  }

  private applyRelease(i: number, g: ResourceGrant): Change[] {
    const r = this.reserve[i];
    const al = this.alloc[i];
    switch (g.resource) {
      case 'cores': {
        for (const c of g.cores) if (!r.cores.has(c)) throw new Refusal(`release: core ${c} is not reserved by ${this.ids[i]}`);
        const left = al.cores.filter((c) => !g.cores.includes(c));
        if (left.length === 0) throw new Refusal(`release: ${this.ids[i]} would be left without a core`);
        g.cores.forEach((c) => r.cores.delete(c));
        al.cores = left;
        return ['reservation', 'cpu'];
      }
      case 'cacheWays': {
        if ((g.mask & ~r.wayMask) !== 0) throw new Refusal(`release: way(s) ${maskToWays(g.mask & ~r.wayMask).join(',')} are not reserved by ${this.ids[i]}`);
        let mask = al.wayMask;
        if (mask !== 0) {
          mask &= ~g.mask;
          if (mask === 0 || !isContiguousMask(mask)) throw new Refusal(`release: taking way(s) ${maskToWays(g.mask).join(',')} out of ${this.ids[i]}'s mask would leave it empty or not contiguous`);
        }
        r.wayMask &= ~g.mask;
        al.wayMask = mask;
        return ['reservation', 'cache'];
      }
      case 'bankColours': {
        for (const c of g.colours) if (!r.colours.has(c)) throw new Refusal(`release: bank colour ${c} is not reserved by ${this.ids[i]}`);
        g.colours.forEach((c) => r.colours.delete(c));
        if (al.colours.length) {
          const left = al.colours.filter((c) => !g.colours.includes(c));
          if (left.length === 0) throw new Refusal(`release: ${this.ids[i]} would be left without a bank colour`);
          al.colours = left;
        }
        return ['reservation', 'dram'];
      }
      case 'memBandwidthPct':
        if (g.pct > r.mbaPct + 1e-9) throw new Refusal(`release: ${g.pct}% is more memory bandwidth than ${this.ids[i]} has reserved (${r.mbaPct}%)`);
        r.mbaPct -= g.pct;
        return ['reservation'];
      case 'ioWeight':
        if (r.ioWeight === 0) throw new Refusal(`release: ${this.ids[i]} has no IO weight reserved`);
        r.ioWeight = 0;
        return ['reservation'];
    }
  }

  private freeCache: { version: number; value: { cores: number[]; cacheWayMask: number; bankColours: number[] } } | null = null;

  /**
   * Units no task holds: not reserved, not in any cpuset / explicit mask /
   * explicit colour set. Frozen and shared until the next change (every
   * snapshot carries it).
   */
  free(): { cores: number[]; cacheWayMask: number; bankColours: number[] } {
    if (!this.freeCache || this.freeCache.version !== this.version) {
      const v = this.computeFree();
      this.freeCache = { version: this.version, value: Object.freeze({ cores: Object.freeze(v.cores) as number[], cacheWayMask: v.cacheWayMask, bankColours: Object.freeze(v.bankColours) as number[] }) };
    }
    return this.freeCache.value;
  }

  private computeFree(): { cores: number[]; cacheWayMask: number; bankColours: number[] } {
    const usedCores = new Set<number>();
    let usedWays = 0;
    const usedColours = new Set<number>();
    this.alloc.forEach((a, i) => {
      a.cores.forEach((c) => usedCores.add(c));
      usedWays |= a.wayMask === 0 ? this.effectiveMask(i) : a.wayMask;
      a.colours.forEach((c) => usedColours.add(c));
    });
    this.reserve.forEach((r) => {
      r.cores.forEach((c) => usedCores.add(c));
      usedWays |= r.wayMask;
      r.colours.forEach((c) => usedColours.add(c));
    });
    return {
      cores: Array.from({ length: this.limits.coreCount }, (_, c) => c).filter((c) => !usedCores.has(c)),
      cacheWayMask: this.fullMask & ~usedWays,
      bankColours: Array.from({ length: this.limits.colours }, (_, c) => c).filter((c) => !usedColours.has(c)),
    };
  }
}
