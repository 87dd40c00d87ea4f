// DRAM commands the controller issues, and the record of one issued command
// (what the timing checker and the tests look at).

export const enum Cmd {
  Read = 0,
  Write = 1,
  Activate = 2,
  Precharge = 3,
  Refresh = 4,
}

export const CMD_KINDS = 5;

export const CMD_NAMES = ['RD', 'WR', 'ACT', 'PRE', 'REF'] as const;
export type CmdName = (typeof CMD_NAMES)[number];

export interface IssuedCommand {
  cycle: number;
  channel: number;
  kind: CmdName;
  rank: number;
  /** -1 for rank-wide commands (REF). */
  bankGroup: number;
  bank: number;
  /** Row opened (ACT) or accessed (RD/WR); -1 otherwise. */
  row: number;
}
