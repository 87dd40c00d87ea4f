// The simulator's one event heap. Time is integer nanoseconds. Ties are broken
// deterministically: by time, then by priority (lower first), then by the order
// the events were scheduled, so the same schedule always pops in the same order.

export type EventHandler = (timeNs: number) => void;

interface Entry {
  timeNs: number;
  priority: number;
  seq: number;
  handler: EventHandler;
  label: string;
  cancelled: boolean;
}

export interface EventHandle {
  cancel(): void;
  readonly timeNs: number;
}

export class EventQueue {
  private heap: Entry[] = [];
  private seqCounter = 0;
  private nowNs = 0;
  /** Optional log of every event fired: (timeNs, label). Used to check determinism. */
  log: [number, string][] | null = null;

  get now(): number {
    return this.nowNs;
  }

  get size(): number {
    return this.heap.length;
  }

  schedule(timeNs: number, handler: EventHandler, label = '', priority = 0): EventHandle {
    if (!Number.isInteger(timeNs)) throw new Error(`event time must be an integer ns, got ${timeNs} (${label})`);
    if (timeNs < this.nowNs) throw new Error(`cannot schedule "${label}" at ${timeNs} ns, before now (${this.nowNs} ns)`);
    const e: Entry = { timeNs, priority, seq: this.seqCounter++, handler, label, cancelled: false };
    this.push(e);
    return {
      cancel: () => {
        e.cancelled = true;
      },
      timeNs,
    };
  }

  /** Time of the next live event, or Infinity. */
  peekTime(): number {
    while (this.heap.length > 0 && this.heap[0].cancelled) this.pop();
    return this.heap.length > 0 ? this.heap[0].timeNs : Infinity;
  }

  /**
   * Fire the next event if it is due at or before untilNs; returns false (and
   * leaves the clock alone) when there is none. Lets a caller integrate
   * continuous state up to each event before it fires.
   */
  fireNext(untilNs: number): boolean {
    const t = this.peekTime();
    if (t > untilNs) return false;
    const e = this.pop()!;
    this.nowNs = e.timeNs;
    if (this.log) this.log.push([e.timeNs, e.label]);
    e.handler(e.timeNs);
    return true;
  }

  /** Move the clock forward without firing anything (no event may be due before untilNs). */
  advanceClock(untilNs: number): void {
    if (untilNs < this.nowNs) throw new Error(`cannot run back in time to ${untilNs} ns (now ${this.nowNs} ns)`);
    if (this.peekTime() < untilNs) throw new Error(`an event is due at ${this.peekTime()} ns, before ${untilNs} ns`);
    this.nowNs = untilNs;
  }

  /** Fire every event with time <= untilNs, then set the clock to untilNs. */
  runUntil(untilNs: number): void {
    if (untilNs < this.nowNs) throw new Error(`cannot run back in time to ${untilNs} ns (now ${this.nowNs} ns)`);
    for (;;) {
      const t = this.peekTime();
      if (t > untilNs) break;
      const e = this.pop()!;
      this.nowNs = e.timeNs;
      if (this.log) this.log.push([e.timeNs, e.label]);
      e.handler(e.timeNs);
    }
    this.nowNs = untilNs;
  }

  private less(a: Entry, b: Entry): boolean {
    if (a.timeNs !== b.timeNs) return a.timeNs < b.timeNs;
    if (a.priority !== b.priority) return a.priority < b.priority;
    return a.seq < b.seq;
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
