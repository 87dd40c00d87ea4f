// Strict in-order service per bank: only the oldest queued request may issue.
// A baseline against FR-FCFS (no row-hit reordering).
import type { ChannelState } from '../channel-state.js';
import { Cmd, CMD_KINDS } from '../dram-command.js';
import { encodePick, NO_COMMAND, type CommandScheduler, type QueuedRequests } from '../scheduler.js';

export class FcfsScheduler implements CommandScheduler {
  readonly name = 'fcfs';

  pick(s: ChannelState, q: QueuedRequests, bank: number, now: number): number {
    if (q.length[bank] === 0) return NO_COMMAND;
    const tx = q.slots[bank * q.capacity];
    const open = s.openRow[bank];
    if (open < 0) return s.activateReadyAt(bank) <= now ? encodePick(0, Cmd.Activate) : NO_COMMAND;
    if (q.row[tx] !== open) return s.nextAllowed[bank * CMD_KINDS + Cmd.Precharge] <= now ? encodePick(0, Cmd.Precharge) : NO_COMMAND;
    const cmd = q.isWrite[tx] ? Cmd.Write : Cmd.Read;
    return s.nextAllowed[bank * CMD_KINDS + cmd] <= now ? encodePick(0, cmd) : NO_COMMAND;
  }
}
