// An independent checker of a DRAM command log against the DDR timing rules,
// written from the JEDEC-style parameter list (not from the controller's
// timing table): bank state, per-bank, per-bank-group, per-rank and
// four-activate-window limits, read/write turnarounds, refresh, one command
// per cycle per channel, and the data bus (bursts never overlap; a change of
// the device driving the bus - another rank's read, or controller <-> DRAM -
// leaves a tRTRS gap). Returns the violations found (empty when all hold).
import type { DramConfig } from '../../sim/dram/dram-config.js';
import type { IssuedCommand } from '../../sim/dram/dram-command.js';

interface BankHistory {
  open: number; // row, -1 closed
  lastAct: number;
  lastPre: number;
  lastRd: number;
  lastWr: number;
}

interface Burst {
  start: number;
  end: number;
  driver: string; // 'ctrl' for writes, 'rank<r>' for reads
  cmd: IssuedCommand;
}

const NEVER = -1e18;

export function checkTiming(config: DramConfig, log: readonly IssuedCommand[]): string[] {
  const t = config.timingCycles;
  const errors: string[] = [];
  const fail = (c: IssuedCommand, what: string) => {
    if (errors.length < 20) errors.push(`cycle ${c.cycle} ch${c.channel} ${c.kind} r${c.rank} bg${c.bankGroup} b${c.bank}: ${what}`);
  };
  const singleGroup = config.bankGroups === 1;
  const ccdL = singleGroup ? t.tCCD_S : t.tCCD_L;
  const rrdL = singleGroup ? t.tRRD_S : t.tRRD_L;
  const wtrL = singleGroup ? t.tWTR_S : t.tWTR_L;

  for (let ch = 0; ch < config.channels; ch++) {
    const cmds = log.filter((c) => c.channel === ch);
    for (let i = 1; i < cmds.length; i++) {
      if (cmds[i].cycle < cmds[i - 1].cycle) fail(cmds[i], 'log not in cycle order');
      if (cmds[i].cycle === cmds[i - 1].cycle) fail(cmds[i], 'two commands in one cycle');
    }
    const banks = new Map<string, BankHistory>();
    const bank = (r: number, g: number, b: number): BankHistory => {
      const k = `${r}.${g}.${b}`;
      let h = banks.get(k);
      if (!h) {
        h = { open: -1, lastAct: NEVER, lastPre: NEVER, lastRd: NEVER, lastWr: NEVER };
        banks.set(k, h);
      }
      return h;
    };
    const rankActs = new Map<number, { cycle: number; group: number }[]>();
    const rankRef = new Map<number, number>();
    // last column command per rank and per (rank, group)
    const lastRdRank = new Map<number, number>();
    const lastWrRank = new Map<number, number>();
    const lastRdGroup = new Map<string, number>();
    const lastWrGroup = new Map<string, number>();
    const bursts: Burst[] = [];
    for (const c of cmds) {
      const now = c.cycle;
      if (c.kind === 'REF') {
        for (let g = 0; g < config.bankGroups; g++) {
          for (let b = 0; b < config.banksPerGroup; b++) {
            const h = bank(c.rank, g, b);
            if (h.open >= 0) fail(c, `bank bg${g} b${b} still open`);
            if (now - h.lastPre < t.tRP) fail(c, `PRE of bg${g} b${b} ${now - h.lastPre} ago < tRP ${t.tRP}`);
          }
        }
        const prev = rankRef.get(c.rank);
        if (prev !== undefined && now - prev < t.tRFC) fail(c, `REF ${now - prev} after REF < tRFC`);
        rankRef.set(c.rank, now);
        continue;
      }
      const h = bank(c.rank, c.bankGroup, c.bank);
      const refAt = rankRef.get(c.rank);
      switch (c.kind) {
        case 'ACT': {
          if (h.open >= 0) fail(c, 'ACT to an open bank');
          if (now - h.lastAct < t.tRC) fail(c, `ACT ${now - h.lastAct} after ACT < tRC ${t.tRC}`);
          if (now - h.lastPre < t.tRP) fail(c, `ACT ${now - h.lastPre} after PRE < tRP ${t.tRP}`);
          if (refAt !== undefined && now - refAt < t.tRFC) fail(c, `ACT ${now - refAt} after REF < tRFC ${t.tRFC}`);
          const acts = rankActs.get(c.rank) ?? [];
          for (const a of acts) {
            const gap = now - a.cycle;
            const need = a.group === c.bankGroup ? rrdL : t.tRRD_S;
            if (gap < need) fail(c, `ACT ${gap} after an ACT in the rank < tRRD ${need}`);
          }
          if (acts.length >= 4 && now - acts[acts.length - 4].cycle < t.tFAW) fail(c, `fifth ACT within tFAW (${now - acts[acts.length - 4].cycle} < ${t.tFAW})`);
          acts.push({ cycle: now, group: c.bankGroup });
          if (acts.length > 8) acts.shift();
          rankActs.set(c.rank, acts);
          h.open = c.row;
          h.lastAct = now;
          break;
        }
        case 'PRE': {
          if (h.open < 0) fail(c, 'PRE to a closed bank');
          if (now - h.lastAct < t.tRAS) fail(c, `PRE ${now - h.lastAct} after ACT < tRAS ${t.tRAS}`);
          if (now - h.lastRd < t.tRTP) fail(c, `PRE ${now - h.lastRd} after RD < tRTP ${t.tRTP}`);
          const wrRecovery = t.tCWL + t.tBurst + t.tWR;
          if (now - h.lastWr < wrRecovery) fail(c, `PRE ${now - h.lastWr} after WR < CWL+BL+tWR ${wrRecovery}`);
          h.open = -1;
          h.lastPre = now;
          break;
        }
        case 'RD':
        case 'WR': {
          const isRead = c.kind === 'RD';
          if (h.open < 0) fail(c, `${c.kind} to a closed bank`);
          else if (h.open !== c.row) fail(c, `${c.kind} to row ${c.row} but row ${h.open} is open`);
          if (now - h.lastAct < t.tRCD) fail(c, `${c.kind} ${now - h.lastAct} after ACT < tRCD ${t.tRCD}`);
          const gk = `${c.rank}.${c.bankGroup}`;
          // same-kind spacing: tCCD_L in the bank group, tCCD_S in the rank, and never closer than a burst
          const sameGroup = isRead ? lastRdGroup.get(gk) : lastWrGroup.get(gk);
          const sameRank = isRead ? lastRdRank.get(c.rank) : lastWrRank.get(c.rank);
          if (sameGroup !== undefined && now - sameGroup < Math.max(ccdL, t.tBurst)) fail(c, `${c.kind} ${now - sameGroup} after ${c.kind} in the bank group < tCCD_L`);
          if (sameRank !== undefined && now - sameRank < Math.max(t.tCCD_S, t.tBurst)) fail(c, `${c.kind} ${now - sameRank} after ${c.kind} in the rank < tCCD_S`);
          if (isRead) {
            // write-to-read turnaround inside the rank: data in, then tWTR
            const wg = lastWrGroup.get(gk);
            const wr = lastWrRank.get(c.rank);
            if (wg !== undefined && now - wg < t.tCWL + t.tBurst + wtrL) fail(c, `RD ${now - wg} after WR in the bank group < CWL+BL+tWTR_L`);
            if (wr !== undefined && now - wr < t.tCWL + t.tBurst + t.tWTR_S) fail(c, `RD ${now - wr} after WR in the rank < CWL+BL+tWTR_S`);
          }
          if (refAt !== undefined && now - refAt < t.tRFC) fail(c, `${c.kind} ${now - refAt} after REF < tRFC`);
          const start = now + (isRead ? t.tCL : t.tCWL);
          bursts.push({ start, end: start + t.tBurst, driver: isRead ? `rank${c.rank}` : 'ctrl', cmd: c });
          if (isRead) {
            h.lastRd = now;
            lastRdGroup.set(gk, now);
            lastRdRank.set(c.rank, now);
          } else {
            h.lastWr = now;
            lastWrGroup.set(gk, now);
            lastWrRank.set(c.rank, now);
          }
          break;
        }
      }
    }
    bursts.sort((a, b) => a.start - b.start);
    for (let i = 1; i < bursts.length; i++) {
      const a = bursts[i - 1];
      const b = bursts[i];
      const gap = b.start - a.end;
      if (gap < 0) fail(b.cmd, `data burst overlaps the previous one by ${-gap} cycles`);
      else if (a.driver !== b.driver && gap < t.tRTRS) fail(b.cmd, `bus driver changes (${a.driver} -> ${b.driver}) with a gap of ${gap} < tRTRS ${t.tRTRS}`);
    }
  }
  return errors;
}

/** Most data bursts of one channel that fall in any window of `windowCycles`. */
export function maxBurstsInWindow(config: DramConfig, log: readonly IssuedCommand[], channel: number, windowCycles: number): number {
  const t = config.timingCycles;
  const starts = log
    .filter((c) => c.channel === channel && (c.kind === 'RD' || c.kind === 'WR'))
    .map((c) => c.cycle + (c.kind === 'RD' ? t.tCL : t.tCWL))
    .sort((a, b) => a - b);
  let best = 0;
  let j = 0;
  for (let i = 0; i < starts.length; i++) {
    while (starts[i] - starts[j] >= windowCycles) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}
