// Whole-host CPU use from /proc/stat, to tell how much of the machine other
// work took while a measurement ran (a shared host's neighbours show up in
// every latency measured on it; reporting them is part of an honest figure).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { USER_HZ } from '../process/procfs.js';

export interface CpuTimes {
  /** Cumulative ns, summed over CPUs. */
  busyNs: number;
  idleNs: number;
  /** Time the hypervisor ran someone else while a vCPU wanted to run. */
  stealNs: number;
}

export function readCpuTimes(procRoot = '/proc'): CpuTimes | null {
  let text: string;
  try {
    text = readFileSync(join(procRoot, 'stat'), 'utf8');
  } catch {
    return null;
  }
  const m = /^cpu\s+(.*)$/m.exec(text);
  if (!m) return null;
  const v = m[1].trim().split(/\s+/).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  const ns = (ticks: number) => (ticks * 1e9) / USER_HZ;
  return { busyNs: ns(user + nice + system + irq + softirq), idleNs: ns(idle + iowait), stealNs: ns(steal) };
}

/** Cores' worth of busy time and steal between two readings over wallNs. */
export function cpuLoadBetween(a: CpuTimes, b: CpuTimes, wallNs: number): { busyCores: number; stealCores: number } {
  if (!(wallNs > 0)) return { busyCores: 0, stealCores: 0 };
  return { busyCores: Math.max(0, b.busyNs - a.busyNs) / wallNs, stealCores: Math.max(0, b.stealNs - a.stealNs) / wallNs };
}
