// Trace-driven front end (DRAMsim3's trace CPU): requests are offered in
// trace order, at most one per DRAM cycle, never before the cycle written in
// the trace, and a request the controller refuses (its queue is full) is
// offered again next cycle while everything behind it waits. Cycles in which
// nothing can happen are skipped, which is exact: the controller's state only
// changes when a command issues, a request is accepted or a refresh falls due.
import type { DramConfig } from './dram-config.js';
import { MemorySystem } from './memory-system.js';
import type { IssuedCommand } from './dram-command.js';

export interface RequestBatch {
  /** Byte addresses. */
  addr: Float64Array;
  /** Earliest cycle each request may be issued. */
  cycle: Float64Array;
  /** 1 for a write. */
  isWrite: Uint8Array;
  length: number;
}

export interface ReplayResult {
  /** Cycle the last read returned its data (or the last write was acknowledged). */
  completionCycle: number;
  /** Mean over reads of (data returned - accepted), cycles. */
  avgReadLatencyCycles: number;
  activates: number;
  readRowHits: number;
  writeRowHits: number;
  reads: number;
  writes: number;
}

export class TraceReplayer {
  readonly memory: MemorySystem;
  private now = 0;
  private finished = false;

  constructor(readonly config: DramConfig) {
    this.memory = new MemorySystem(config);
  }

  recordCommands(log: IssuedCommand[]): void {
    this.memory.recordCommands(log);
  }

  /** Replay the requests of one batch; returns once all of them are accepted. */
  feed(batch: RequestBatch): void {
    if (this.finished) throw new Error('TraceReplayer: feed() after finish()');
    const mem = this.memory;
    let i = 0;
    let now = this.now;
    while (i < batch.length) {
      let added = false;
      const addr = batch.addr[i];
      const w = batch.isWrite[i] === 1;
      if (batch.cycle[i] <= now && mem.willAccept(addr, w)) {
        mem.accept(addr, w, now);
        i++;
        added = true;
      }
      const changed = mem.tick(now);
      if (added || changed || i === batch.length) {
        this.lastChangeCycle = now;
        now++;
      } else {
        // Nothing happened: jump to the next cycle anything can.
        let t = mem.nextEventCycle(now);
        const c = batch.cycle[i];
        if (c > now && c < t) t = c;
        now = this.checkProgress(now, t);
      }
    }
    this.now = now;
  }

  private lastChangeCycle = 0;

  /** Guard against a scheduling livelock: work waits but nothing has issued for a long time. */
  private checkProgress(now: number, next: number): number {
    if (now - this.lastChangeCycle > this.stallLimitCycles && this.memory.hasPendingService()) {
      throw new Error(`DRAM controller made no progress for ${now - this.lastChangeCycle} cycles with requests waiting (cycle ${now})`);
    }
    return next;
  }

  private get stallLimitCycles(): number {
    return 100 * this.config.timingCycles.tREFI;
  }

  /** Run until every read has returned; then report. */
  finish(): ReplayResult {
    const mem = this.memory;
    let now = this.now;
    if (!this.finished) {
      this.finished = true;
      // until the last read has issued...
      while (mem.readsOutstanding() > 0) {
        if (mem.tick(now)) {
          this.lastChangeCycle = now;
          now++;
        } else now = this.checkProgress(now, mem.nextEventCycle(now));
      }
      // ...and through the cycle its data returns (commands issued meanwhile count).
      const end = mem.totals().lastCompletionCycle;
      while (now <= end) {
        const next = mem.tick(now) ? now + 1 : mem.nextEventCycle(now);
        now = next;
      }
      this.now = now;
    }
    const t = mem.totals();
    return {
      completionCycle: t.lastCompletionCycle,
      avgReadLatencyCycles: t.readsReturned > 0 ? t.readLatencySumCycles / t.readsReturned : 0,
      activates: t.activates,
      readRowHits: t.readRowHits,
      writeRowHits: t.writeRowHits,
      reads: t.reads,
      writes: t.writes,
    };
  }
}

/** Replay an in-memory trace. */
export function replayRequests(config: DramConfig, batch: RequestBatch, commandLog?: IssuedCommand[]): ReplayResult {
  const r = new TraceReplayer(config);
  if (commandLog) r.recordCommands(commandLog);
  r.feed(batch);
  return r.finish();
}

/** Replay batches as they arrive (e.g. streamed from a file). */
export async function replayStream(config: DramConfig, batches: AsyncIterable<RequestBatch>, commandLog?: IssuedCommand[]): Promise<ReplayResult> {
  const r = new TraceReplayer(config);
  if (commandLog) r.recordCommands(commandLog);
  for await (const b of batches) r.feed(b);
  return r.finish();
}
