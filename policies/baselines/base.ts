// Scaffolding shared by the static, reactive and percentile baselines: they
// decide how many cores / ways each first-class task holds (reserved and
// active at once: none of them warms ahead), everything else goes to the
// second-class pool, and the same reconciler as the shadow engine turns that
// into legal actions. Floors and the second-class floor mean the same as in
// the shadow engine.
import type { Action, ApplyResult, Capabilities, Policy, ResourceKind, Snapshot, TaskId, TaskSample } from '../platform.js';
import { InputError } from '../../util/errors.js';
import type { ResourceAmounts } from '../config/common.js';
import { buildPartition, type FirstAmounts, type Partition } from '../common/partition.js';
import { reconcile } from '../common/reconcile.js';
import { EventLog } from '../common/events.js';

export interface BaseConfig {
  floors: Record<string, ResourceAmounts>;
  secondClassFloor: ResourceAmounts;
}

export type BaselineResource = 'cores' | 'cacheWays';

export abstract class PartitionPolicy implements Policy {
  protected caps: Capabilities | undefined;
  readonly events = new EventLog();
  protected periodNs: number | undefined;
  protected lastTimeNs: number | undefined;
  /** First-seen second-class settings, restored when a cap is lifted. */
  protected readonly baseline = new Map<TaskId, { mbaPct: number; quotaPct: number; paused: boolean }>();

  constructor(
    readonly name: string,
    protected readonly base: BaseConfig,
  ) {}

  init(capabilities: Capabilities, snapshot: Snapshot): void {
    this.caps = capabilities;
    const firsts = snapshot.tasks.filter((t) => t.class === 'first' && t.state !== 'exited');
    const anySecond = snapshot.tasks.some((t) => t.class === 'second' && t.state !== 'exited');
    for (const r of this.resources()) {
      const need = firsts.reduce((s, t) => s + this.floorOf(t.id, r), 0) + (anySecond ? this.secondFloor(r) : 0);
      if (need > this.capacity(r)) throw new InputError(`floors need ${need} ${r} but the platform has ${this.capacity(r)}`, `policy "${this.name}" field "floors"`);
    }
  }

  /** Resources this baseline partitions (those the platform offers). */
  protected resources(): BaselineResource[] {
    const out: BaselineResource[] = [];
    if (this.caps?.coreIds.length) out.push('cores');
    if (this.caps?.cacheWays) out.push('cacheWays');
    return out;
  }

  protected capacity(r: ResourceKind): number {
    if (r === 'cores') return this.caps!.coreIds.length;
    if (r === 'cacheWays') return this.caps!.cacheWays?.totalWays ?? 0;
    return 0;
  }

  protected floorOf(task: TaskId, r: ResourceKind): number {
    const f = this.base.floors[task]?.[r];
    if (f !== undefined) return f;
    if (r === 'cores') return 1;
    if (r === 'cacheWays') return this.caps!.cacheWays?.minWaysPerMask ?? 0;
    return 0;
  }

  protected secondFloor(r: ResourceKind): number {
    const f = this.base.secondClassFloor[r];
    if (f !== undefined) return f;
    if (r === 'cores') return 1;
    if (r === 'cacheWays') return this.caps!.cacheWays?.minWaysPerMask ?? 0;
    return 0;
  }

  /** Most task may hold of r: capacity minus the other first-class floors and the second-class floor. */
  protected capOf(task: TaskId, r: ResourceKind, firsts: readonly TaskSample[], anySecond: boolean): number {
    let cap = this.capacity(r) - (anySecond ? this.secondFloor(r) : 0);
    for (const f of firsts) if (f.id !== task) cap -= this.floorOf(f.id, r);
    return Math.max(this.floorOf(task, r), cap);
  }

  /** Fit per-task amounts into capacity: floors first, then the rest in id order. */
  protected fit(r: ResourceKind, firsts: readonly TaskSample[], want: ReadonlyMap<TaskId, number>, anySecond: boolean): Map<TaskId, number> {
    let left = this.capacity(r) - (anySecond ? this.secondFloor(r) : 0);
    const out = new Map<TaskId, number>();
    for (const f of firsts) {
      const g = Math.min(left, this.floorOf(f.id, r));
      out.set(f.id, g);
      left -= g;
    }
    for (const f of firsts) {
      const add = Math.max(0, Math.min(left, (want.get(f.id) ?? 0) - out.get(f.id)!));
      out.set(f.id, out.get(f.id)! + add);
      left -= add;
    }
    return out;
  }

  protected abstract amounts(snap: Snapshot, firsts: TaskSample[], seconds: TaskSample[]): Map<TaskId, FirstAmounts>;

  /** Hook: adjust second-class entries (caps, pauses) after the partition. */
  protected adjustSecond(_snap: Snapshot, _part: Partition, _firsts: TaskSample[], _seconds: TaskSample[]): void {}

  decide(snap: Snapshot): Action[] {
    if (!this.caps) throw new Error(`policy "${this.name}": init() must be called before decide()`);
    if (this.periodNs === undefined && snap.windowNs > 0) this.periodNs = snap.windowNs;
    const live = snap.tasks.filter((t) => t.state !== 'exited');
    const firsts = live.filter((t) => t.class === 'first').sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const seconds = live.filter((t) => t.class === 'second').sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const s of seconds) if (!this.baseline.has(s.id)) this.baseline.set(s.id, { mbaPct: s.allocation.memBandwidthPct, quotaPct: s.allocation.cpuQuotaPct, paused: s.allocation.paused });
    const amounts = this.amounts(snap, firsts, seconds);
    const part = buildPartition(this.caps, firsts, seconds, amounts);
    this.adjustSecond(snap, part, firsts, seconds);
    const { actions, deferred } = reconcile(this.caps, snap, { first: [...part.first.values()], second: [...part.second.values()], echoes: [] }, { maxWarmNs: 1, maxEchoNs: 1 }, this.name);
    for (const d of deferred) this.events.push({ timeNs: snap.timeNs, kind: 'deferred', task: d.task, resource: d.resource, strategy: 'retry', detail: d.reason });
    this.lastTimeNs = snap.timeNs;
    return actions;
  }

  onApplied(result: ApplyResult): void {
    for (const r of result.refused) this.events.push({ timeNs: this.lastTimeNs ?? 0, kind: 'refused', task: r.action.task, strategy: 'retry', detail: `${r.action.kind} refused: ${r.reason}` });
  }
}

export const activeOnly = (n: number) => ({ active: n, warm: 0 });
