// One interface over cgroup v1 and v2: the knobs the runner turns per task.
// Implementations: impl/v1.ts (one hierarchy per controller) and impl/v2.ts
// (unified hierarchy). Each method throws (HostFsError or UnsupportedKnobError)
// when the host refuses; HostPlatform turns that into a refused action.
import type { JournaledHost } from '../journal/journaled-host.js';

export type CgroupKnob = 'cpuset' | 'cpuQuota' | 'freezer' | 'ioWeight' | 'memory' | 'cpuStats';

export const CGROUP_KNOBS: readonly CgroupKnob[] = ['cpuset', 'cpuQuota', 'freezer', 'ioWeight', 'memory', 'cpuStats'];

export interface KnobStatus {
  available: boolean;
  reason?: string;
  /** The file the knob writes (for reports). */
  file?: string;
}

export class UnsupportedKnobError extends Error {
  override readonly name = 'UnsupportedKnobError';
  constructor(
    readonly knob: CgroupKnob,
    reason: string,
  ) {
    super(reason);
  }
}

export interface CgroupStats {
  /** Cumulative CPU time of every process in the group. */
  cpuUsageNs?: number;
  memoryBytes?: number;
  ioBytes?: number;
}

export interface TaskCgroup {
  readonly name: string;
  /** Move a process (all its threads; children follow it) into the group. */
  attach(pid: number): void;
  setCpus(cores: number[]): void;
  /** Cap CPU time to pct percent of nCores cores (pct >= 100 lifts the cap). */
  setCpuQuota(pct: number, nCores: number): void;
  setFrozen(frozen: boolean): void;
  isFrozen(): boolean;
  setIoWeight(weight: number): void;
  /** null removes the limit. */
  setMemoryLimit(bytes: number | null): void;
  /** File whose first integer is cumulative CPU time, and its unit in ns (for batched reads). */
  cpuUsageCounter(): { path: string; nsPerUnit: number } | null;
  /** Counters of the group; cpu: false skips the CPU usage read (callers with a batched counter). */
  stats(o?: { cpu?: boolean }): CgroupStats;
  pids(): number[];
}

export interface CgroupBackend {
  readonly version: 1 | 2;
  /** What each knob can do on this host, with the reason when it cannot. */
  knobs(): Record<CgroupKnob, KnobStatus>;
  /** The IO weight range this backend writes. */
  readonly ioWeightRange: { min: number; max: number; default: number };
  /** Create the run's own group(s), named runName, through the journal. */
  open(runName: string, host: JournaledHost): void;
  /** Create one task's group under the run's group. */
  createTaskGroup(taskName: string, opts?: { memory?: boolean }): TaskCgroup;
  /**
   * CPU weight of the run's own group against everything else on the host, on
   * cgroup v2's scale (1..10000, 100 = a default group; v1 cpu.shares scaled
   * from 1024). The run's group is one scheduling entity next to every other
   * process, so at the default weight all of a run's tasks together get about
   * one process's share when the host is busy.
   */
  setRunCpuWeight?(weight: number): void;
  /** Group directories created so far (for reports and leak checks). */
  createdDirs(): string[];
}

/** Validate a cgroup name component: ours are umbra-<run id> and task ids. */
export function safeGroupName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) throw new Error(`invalid cgroup name "${name}": use letters, digits, '.', '_' and '-'`);
  return name;
}

/** "0-3,6" style list for cpuset files. */
export function formatCpuList(cores: number[]): string {
  const s = [...new Set(cores)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    parts.push(j > i ? `${s[i]}-${s[j]}` : `${s[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Parse "0-3,6" (as in cpuset.cpus, sysfs cpu lists). */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (!part) continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let c = a; c <= b; c++) out.push(c);
  }
  return out;
}
