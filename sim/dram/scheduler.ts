// A DRAM command scheduler chooses, for one bank's command queue, which queued
// request to serve now and with which command (ACT, PRE, RD or WR). The
// controller visits the bank queues round-robin and issues the first command a
// scheduler offers. Implementations live in ./impl/ and are chosen by name
// from the configuration (`controller.scheduler`).
import type { ChannelState } from './channel-state.js';
import { Cmd } from './dram-command.js';

/** What a scheduler may look at in the queued requests. */
export interface QueuedRequests {
  /** Transaction ids queued for a bank, oldest first: slots[bank * capacity + i], i < length[bank]. */
  readonly slots: Int32Array;
  readonly length: Int32Array;
  readonly capacity: number;
  readonly row: Int32Array;
  readonly column: Int32Array;
  /** 1 for a write. */
  readonly isWrite: Uint8Array;
}

export interface SchedulerParams {
  /** Column commands an open row may serve before an older conflicting request may close it. */
  rowHitCap: number;
}

export interface CommandScheduler {
  readonly name: string;
  /**
   * The command to issue to `bank` at cycle `now`, encoded as slot * 8 + Cmd,
   * or -1 when nothing in the bank's queue can issue now.
   */
  pick(state: ChannelState, q: QueuedRequests, bank: number, now: number): number;
}

export const NO_COMMAND = -1;

export function encodePick(slot: number, cmd: Cmd): number {
  return slot * 8 + cmd;
}
export function pickSlot(p: number): number {
  return p >> 3;
}
export function pickCmd(p: number): Cmd {
  return (p & 7) as Cmd;
}
