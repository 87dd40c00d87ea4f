// What a policy could not do and what it did instead: every allocation
// failure takes a named fallback and is logged here (never silently nothing).
// The log keeps the most recent events and counts all of them.
import type { ResourceKind, TaskId } from '../platform.js';

export type FallbackStrategy = 'quarantine' | 'degrade' | 'retry';

export interface PolicyEvent {
  timeNs: number;
  kind: 'fallback' | 'deferred' | 'refused' | 'floor-unsatisfiable';
  task: TaskId;
  resource?: ResourceKind | 'allocation' | 'warm' | 'echo';
  strategy?: FallbackStrategy;
  detail: string;
}

export class EventLog {
  private readonly ring: PolicyEvent[] = [];
  readonly counts: Record<string, number> = {};

  constructor(private readonly keep = 1000) {}

  push(e: PolicyEvent): void {
    const key = e.strategy ? `${e.kind}:${e.strategy}` : e.kind;
    this.counts[key] = (this.counts[key] ?? 0) + 1;
    this.ring.push(e);
    if (this.ring.length > this.keep) this.ring.splice(0, this.ring.length - this.keep);
  }

  recent(n = this.keep): PolicyEvent[] {
    return this.ring.slice(-n);
  }

  since(timeNs: number): PolicyEvent[] {
    return this.ring.filter((e) => e.timeNs >= timeNs);
  }
}
