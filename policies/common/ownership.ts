// The ownership rules of policies/platform.ts (header comment), as a model the
// reconciler steps through while it builds a batch: every action it emits has
// passed these checks against the state the earlier actions of the same batch
// leave behind, so a platform implementing the same rules refuses nothing.
//
// Conventions (as in the contract): a way mask of 0 and an empty colour list
// mean "unrestricted" (every unit nobody else reserved); a reserved unit may
// not be in any other task's cpuset / explicit mask / explicit colours, and a
// unit may not be reserved while another task holds it. Bandwidth
// reservations add up to at most 100%; an IO weight reservation is a level.
import type { Action, Capabilities, ResourceGrant, Snapshot, TaskId } from '../platform.js';
import { fullMask, isContiguous, popcount } from './masks.js';

export interface OwnedState {
  cores: number[];
  mask: number;
  colours: number[];
  mbaPct: number;
  ioWeight: number;
  quotaPct: number;
  paused: boolean;
  rCores: Set<number>;
  rMask: number;
  rColours: Set<number>;
  rMbaPct: number;
  rIoWeight: number;
}

export interface OwnershipLimits {
  /** Largest warm budget / echo duration the policy will ask for (the platform's bound is not in Capabilities). */
  maxWarmNs: number;
  maxEchoNs: number;
}

export class OwnershipModel {
  readonly tasks = new Map<TaskId, OwnedState>();
  private readonly coreSet: Set<number>;
  private readonly allWays: number;
  /** Indexes kept in step with every apply(), so checks do not scan every task. */
  private readonly coreOwner = new Map<number, TaskId>();
  private readonly colourOwner = new Map<number, TaskId>();
  /** How many tasks' cpusets / explicit colour sets include each unit. */
  private readonly coreUsers = new Map<number, number>();
  private readonly colourUsers = new Map<number, number>();
  private reservedWays = 0;
  /** OR of every task's explicit way mask, and per way how many masks include it. */
  private readonly wayUsers = new Int32Array(32);

  constructor(
    private readonly caps: Capabilities,
    snapshot: Snapshot,
    private readonly limits: OwnershipLimits,
  ) {
    this.coreSet = new Set(caps.coreIds);
    this.allWays = caps.cacheWays ? fullMask(caps.cacheWays.totalWays) : 0;
    for (const t of snapshot.tasks) {
      if (t.state === 'exited') continue;
      this.tasks.set(t.id, {
        cores: [...t.allocation.cores],
        mask: t.allocation.cacheWayMask,
        colours: [...t.allocation.bankColours],
        mbaPct: t.allocation.memBandwidthPct,
        ioWeight: t.allocation.ioWeight,
        quotaPct: t.allocation.cpuQuotaPct,
        paused: t.allocation.paused,
        rCores: new Set(t.reserved?.cores ?? []),
        rMask: t.reserved?.cacheWayMask ?? 0,
        rColours: new Set(t.reserved?.bankColours ?? []),
        rMbaPct: t.reserved?.memBandwidthPct ?? 0,
        rIoWeight: t.reserved?.ioWeight ?? 0,
      });
    }
    for (const [id, t] of this.tasks) {
      t.rCores.forEach((c) => this.coreOwner.set(c, id));
      t.rColours.forEach((c) => this.colourOwner.set(c, id));
      this.reservedWays = (this.reservedWays | t.rMask) >>> 0;
      this.count(this.coreUsers, t.cores, 1);
      this.count(this.colourUsers, t.colours, 1);
      this.countWays(t.mask, 1);
    }
  }

  private count(m: Map<number, number>, units: readonly number[], d: number): void {
    for (const u of units) m.set(u, (m.get(u) ?? 0) + d);
  }

  private countWays(mask: number, d: number): void {
    for (let w = 0; w < 32; w++) if ((mask >>> w) & 1) this.wayUsers[w] += d;
  }

  /** Does a task other than `task` have unit u in its cpuset? */
  private coreUsedByOther(task: TaskId, u: number): boolean {
    const n = this.coreUsers.get(u) ?? 0;
    return n - (this.tasks.get(task)!.cores.includes(u) ? 1 : 0) > 0;
  }

  private colourUsedByOther(task: TaskId, u: number): boolean {
    const n = this.colourUsers.get(u) ?? 0;
    return n - (this.tasks.get(task)!.colours.includes(u) ? 1 : 0) > 0;
  }

  private waysUsedByOthers(task: TaskId, mask: number): boolean {
    const own = this.tasks.get(task)!.mask;
    for (let w = 0; w < 32; w++) if ((mask >>> w) & 1 && this.wayUsers[w] - ((own >>> w) & 1) > 0) return true;
    return false;
  }

  get(task: TaskId): OwnedState | undefined {
    return this.tasks.get(task);
  }

  /** Cores reserved by tasks other than `task`. */
  coresReservedByOthers(task: TaskId): Set<number> {
    const s = new Set<number>();
    for (const [c, id] of this.coreOwner) if (id !== task) s.add(c);
    return s;
  }

  waysReservedByOthers(task: TaskId): number {
    const own = this.tasks.get(task)?.rMask ?? 0;
    return (this.reservedWays & ~own) >>> 0;
  }

  coloursReservedByOthers(task: TaskId): Set<number> {
    const s = new Set<number>();
    for (const [c, id] of this.colourOwner) if (id !== task) s.add(c);
    return s;
  }

  private coreReservedByOther(task: TaskId, c: number): boolean {
    const o = this.coreOwner.get(c);
    return o !== undefined && o !== task;
  }

  private colourReservedByOther(task: TaskId, c: number): boolean {
    const o = this.colourOwner.get(c);
    return o !== undefined && o !== task;
  }

  private reservedMbaTotal(): number {
    let s = 0;
    for (const t of this.tasks.values()) s += t.rMbaPct;
    return s;
  }

  /** Why `a` would be refused now, or null when it is legal. */
  check(a: Action): string | null {
    const t = this.tasks.get(a.task);
    if (!t) return `no task "${a.task}"`;
    switch (a.kind) {
      case 'setCores':
      case 'migrate': {
        if (a.cores.length === 0) return 'empty cpuset';
        if (new Set(a.cores).size !== a.cores.length) return 'core listed twice';
        for (const c of a.cores) {
          if (!this.coreSet.has(c)) return `core ${c} does not exist`;
          if (this.coreReservedByOther(a.task, c)) return `core ${c} is reserved by another task`;
        }
        return null;
      }
      case 'setCacheWays': {
        const w = this.caps.cacheWays;
        if (!w) return 'no cache way partitioning';
        if (!isContiguous(a.mask) || (a.mask & ~this.allWays) !== 0) return 'mask not contiguous or out of range';
        if (popcount(a.mask) < w.minWaysPerMask) return 'mask below the minimum ways';
        if (a.mask & this.waysReservedByOthers(a.task)) return 'ways reserved by another task';
        return null;
      }
      case 'setBankColours': {
        const bc = this.caps.bankColours;
        if (!bc) return 'no bank colours';
        if (new Set(a.colours).size !== a.colours.length) return 'colour listed twice';
        for (const c of a.colours) {
          if (!(Number.isInteger(c) && c >= 0 && c < bc.count)) return `colour ${c} does not exist`;
          if (this.colourReservedByOther(a.task, c)) return `colour ${c} is reserved by another task`;
        }
        return null;
      }
      case 'setMemBandwidth': {
        const mb = this.caps.memBandwidth;
        if (!mb) return 'no memory bandwidth allocation';
        if (!(a.pct >= mb.minPct && a.pct <= 100)) return 'bandwidth cap out of range';
        if (a.pct !== 100 && Math.abs(a.pct / mb.stepPct - Math.round(a.pct / mb.stepPct)) > 1e-9) return 'bandwidth cap not on the MBA step';
        return null;
      }
      case 'setIoWeight': {
        const io = this.caps.ioWeight;
        if (!io) return 'no IO weight';
        if (!(Number.isInteger(a.weight) && a.weight >= io.min && a.weight <= io.max)) return 'IO weight out of range';
        return null;
      }
      case 'pause':
      case 'resume':
        return this.caps.freezer ? null : 'no freezer';
      case 'throttle':
        if (!this.caps.throttle) return 'no CPU quota';
        return a.cpuPct > 0 && a.cpuPct <= 100 ? null : 'quota out of range';
      case 'reserve':
        return this.checkReserve(a.task, t, a.grant);
      case 'release':
        return this.checkRelease(t, a.grant);
      case 'warm': {
        if (!this.caps.warm) return 'platform cannot warm';
        if (!(a.budgetNs > 0 && a.budgetNs <= this.limits.maxWarmNs)) return 'warm budget out of range';
        if (a.resource === 'cores') return t.rCores.size > 0 ? null : 'no cores reserved to warm';
        if (a.resource === 'cacheWays') return t.rMask !== 0 ? null : 'no ways reserved to warm';
        return 'only cores and cache ways can be warmed';
      }
      case 'echo':
        if (!this.caps.echo) return 'platform cannot echo';
        return a.durationNs > 0 && a.durationNs <= this.limits.maxEchoNs ? null : 'echo duration out of range';
    }
  }

  private checkReserve(task: TaskId, t: OwnedState, g: ResourceGrant): string | null {
    switch (g.resource) {
      case 'cores': {
        if (g.cores.length === 0) return 'no cores named';
        for (const c of g.cores) {
          if (!this.coreSet.has(c)) return `core ${c} does not exist`;
          if (this.coreReservedByOther(task, c)) return `core ${c} reserved by another task`;
          if (this.coreUsedByOther(task, c)) return `core ${c} is in another task's cpuset`;
        }
        return null;
      }
      case 'cacheWays': {
        if (!this.caps.cacheWays) return 'no cache way partitioning';
        if (g.mask <= 0 || (g.mask & ~this.allWays) !== 0) return 'way mask out of range';
        if (g.mask & this.waysReservedByOthers(task)) return 'ways reserved by another task';
        if (this.waysUsedByOthers(task, g.mask)) return "ways in another task's mask";
        return null;
      }
      case 'bankColours': {
        const bc = this.caps.bankColours;
        if (!bc) return 'no bank colours';
        if (g.colours.length === 0) return 'no colours named';
        for (const c of g.colours) {
          if (!(Number.isInteger(c) && c >= 0 && c < bc.count)) return `colour ${c} does not exist`;
          if (this.colourReservedByOther(task, c)) return `colour ${c} reserved by another task`;
          if (this.colourUsedByOther(task, c)) return `colour ${c} in use by another task`;
        }
        return null;
      }
      case 'memBandwidthPct':
        if (!this.caps.memBandwidth) return 'no memory bandwidth allocation';
        if (!(g.pct > 0)) return 'non-positive bandwidth';
        return this.reservedMbaTotal() + g.pct <= 100 + 1e-9 ? null : 'reserved bandwidth would exceed 100%';
      case 'ioWeight': {
        const io = this.caps.ioWeight;
        if (!io) return 'no IO weight';
        return Number.isInteger(g.weight) && g.weight >= io.min && g.weight <= io.max ? null : 'IO weight out of range';
      }
    }
    void t;
  }

  private checkRelease(t: OwnedState, g: ResourceGrant): string | null {
    switch (g.resource) {
      case 'cores': {
        if (g.cores.length === 0) return 'no cores named';
        for (const c of g.cores) if (!t.rCores.has(c)) return `core ${c} not reserved by the task`;
        return t.cores.some((c) => !g.cores.includes(c)) ? null : 'task would be left without a core';
      }
      case 'cacheWays': {
        if (g.mask === 0 || (g.mask & ~t.rMask) !== 0) return 'ways not reserved by the task';
        if (t.mask !== 0) {
          const left = t.mask & ~g.mask;
          if (left === 0 || !isContiguous(left)) return 'mask would be left empty or not contiguous';
        }
        return null;
      }
      case 'bankColours': {
        if (g.colours.length === 0) return 'no colours named';
        for (const c of g.colours) if (!t.rColours.has(c)) return `colour ${c} not reserved by the task`;
        if (t.colours.length && t.colours.every((c) => g.colours.includes(c))) return 'task would be left without a colour';
        return null;
      }
      case 'memBandwidthPct':
        return g.pct > 0 && g.pct <= t.rMbaPct + 1e-9 ? null : 'more bandwidth than reserved';
      case 'ioWeight':
        return t.rIoWeight > 0 ? null : 'no IO weight reserved';
    }
  }

  /** Apply a checked action to the model. */
  apply(a: Action): void {
    const t = this.tasks.get(a.task)!;
    switch (a.kind) {
      case 'setCores':
      case 'migrate':
        this.count(this.coreUsers, t.cores, -1);
        t.cores = [...a.cores];
        this.count(this.coreUsers, t.cores, 1);
        return;
      case 'setCacheWays':
        this.countWays(t.mask, -1);
        t.mask = a.mask;
        this.countWays(t.mask, 1);
        return;
      case 'setBankColours':
        this.count(this.colourUsers, t.colours, -1);
        t.colours = [...a.colours];
        this.count(this.colourUsers, t.colours, 1);
        return;
      case 'setMemBandwidth':
        t.mbaPct = a.pct;
        return;
      case 'setIoWeight':
        t.ioWeight = a.weight;
        return;
      case 'pause':
        t.paused = true;
        return;
      case 'resume':
        t.paused = false;
        return;
      case 'throttle':
        t.quotaPct = a.cpuPct;
        return;
      case 'reserve': {
        const g = a.grant;
        if (g.resource === 'cores')
          g.cores.forEach((c) => {
            t.rCores.add(c);
            this.coreOwner.set(c, a.task);
          });
        else if (g.resource === 'cacheWays') {
          t.rMask = (t.rMask | g.mask) >>> 0;
          this.reservedWays = (this.reservedWays | g.mask) >>> 0;
        } else if (g.resource === 'bankColours')
          g.colours.forEach((c) => {
            t.rColours.add(c);
            this.colourOwner.set(c, a.task);
          });
        else if (g.resource === 'memBandwidthPct') t.rMbaPct += g.pct;
        else t.rIoWeight = g.weight;
        return;
      }
      case 'release': {
        const g = a.grant;
        if (g.resource === 'cores') {
          g.cores.forEach((c) => {
            t.rCores.delete(c);
            this.coreOwner.delete(c);
          });
          this.count(this.coreUsers, t.cores, -1);
          t.cores = t.cores.filter((c) => !g.cores.includes(c));
          this.count(this.coreUsers, t.cores, 1);
        } else if (g.resource === 'cacheWays') {
          t.rMask = (t.rMask & ~g.mask) >>> 0;
          this.reservedWays = (this.reservedWays & ~g.mask) >>> 0;
          if (t.mask !== 0) {
            this.countWays(t.mask, -1);
            t.mask = (t.mask & ~g.mask) >>> 0;
            this.countWays(t.mask, 1);
          }
        } else if (g.resource === 'bankColours') {
          g.colours.forEach((c) => {
            t.rColours.delete(c);
            this.colourOwner.delete(c);
          });
          if (t.colours.length) {
            this.count(this.colourUsers, t.colours, -1);
            t.colours = t.colours.filter((c) => !g.colours.includes(c));
            this.count(this.colourUsers, t.colours, 1);
          }
        } else if (g.resource === 'memBandwidthPct') t.rMbaPct = Math.max(0, t.rMbaPct - g.pct);
        else t.rIoWeight = 0;
        return;
      }
      case 'warm':
      case 'echo':
        return;
    }
  }
}
