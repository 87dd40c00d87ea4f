// Command-to-command minimum distances derived from the DDR timing
// parameters. When a command is issued to a bank, each entry below raises the
// earliest cycle at which a later command of a given kind may go to a bank in
// the given scope. Data-bus turnarounds are written from where the data bursts
// sit on the bus: a read's data occupies [t+CL, t+CL+burst), a write's
// [t+CWL, t+CWL+burst); whenever the device driving the bus changes (a
// different rank's read, or controller <-> DRAM) a tRTRS bubble is needed.
// Back-to-back writes to different ranks are both driven by the controller and
// need no bubble (DRAMsim3 treats them the same way).
import type { DramTiming } from './dram-config.js';
import { Cmd, CMD_KINDS } from './dram-command.js';

export const enum Scope {
  SameBank = 0,
  SameBankGroup = 1, // other banks of the same bank group
  OtherBankGroups = 2, // banks of the other bank groups of the same rank
  OtherRanks = 3,
  SCOPES = 4,
}

/** delay[issued][scope][later] in cycles; -Infinity where no constraint applies. */
export type TimingTable = Float64Array;

export function timingIndex(issued: Cmd, scope: Scope, later: Cmd): number {
  return (issued * Scope.SCOPES + scope) * CMD_KINDS + later;
}

export interface DerivedTiming {
  table: TimingTable;
  /** Read command to data returned (CL + burst). */
  readDelay: number;
  /** Write command to data written (CWL + burst). */
  writeDelay: number;
  /** REF to the next ACT / REF of the rank. */
  tRFC: number;
  tFAW: number;
}

export function deriveTiming(t: DramTiming, bankGroups: number): DerivedTiming {
  const table = new Float64Array(CMD_KINDS * Scope.SCOPES * CMD_KINDS).fill(-Infinity);
  const set = (issued: Cmd, scope: Scope, later: Cmd, d: number) => {
    table[timingIndex(issued, scope, later)] = d;
  };
  const readDelay = t.tCL + t.tBurst;
  const writeDelay = t.tCWL + t.tBurst;
  // With a single bank group the _L values do not apply.
  const ccdL = bankGroups === 1 ? t.tCCD_S : t.tCCD_L;
  const rrdL = bankGroups === 1 ? t.tRRD_S : t.tRRD_L;
  const wtrL = bankGroups === 1 ? t.tWTR_S : t.tWTR_L;

  const rdToRdL = Math.max(t.tBurst, ccdL);
  const rdToRdS = Math.max(t.tBurst, t.tCCD_S);
  const rdToRdOtherRank = t.tBurst + t.tRTRS; // bursts back to back plus the rank switch bubble
  // Write data may start tRTRS after the read data ends: t' + CWL >= t + CL + burst + tRTRS.
  const rdToWr = t.tCL + t.tBurst + t.tRTRS - t.tCWL;
  // Same rank: the write's data must be in (CWL + burst) and then tWTR elapse before the read.
  const wrToRdL = writeDelay + wtrL;
  const wrToRdS = writeDelay + t.tWTR_S;
  // Other rank: read data may start tRTRS after the write data ends: t' + CL >= t + CWL + burst + tRTRS.
  const wrToRdOtherRank = t.tCWL + t.tBurst + t.tRTRS - t.tCL;
  const wrToWrL = Math.max(t.tBurst, ccdL);
  const wrToWrS = Math.max(t.tBurst, t.tCCD_S);
  const wrToWrOtherRank = t.tBurst; // same driver (the controller): no bubble
  const wrToPre = t.tCWL + t.tBurst + t.tWR;

  // READ
  set(Cmd.Read, Scope.SameBank, Cmd.Read, rdToRdL);
  set(Cmd.Read, Scope.SameBank, Cmd.Write, rdToWr);
  set(Cmd.Read, Scope.SameBank, Cmd.Precharge, t.tRTP);
  set(Cmd.Read, Scope.SameBankGroup, Cmd.Read, rdToRdL);
  set(Cmd.Read, Scope.SameBankGroup, Cmd.Write, rdToWr);
  set(Cmd.Read, Scope.OtherBankGroups, Cmd.Read, rdToRdS);
  set(Cmd.Read, Scope.OtherBankGroups, Cmd.Write, rdToWr);
  set(Cmd.Read, Scope.OtherRanks, Cmd.Read, rdToRdOtherRank);
  set(Cmd.Read, Scope.OtherRanks, Cmd.Write, rdToWr);
  // WRITE
  set(Cmd.Write, Scope.SameBank, Cmd.Read, wrToRdL);
  set(Cmd.Write, Scope.SameBank, Cmd.Write, wrToWrL);
  set(Cmd.Write, Scope.SameBank, Cmd.Precharge, wrToPre);
  set(Cmd.Write, Scope.SameBankGroup, Cmd.Read, wrToRdL);
  set(Cmd.Write, Scope.SameBankGroup, Cmd.Write, wrToWrL);
  set(Cmd.Write, Scope.OtherBankGroups, Cmd.Read, wrToRdS);
  set(Cmd.Write, Scope.OtherBankGroups, Cmd.Write, wrToWrS);
  set(Cmd.Write, Scope.OtherRanks, Cmd.Read, wrToRdOtherRank);
  set(Cmd.Write, Scope.OtherRanks, Cmd.Write, wrToWrOtherRank);
  // ACTIVATE
  set(Cmd.Activate, Scope.SameBank, Cmd.Activate, t.tRC);
  set(Cmd.Activate, Scope.SameBank, Cmd.Read, t.tRCD);
  set(Cmd.Activate, Scope.SameBank, Cmd.Write, t.tRCD);
  set(Cmd.Activate, Scope.SameBank, Cmd.Precharge, t.tRAS);
  set(Cmd.Activate, Scope.SameBankGroup, Cmd.Activate, rrdL);
  set(Cmd.Activate, Scope.OtherBankGroups, Cmd.Activate, t.tRRD_S);
  // PRECHARGE
  set(Cmd.Precharge, Scope.SameBank, Cmd.Activate, t.tRP);
  set(Cmd.Precharge, Scope.SameBank, Cmd.Refresh, t.tRP);
  // REFRESH (rank-wide: applied to every bank of the rank as SameBank)
  set(Cmd.Refresh, Scope.SameBank, Cmd.Activate, t.tRFC);
  set(Cmd.Refresh, Scope.SameBank, Cmd.Refresh, t.tRFC);
  return { table, readDelay, writeDelay, tRFC: t.tRFC, tFAW: t.tFAW };
}
