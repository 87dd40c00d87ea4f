// All channels of a memory system behind one request interface, ticked
// together. The channel of a request comes from the address mapping.
import type { DramConfig } from './dram-config.js';
import { AddressDecoder } from './address-mapping.js';
import { ChannelController, type ChannelStats, type CompletionSink } from './channel-controller.js';
import type { IssuedCommand } from './dram-command.js';

export class MemorySystem {
  readonly channels: ChannelController[];
  private readonly decoder: AddressDecoder;

  constructor(readonly config: DramConfig) {
    this.decoder = new AddressDecoder(config);
    this.channels = Array.from({ length: config.channels }, (_, ch) => new ChannelController(config, ch));
  }

  channelOf(addr: number): number {
    return this.decoder.channel(addr);
  }

  willAccept(addr: number, isWrite: boolean): boolean {
    return this.channels[this.decoder.channel(addr)].willAccept(isWrite);
  }

  accept(addr: number, isWrite: boolean, now: number, requestId = 0): void {
    this.channels[this.decoder.channel(addr)].accept(addr, isWrite, now, requestId);
  }

  /** Tick every channel at `now`; true if any changed state. */
  tick(now: number): boolean {
    let changed = false;
    for (const c of this.channels) if (c.tick(now)) changed = true;
    return changed;
  }

  nextEventCycle(now: number): number {
    let t = Infinity;
    for (const c of this.channels) {
      const x = c.nextEventCycle(now);
      if (x < t) t = x;
    }
    return t;
  }

  readsOutstanding(): number {
    let n = 0;
    for (const c of this.channels) n += c.readsOutstanding();
    return n;
  }

  hasPendingService(): boolean {
    return this.channels.some((c) => c.hasPendingService());
  }

  setSink(sink: CompletionSink | null): void {
    for (const c of this.channels) c.sink = sink;
  }

  /** Start recording every issued command into `log`. */
  recordCommands(log: IssuedCommand[]): void {
    for (const c of this.channels) c.commandLog = log;
  }

  totals(): ChannelStats {
    const t: ChannelStats = { reads: 0, writes: 0, activates: 0, precharges: 0, refreshes: 0, readCommands: 0, writeCommands: 0, readRowHits: 0, writeRowHits: 0, readLatencySumCycles: 0, readsReturned: 0, lastCompletionCycle: 0 };
    for (const c of this.channels) {
      const s = c.stats;
      for (const k of Object.keys(t) as (keyof ChannelStats)[]) {
        if (k === 'lastCompletionCycle') t[k] = Math.max(t[k], s[k]);
        else t[k] += s[k];
      }
    }
    return t;
  }
}
