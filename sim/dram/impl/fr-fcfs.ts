// First-ready, first-come-first-served with a row-hit cap (as in DRAMsim3):
// walk the bank's queue oldest first and serve the first request whose next
// command is allowed now. A request that needs its row closed (PRE) may do so
// only when it is the oldest in the queue, and only if no younger request
// still hits the open row or the open row has already served `rowHitCap`
// column commands. A write waits behind an older read of the same location.
import type { ChannelState } from '../channel-state.js';
import { Cmd, CMD_KINDS } from '../dram-command.js';
import { encodePick, NO_COMMAND, type CommandScheduler, type QueuedRequests, type SchedulerParams } from '../scheduler.js';

export class FrFcfsScheduler implements CommandScheduler {
  readonly name = 'fr-fcfs';
  constructor(private readonly params: SchedulerParams) {}

  pick(s: ChannelState, q: QueuedRequests, bank: number, now: number): number {
    const n = q.length[bank];
    if (n === 0) return NO_COMMAND;
    const base = bank * q.capacity;
    const open = s.openRow[bank];
    const na = s.nextAllowed;
    const o = bank * CMD_KINDS;
    if (open < 0) {
      // Closed bank: every queued request needs an ACT; the oldest gets it.
      return s.activateReadyAt(bank) <= now ? encodePick(0, Cmd.Activate) : NO_COMMAND;
    }
    const rdOk = na[o + Cmd.Read] <= now;
    const wrOk = na[o + Cmd.Write] <= now;
    const preOk = na[o + Cmd.Precharge] <= now;
    for (let i = 0; i < n; i++) {
      const tx = q.slots[base + i];
      if (q.row[tx] === open) {
        if (q.isWrite[tx]) {
          if (wrOk && !olderReadOfSameColumn(q, base, i, tx)) return encodePick(i, Cmd.Write);
        } else if (rdOk) {
          return encodePick(i, Cmd.Read);
        }
      } else if (preOk && i === 0) {
        if (s.rowHitCount[bank] >= this.params.rowHitCap || !youngerHitExists(q, base, n, open)) return encodePick(0, Cmd.Precharge);
      }
    }
    return NO_COMMAND;
  }
}

function olderReadOfSameColumn(q: QueuedRequests, base: number, i: number, tx: number): boolean {
  for (let j = 0; j < i; j++) {
    const t = q.slots[base + j];
    if (!q.isWrite[t] && q.row[t] === q.row[tx] && q.column[t] === q.column[tx]) return true;
  }
  return false;
}

function youngerHitExists(q: QueuedRequests, base: number, n: number, open: number): boolean {
  for (let j = 1; j < n; j++) if (q.row[q.slots[base + j]] === open) return true;
  return false;
}
