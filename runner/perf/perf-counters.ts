// Per-task perf_event counters: one hardware group (cycles, instructions, LLC
// accesses and misses) where the host has a PMU and one software group
// (task-clock, page faults, context switches, migrations) always, each opened
// with inherit so threads and children the task creates later are counted.
// All groups are read in one native call per control tick; multiplexed
// hardware counts are scaled by enabled/running time.
import type { UmbraNative } from '../../native/addon.js';
import { errnoName } from '../fs/impl/native-fs.js';
import { HARDWARE_EVENTS, SOFTWARE_EVENTS, type PerfEventId, type PerfEventName } from './perf-events.js';

const STRIDE = 3 + 8;

interface Group {
  slot: number;
  fds: number[];
  events: PerfEventName[];
}

export interface PerfAttachResult {
  events: PerfEventName[];
  skipped: { event: PerfEventName | 'all'; reason: string }[];
}

export class PerfCounters {
  private readonly groups: Group[] = [];
  private leaderFds = new Int32Array(0);
  private out = new Float64Array(0);
  private readonly values = new Map<number, Map<PerfEventName, number>>();
  private hardwareBroken: string | null = null;

  constructor(
    private readonly addon: UmbraNative | null,
    private readonly opts: { hardware?: boolean } = {},
  ) {}

  /**
   * Open this task's counter groups on each of pids (inherit: threads and
   * children they create later count too). Pass the task's process tree as it
   * is *before* counting starts, so nothing is counted twice.
   */
  attachTree(slot: number, pids: number[], o: { software?: boolean } = {}): PerfAttachResult {
    const out: PerfAttachResult = { events: [], skipped: [] };
    pids.forEach((pid, i) => {
      const r = this.attach(slot, pid, o);
      if (i === 0) {
        out.events = r.events;
        out.skipped = r.skipped;
      }
    });
    return out;
  }

  /** Open this task's counter groups on pid (inherit: later threads/children count too). */
  attach(slot: number, pid: number, o: { software?: boolean } = {}): PerfAttachResult {
    const res: PerfAttachResult = { events: [], skipped: [] };
    if (!this.addon) {
      res.skipped.push({ event: 'all', reason: 'native addon not loaded: perf_event_open unavailable, using /proc' });
      return res;
    }
    if (this.opts.hardware === false) {
      res.skipped.push({ event: 'cycles', reason: 'hardware counters disabled by option' });
    } else if (this.hardwareBroken) {
      for (const e of Object.keys(HARDWARE_EVENTS) as PerfEventName[]) res.skipped.push({ event: e, reason: this.hardwareBroken });
    } else {
      this.openGroup(slot, pid, HARDWARE_EVENTS, res, true);
    }
    if (o.software !== false) this.openGroup(slot, pid, SOFTWARE_EVENTS, res, false);
    this.rebuild();
    return res;
  }

  private openGroup(slot: number, pid: number, events: Record<string, PerfEventId>, res: PerfAttachResult, hardware: boolean): void {
    const addon = this.addon as UmbraNative;
    const g: Group = { slot, fds: [], events: [] };
    for (const [name, id] of Object.entries(events) as [PerfEventName, PerfEventId][]) {
      const leader = g.fds.length ? g.fds[0] : -1;
      const r = addon.perfOpen(pid, id.type, id.config, leader, true);
      if (!r.ok || r.fd === undefined) {
        const reason = `perf_event_open(${name}) failed: ${errnoName(r.errno)}${r.errno === 2 && hardware ? ' (no hardware PMU event: virtual machine or unsupported CPU)' : ''}`;
        res.skipped.push({ event: name, reason });
        // A PMU that lacks the leader event lacks the rest: stop trying for every task.
        if (hardware && g.fds.length === 0 && (r.errno === 2 || r.errno === 95)) {
          this.hardwareBroken = reason;
          for (const other of Object.keys(events) as PerfEventName[]) if (other !== name) res.skipped.push({ event: other, reason });
          return;
        }
        continue;
      }
      g.fds.push(r.fd);
      g.events.push(name);
    }
    if (g.fds.length) {
      this.groups.push(g);
      res.events.push(...g.events);
    }
  }

  private rebuild(): void {
    this.leaderFds = Int32Array.from(this.groups.map((g) => g.fds[0]));
    this.out = new Float64Array(this.groups.length * STRIDE);
  }

  detach(slot: number): void {
    for (let i = this.groups.length - 1; i >= 0; i--) {
      if (this.groups[i].slot !== slot) continue;
      for (const fd of this.groups[i].fds) this.addon?.perfClose(fd);
      this.groups.splice(i, 1);
    }
    this.values.delete(slot);
    this.rebuild();
  }

  /** Read every group once (one native call). */
  readAll(): void {
    if (!this.addon || this.groups.length === 0) return;
    this.addon.perfReadGroups(this.leaderFds, this.out, STRIDE);
    const sums = new Map<number, Map<PerfEventName, number>>();
    for (let i = 0; i < this.groups.length; i++) {
      const g = this.groups[i];
      const row = i * STRIDE;
      const nr = this.out[row];
      if (!(nr > 0)) continue;
      const enabled = this.out[row + 1];
      const running = this.out[row + 2];
      const scale = running > 0 && running < enabled ? enabled / running : 1;
      let m = sums.get(g.slot);
      if (!m) {
        m = new Map();
        sums.set(g.slot, m);
      }
      // A task can have several groups (one per process that existed before
      // counting began); its value is their sum.
      for (let k = 0; k < g.events.length && k < nr; k++) m.set(g.events[k], (m.get(g.events[k]) ?? 0) + Math.round(this.out[row + 3 + k] * scale));
    }
    // Keep cumulative values monotone: a group whose process exited reads
    // nothing any more, and its last contribution must not vanish.
    for (const [slot, m] of sums) {
      let prev = this.values.get(slot);
      if (!prev) {
        prev = new Map();
        this.values.set(slot, prev);
      }
      for (const [e, v] of m) prev.set(e, Math.max(prev.get(e) ?? 0, v));
    }
  }

  /** All last read values of a task (cumulative since attach), or undefined when it has none. */
  valuesOf(slot: number): ReadonlyMap<PerfEventName, number> | undefined {
    return this.values.get(slot);
  }

  /** Last read value (cumulative since attach), or undefined. */
  value(slot: number, event: PerfEventName): number | undefined {
    return this.values.get(slot)?.get(event);
  }

  close(): void {
    for (const g of this.groups) for (const fd of g.fds) this.addon?.perfClose(fd);
    this.groups.length = 0;
    this.values.clear();
    this.rebuild();
  }
}
