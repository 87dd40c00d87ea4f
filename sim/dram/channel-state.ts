// State of one channel's banks: which row each bank has open, how many column
// commands the open row has served, and for every bank the earliest cycle each
// command kind may issue (raised through the timing table whenever a command
// issues). Plus the per-rank four-activate window.
import type { DramConfig } from './dram-config.js';
import { banksPerRank } from './dram-config.js';
import { Cmd, CMD_KINDS } from './dram-command.js';
import { deriveTiming, Scope, timingIndex, type DerivedTiming } from './timing-table.js';

export class ChannelState {
  readonly ranks: number;
  readonly bankGroups: number;
  readonly banksPerGroup: number;
  readonly banksPerRank: number;
  readonly banks: number;
  readonly timing: DerivedTiming;
  /** Open row per flat bank, -1 when precharged. */
  readonly openRow: Int32Array;
  /** Column commands served by the open row since its activation. */
  readonly rowHitCount: Int32Array;
  /** nextAllowed[bank * CMD_KINDS + cmd]: earliest cycle `cmd` may issue to `bank`. */
  readonly nextAllowed: Float64Array;
  /** Last four ACT cycles per rank (ring), for tFAW. */
  private readonly actRing: Float64Array;
  private readonly actCount: Int32Array;
  private readonly actHead: Int32Array;
  private readonly delays: Float64Array;
  // for each (issued command, scope): the later command kinds it constrains and by how much
  private readonly kindsByCmdScope: Int32Array[] = [];
  private readonly delaysByCmdScope: Float64Array[] = [];

  constructor(config: DramConfig) {
    this.ranks = config.ranks;
    this.bankGroups = config.bankGroups;
    this.banksPerGroup = config.banksPerGroup;
    this.banksPerRank = banksPerRank(config);
    this.banks = this.ranks * this.banksPerRank;
    this.timing = deriveTiming(config.timingCycles, config.bankGroups);
    this.openRow = new Int32Array(this.banks).fill(-1);
    this.rowHitCount = new Int32Array(this.banks);
    this.nextAllowed = new Float64Array(this.banks * CMD_KINDS);
    this.actRing = new Float64Array(this.ranks * 4);
    this.actCount = new Int32Array(this.ranks);
    this.actHead = new Int32Array(this.ranks);
    this.delays = this.timing.table;
    for (let c = 0; c < CMD_KINDS; c++) {
      for (let sc = 0; sc < Scope.SCOPES; sc++) {
        const ks: number[] = [];
        const ds: number[] = [];
        for (let k = 0; k < CMD_KINDS; k++) {
          const d = this.delays[timingIndex(c as Cmd, sc as Scope, k as Cmd)];
          if (d !== -Infinity) {
            ks.push(k);
            ds.push(d);
          }
        }
        this.kindsByCmdScope.push(Int32Array.from(ks));
        this.delaysByCmdScope.push(Float64Array.from(ds));
      }
    }
  }

  rankOf(bank: number): number {
    return (bank / this.banksPerRank) | 0;
  }

  bankGroupOf(bank: number): number {
    return ((bank % this.banksPerRank) / this.banksPerGroup) | 0;
  }

  /** Earliest cycle the four-activate window lets `rank` activate. */
  fawReadyAt(rank: number): number {
    if (this.actCount[rank] < 4) return 0;
    return this.actRing[rank * 4 + this.actHead[rank]] + this.timing.tFAW;
  }

  /** Earliest cycle an ACT may go to `bank` (bank timing and tFAW). */
  activateReadyAt(bank: number): number {
    const t = this.nextAllowed[bank * CMD_KINDS + Cmd.Activate];
    const f = this.fawReadyAt(this.rankOf(bank));
    return t > f ? t : f;
  }

  allBanksClosed(rank: number): boolean {
    const b0 = rank * this.banksPerRank;
    for (let b = b0; b < b0 + this.banksPerRank; b++) if (this.openRow[b] >= 0) return false;
    return true;
  }

  /** Apply a bank command (RD, WR, ACT, PRE) issued at `now`. */
  issueBankCommand(cmd: Cmd, bank: number, row: number, now: number): void {
    switch (cmd) {
      case Cmd.Read:
      case Cmd.Write:
        this.rowHitCount[bank]++;
        break;
      case Cmd.Activate: {
        this.openRow[bank] = row;
        this.rowHitCount[bank] = 0;
        const rank = this.rankOf(bank);
        // ring of the last four ACTs: overwrite the oldest
        const i = (this.actHead[rank] + this.actCount[rank]) % 4;
        if (this.actCount[rank] < 4) {
          this.actRing[rank * 4 + i] = now;
          this.actCount[rank]++;
        } else {
          this.actRing[rank * 4 + this.actHead[rank]] = now;
          this.actHead[rank] = (this.actHead[rank] + 1) % 4;
        }
        break;
      }
      case Cmd.Precharge:
        this.openRow[bank] = -1;
        this.rowHitCount[bank] = 0;
        break;
      default:
        throw new Error(`issueBankCommand: not a bank command (${cmd})`);
    }
    this.raiseTimings(cmd, bank, now);
  }

  /** Rank-wide REFRESH at `now`: every bank of the rank must be precharged. */
  issueRefresh(rank: number, now: number): void {
    const b0 = rank * this.banksPerRank;
    const na = this.nextAllowed;
    const dAct = now + this.delays[timingIndex(Cmd.Refresh, Scope.SameBank, Cmd.Activate)];
    const dRef = now + this.delays[timingIndex(Cmd.Refresh, Scope.SameBank, Cmd.Refresh)];
    for (let b = b0; b < b0 + this.banksPerRank; b++) {
      const o = b * CMD_KINDS;
      if (na[o + Cmd.Activate] < dAct) na[o + Cmd.Activate] = dAct;
      if (na[o + Cmd.Refresh] < dRef) na[o + Cmd.Refresh] = dRef;
    }
  }

  private raiseTimings(cmd: Cmd, bank: number, now: number): void {
    const na = this.nextAllowed;
    const bpr = this.banksPerRank;
    const bpg = this.banksPerGroup;
    const rankBase = ((bank / bpr) | 0) * bpr;
    const groupBase = rankBase + ((((bank - rankBase) / bpg) | 0) * bpg);
    const kinds = this.kindsByCmdScope;
    const dels = this.delaysByCmdScope;
    const c0 = cmd * Scope.SCOPES;
    for (let b = 0; b < this.banks; b++) {
      let scope: number;
      if (b === bank) scope = Scope.SameBank;
      else if (b < rankBase || b >= rankBase + bpr) scope = Scope.OtherRanks;
      else if (b >= groupBase && b < groupBase + bpg) scope = Scope.SameBankGroup;
      else scope = Scope.OtherBankGroups;
      const ks = kinds[c0 + scope];
      const ds = dels[c0 + scope];
      const o = b * CMD_KINDS;
      for (let j = 0; j < ks.length; j++) {
        const t = now + ds[j];
        if (na[o + ks[j]] < t) na[o + ks[j]] = t;
      }
    }
  }
}
