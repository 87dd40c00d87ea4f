// One channel's memory controller, cycle by cycle, organised like DRAMsim3's:
//
//   accept  -> read queue / write buffer (transactionQueueSize each)
//   every cycle:
//     1. refresh: every tREFI / ranks cycles the next rank (round-robin) owes a
//        REFRESH; while one is owed, its banks are precharged and the REF is
//        issued as soon as timing allows, and that rank's queues are frozen.
//     2. otherwise the per-bank command queues are visited round-robin from
//        where the last command came from; the scheduler (FR-FCFS) offers a
//        command and the first one offered issues. At most one command a cycle.
//     3. one transaction moves from the read queue (or, while draining, from
//        the write buffer) into its bank's command queue if that has room.
//        Writes drain when the buffer is full, or holds more than
//        writeDrainLowThreshold while every command queue is empty, and stop
//        when the batch is done or a buffered write has a pending older read.
//
// Reads return their data readDelay (CL + burst) cycles after the READ issues;
// writes complete (from the requester's view) one cycle after acceptance; a
// read of an address with a buffered write is served from the buffer.
import type { DramConfig } from './dram-config.js';
import { AddressDecoder } from './address-mapping.js';
import { ChannelState } from './channel-state.js';
import { Cmd, CMD_KINDS, CMD_NAMES, type IssuedCommand } from './dram-command.js';
import { makeScheduler } from './impl/schedulers.js';
import { NO_COMMAND, pickCmd, pickSlot, type CommandScheduler, type QueuedRequests } from './scheduler.js';

/** Counters of one channel. Latency sums are in cycles. */
export interface ChannelStats {
  reads: number;
  writes: number;
  activates: number;
  precharges: number;
  refreshes: number;
  readCommands: number;
  writeCommands: number;
  readRowHits: number;
  writeRowHits: number;
  readLatencySumCycles: number;
  readsReturned: number;
  /** Cycle the last read returned or the last write was acknowledged. */
  lastCompletionCycle: number;
}

export interface CompletionSink {
  /** A read's data returns at `cycle` (called when the READ issues, with the future cycle). */
  readCompleted(requestId: number, acceptedCycle: number, cycle: number): void;
  /** A READ or WRITE command issued for the request (rowHit: the row had served a column command already). */
  columnIssued?(requestId: number, isWrite: boolean, rowHit: boolean, cycle: number): void;
}

const MOVED = 1;
const NOTHING_MOVED = 0;
const BLOCKED_BY_READ = -1;

export class ChannelController {
  readonly state: ChannelState;
  readonly stats: ChannelStats = {
    reads: 0,
    writes: 0,
    activates: 0,
    precharges: 0,
    refreshes: 0,
    readCommands: 0,
    writeCommands: 0,
    readRowHits: 0,
    writeRowHits: 0,
    readLatencySumCycles: 0,
    readsReturned: 0,
    lastCompletionCycle: 0,
  };
  /** When set, every issued command is appended (tests, command traces). */
  commandLog: IssuedCommand[] | null = null;
  sink: CompletionSink | null = null;

  private readonly decoder: AddressDecoder;
  private readonly scheduler: CommandScheduler;
  private readonly queueCap: number;
  private readonly txCap: number;
  private readonly drainLow: number;
  private readonly readDelay: number;
  private readonly refreshIntervalCycles: number;

  // transaction pool (ids recycled through a free list)
  private txAddr = new Float64Array(64);
  private txAccepted = new Float64Array(64);
  private txRequestId = new Float64Array(64);
  private txBank = new Int32Array(64);
  private txRow = new Int32Array(64);
  private txCol = new Int32Array(64);
  private txWrite = new Uint8Array(64);
  private freeTx: number[] = [];
  private nextTx = 0;

  private readonly readQueue: number[] = [];
  private readonly writeBuffer: number[] = [];
  /** address -> ids of accepted reads not yet issued (the first is the queued one). */
  private readonly pendingReads = new Map<number, number[]>();
  /** address -> id of the buffered write. */
  private readonly pendingWrites = new Map<number, number>();
  private writesToDrain = 0;

  // per-bank command queues
  private readonly cqSlots: Int32Array;
  private readonly cqLength: Int32Array;
  private cqTotal = 0;
  /**
   * Per bank, a cycle before which nothing in its queue can issue. Timing
   * limits only ever rise, so the bound stays valid until the bank's state or
   * queue changes (a command to it issues, or a request joins its queue).
   */
  private readonly bankReadyLb: Float64Array;
  private queued!: QueuedRequests;
  private rrIndex = 0;

  // refresh
  private readonly refreshOwed: number[] = [];
  private refreshingRank = -1;
  private nextRefreshRank = 0;

  constructor(
    readonly config: DramConfig,
    readonly channel = 0,
  ) {
    this.state = new ChannelState(config);
    this.decoder = new AddressDecoder(config);
    this.scheduler = makeScheduler(config);
    this.queueCap = config.controller.commandQueueSize;
    this.txCap = config.controller.transactionQueueSize;
    this.drainLow = config.controller.writeDrainLowThreshold;
    this.readDelay = this.state.timing.readDelay;
    this.refreshIntervalCycles = Math.floor(config.timingCycles.tREFI / config.ranks);
    this.cqSlots = new Int32Array(this.state.banks * this.queueCap);
    this.cqLength = new Int32Array(this.state.banks);
    this.bankReadyLb = new Float64Array(this.state.banks);
    this.rebuildView();
  }

  private rebuildView(): void {
    this.queued = { slots: this.cqSlots, length: this.cqLength, capacity: this.queueCap, row: this.txRow, column: this.txCol, isWrite: this.txWrite };
  }

  willAccept(isWrite: boolean): boolean {
    return isWrite ? this.writeBuffer.length < this.txCap : this.readQueue.length < this.txCap;
  }

  /** Accept a request at cycle `now` (the caller checked willAccept). */
  accept(addr: number, isWrite: boolean, now: number, requestId = 0): void {
    if (isWrite) {
      this.stats.writes++;
      if (!this.pendingWrites.has(addr)) {
        const tx = this.newTx(addr, true, now, requestId);
        this.pendingWrites.set(addr, tx);
        this.writeBuffer.push(tx);
      }
      // the requester sees the write done next cycle; merged writes likewise
      this.complete(now + 1);
      return;
    }
    this.stats.reads++;
    if (this.pendingWrites.has(addr)) {
      // forwarded from the write buffer
      this.finishRead(requestId, now, now + 1);
      return;
    }
    const tx = this.newTx(addr, false, now, requestId);
    const same = this.pendingReads.get(addr);
    if (same) {
      same.push(tx); // merged: served by the READ of the first one
    } else {
      this.pendingReads.set(addr, [tx]);
      this.readQueue.push(tx);
    }
  }

  /** True when nothing is queued anywhere (writes may still sit in the buffer). */
  readsOutstanding(): number {
    return this.pendingReads.size;
  }

  /** Requests that must eventually be served are waiting (a few buffered writes may wait for good, as in DRAMsim3). */
  hasPendingService(): boolean {
    return this.readQueue.length > 0 || this.cqTotal > 0 || this.writesToDrain > 0;
  }

  /**
   * Advance one cycle at `now`. Returns true if anything changed (a command
   * issued or a transaction moved to a command queue).
   */
  tick(now: number): boolean {
    if (now > 0 && now % this.refreshIntervalCycles === 0) {
      this.refreshOwed.push(this.nextRefreshRank);
      this.nextRefreshRank = (this.nextRefreshRank + 1) % this.state.ranks;
    }
    let issued = false;
    if (this.refreshOwed.length > 0) issued = this.stepRefresh(now);
    if (!issued) issued = this.issueFromQueues(now);
    const moved = this.scheduleTransaction();
    return issued || moved;
  }

  /**
   * Earliest cycle > now at which tick() could change anything, assuming no
   * new request arrives. Conservative: may return a cycle at which nothing
   * happens after all.
   */
  nextEventCycle(now: number): number {
    let t = this.nextRefreshCycle(now);
    const s = this.state;
    const na = s.nextAllowed;
    if (this.refreshOwed.length > 0) {
      const rank = this.refreshOwed[0];
      const b0 = rank * s.banksPerRank;
      for (let b = b0; b < b0 + s.banksPerRank; b++) {
        const r = s.openRow[b] >= 0 ? na[b * CMD_KINDS + Cmd.Precharge] : na[b * CMD_KINDS + Cmd.Refresh];
        if (r < t) t = r;
      }
    }
    for (let b = 0; b < s.banks; b++) {
      if (this.cqLength[b] === 0) continue;
      let r = this.bankReadyLb[b];
      if (r <= now) r = this.bankLowerBound(b);
      if (r < t) t = r;
    }
    return t > now ? t : now + 1;
  }

  /** Earliest cycle any queued request of `bank` could get its next command. */
  private bankLowerBound(b: number): number {
    const s = this.state;
    const open = s.openRow[b];
    if (open < 0) return s.activateReadyAt(b);
    const na = s.nextAllowed;
    const o = b * CMD_KINDS;
    const n = this.cqLength[b];
    let r = Infinity;
    for (let i = 0; i < n; i++) {
      const tx = this.cqSlots[b * this.queueCap + i];
      const k = this.txRow[tx] === open ? (this.txWrite[tx] ? Cmd.Write : Cmd.Read) : Cmd.Precharge;
      if (na[o + k] < r) r = na[o + k];
    }
    return r;
  }

  private nextRefreshCycle(now: number): number {
    const iv = this.refreshIntervalCycles;
    return (Math.floor(now / iv) + 1) * iv;
  }

  // ---- refresh ----------------------------------------------------------

  private stepRefresh(now: number): boolean {
    const s = this.state;
    const rank = this.refreshOwed[0];
    this.refreshingRank = rank;
    const na = s.nextAllowed;
    const b0 = rank * s.banksPerRank;
    let ready = 0;
    for (let b = b0; b < b0 + s.banksPerRank; b++) {
      if (s.openRow[b] >= 0) {
        if (na[b * CMD_KINDS + Cmd.Precharge] <= now) {
          this.issue(Cmd.Precharge, b, -1, now);
          return true;
        }
      } else if (na[b * CMD_KINDS + Cmd.Refresh] <= now) ready++;
    }
    if (ready < s.banksPerRank) return false;
    s.issueRefresh(rank, now);
    this.stats.refreshes++;
    this.refreshOwed.shift();
    this.refreshingRank = -1;
    if (this.commandLog) this.commandLog.push({ cycle: now, channel: this.channel, kind: 'REF', rank, bankGroup: -1, bank: -1, row: -1 });
    return true;
  }

  // ---- command issue ----------------------------------------------------

  private issueFromQueues(now: number): boolean {
    if (this.cqTotal === 0) return false;
    const s = this.state;
    const nq = s.banks;
    const frozenRank = this.refreshingRank;
    let idx = this.rrIndex;
    for (let i = 0; i < nq; i++) {
      idx = idx + 1 === nq ? 0 : idx + 1;
      if (this.cqLength[idx] === 0 || this.bankReadyLb[idx] > now) continue;
      if (frozenRank >= 0 && s.rankOf(idx) === frozenRank) continue;
      const p = this.scheduler.pick(s, this.queued, idx, now);
      if (p === NO_COMMAND) {
        const lb = this.bankLowerBound(idx);
        this.bankReadyLb[idx] = lb > now ? lb : now + 1;
        continue;
      }
      this.rrIndex = idx;
      const slot = pickSlot(p);
      const cmd = pickCmd(p);
      const tx = this.cqSlots[idx * this.queueCap + slot];
      if (cmd === Cmd.Read || cmd === Cmd.Write) this.removeFromQueue(idx, slot);
      this.issue(cmd, idx, tx, now);
      return true;
    }
    return false;
  }

  private issue(cmd: Cmd, bank: number, tx: number, now: number): void {
    const s = this.state;
    const st = this.stats;
    const row = tx >= 0 ? this.txRow[tx] : -1;
    switch (cmd) {
      case Cmd.Read: {
        st.readCommands++;
        const hit = s.rowHitCount[bank] !== 0;
        if (hit) st.readRowHits++;
        if (this.sink?.columnIssued) this.sink.columnIssued(this.txRequestId[tx], false, hit, now);
        const addr = this.txAddr[tx];
        const done = now + this.readDelay;
        const all = this.pendingReads.get(addr)!;
        this.pendingReads.delete(addr);
        for (const r of all) {
          this.finishRead(this.txRequestId[r], this.txAccepted[r], done);
          this.freeTxId(r);
        }
        break;
      }
      case Cmd.Write: {
        st.writeCommands++;
        const hit = s.rowHitCount[bank] !== 0;
        if (hit) st.writeRowHits++;
        if (this.sink?.columnIssued) this.sink.columnIssued(this.txRequestId[tx], true, hit, now);
        this.pendingWrites.delete(this.txAddr[tx]);
        this.freeTxId(tx);
        break;
      }
      case Cmd.Activate:
        st.activates++;
        break;
      case Cmd.Precharge:
        st.precharges++;
        break;
    }
    if (this.commandLog) {
      this.commandLog.push({ cycle: now, channel: this.channel, kind: CMD_NAMES[cmd], rank: s.rankOf(bank), bankGroup: s.bankGroupOf(bank), bank: bank % s.banksPerGroup, row: cmd === Cmd.Precharge ? -1 : cmd === Cmd.Activate ? row : s.openRow[bank] });
    }
    s.issueBankCommand(cmd, bank, row, now);
    this.bankReadyLb[bank] = 0;
  }

  private finishRead(requestId: number, accepted: number, done: number): void {
    this.stats.readLatencySumCycles += done - accepted;
    this.stats.readsReturned++;
    this.complete(done);
    if (this.sink) this.sink.readCompleted(requestId, accepted, done);
  }

  private complete(cycle: number): void {
    if (cycle > this.stats.lastCompletionCycle) this.stats.lastCompletionCycle = cycle;
  }

  // ---- transaction -> command queue -------------------------------------

  private scheduleTransaction(): boolean {
    const wb = this.writeBuffer;
    if (this.writesToDrain === 0 && (wb.length >= this.txCap || (wb.length > this.drainLow && this.cqTotal === 0))) {
      this.writesToDrain = wb.length;
    }
    if (this.writesToDrain > 0) {
      const r = this.moveOne(wb);
      if (r !== BLOCKED_BY_READ) return r === MOVED;
      // An older read of this address must go first. Stop the batch; with the
      // buffer full the batch would restart at once and starve that read for
      // ever (DRAMsim3 deadlocks here), so let a read move this cycle instead.
      this.writesToDrain = 0;
      if (wb.length < this.txCap) return false;
    }
    return this.moveOne(this.readQueue) === MOVED;
  }

  /** Move the oldest transaction of `queue` whose bank queue has room. */
  private moveOne(queue: number[]): number {
    for (let i = 0; i < queue.length; i++) {
      const tx = queue[i];
      const bank = this.txBank[tx];
      if (this.cqLength[bank] >= this.queueCap) continue;
      if (this.txWrite[tx]) {
        if (this.pendingReads.has(this.txAddr[tx])) return BLOCKED_BY_READ;
        this.writesToDrain--;
      }
      this.cqSlots[bank * this.queueCap + this.cqLength[bank]] = tx;
      this.cqLength[bank]++;
      this.cqTotal++;
      this.bankReadyLb[bank] = 0;
      queue.splice(i, 1);
      return MOVED;
    }
    return NOTHING_MOVED;
  }

  private removeFromQueue(bank: number, slot: number): void {
    const base = bank * this.queueCap;
    const n = this.cqLength[bank];
    for (let j = slot; j < n - 1; j++) this.cqSlots[base + j] = this.cqSlots[base + j + 1];
    this.cqLength[bank] = n - 1;
    this.cqTotal--;
  }

  // ---- transaction pool ---------------------------------------------------

  private newTx(addr: number, isWrite: boolean, now: number, requestId: number): number {
    let tx: number;
    if (this.freeTx.length > 0) tx = this.freeTx.pop()!;
    else {
      tx = this.nextTx++;
      if (tx >= this.txAddr.length) this.growPool();
    }
    this.txAddr[tx] = addr;
    this.txAccepted[tx] = now;
    this.txRequestId[tx] = requestId;
    this.txBank[tx] = this.decoder.flatBank(addr);
    this.txRow[tx] = this.decoder.row(addr);
    this.txCol[tx] = this.decoder.column(addr);
    this.txWrite[tx] = isWrite ? 1 : 0;
    return tx;
  }

  private freeTxId(tx: number): void {
    this.freeTx.push(tx);
  }

  private growPool(): void {
    const n = this.txAddr.length * 2;
    const grow = <T extends Float64Array | Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.txAddr = grow(this.txAddr, (k) => new Float64Array(k));
    this.txAccepted = grow(this.txAccepted, (k) => new Float64Array(k));
    this.txRequestId = grow(this.txRequestId, (k) => new Float64Array(k));
    this.txBank = grow(this.txBank, (k) => new Int32Array(k));
    this.txRow = grow(this.txRow, (k) => new Int32Array(k));
    this.txCol = grow(this.txCol, (k) => new Int32Array(k));
    this.txWrite = grow(this.txWrite, (k) => new Uint8Array(k));
    this.rebuildView();
  }
}
