// What the control loop records at every control window, column by column
// (compact, and the metrics and figures read whole columns). Values are
// rounded to 6 significant digits so files stay small; the rounding is
// deterministic, so files stay byte-identical for a (spec, cell, seed).
import type { Capabilities, DemandKind, Snapshot, TaskClass } from '../../policies/platform.js';
import { roundSig } from '../common/canonical-json.js';

export interface TaskTrack {
  id: string;
  cls: TaskClass;
  sloP99Ns: number;
  /** First-class: window latency and load. */
  p99Ns: number[];
  requests: number[];
  offeredRps: number[];
  completedRps: number[];
  queueLength: number[];
  /** Cores' worth of CPU used. */
  cpuCores: number[];
  /** Cores in the task's cpuset. */
  allocCores: number[];
  /** Cores reserved for the task and not (yet) in its cpuset: the warm-up state. */
  warmingCores: number[];
  /** Cores allocated or reserved (the union). */
  heldCores: number[];
  /** Cores held for this task alone: reserved, or allocated and in no other task's cpuset. */
  exclusiveCores: number[];
  /** Ways the task may fill (its mask, all ways for an unrestricted one, minus ways reserved by others). */
  allocWays: number[];
  warmingWays: number[];
  heldWays: number[];
  exclusiveWays: number[];
  occupancyWays: number[];
  /** Second-class: work done per second (platform units), CPU quota, paused (0/1). */
  progressPerSec: number[];
  quotaPct: number[];
  paused: number[];
  memBandwidthPct: number[];
}

export interface ForecastTrack {
  task: string;
  demand: DemandKind;
  horizonNs: number;
  madeAtNs: number[];
  mean: number[];
  upper: number[];
  /** Demand observed in the window that contains the target time. */
  actual: number[];
}

export interface Recording {
  periodNs: number;
  coreCount: number;
  totalWays: number;
  wayBytes: number;
  /** End of each recorded window, and its length. */
  tNs: number[];
  windowNs: number[];
  tasks: TaskTrack[];
  /** Allocation-changing actions applied, and actions refused, by the decide() at the start of each window. */
  changes: number[];
  refused: number[];
  appliedByKind: Record<string, number>;
  refusedByReason: Record<string, number>;
  forecasts: ForecastTrack[];
}

export const ALLOCATION_ACTIONS = new Set(['reserve', 'release', 'setCores', 'setCacheWays', 'setBankColours', 'setMemBandwidth', 'setIoWeight', 'pause', 'resume', 'throttle', 'migrate']);

export function emptyRecording(caps: Capabilities, periodNs: number, snap: Snapshot): Recording {
  const totalWays = caps.cacheWays?.totalWays ?? 0;
  return {
    periodNs,
    coreCount: caps.coreIds.length,
    totalWays,
    wayBytes: caps.cacheWays?.wayBytes ?? 0,
    tNs: [],
    windowNs: [],
    tasks: snap.tasks.map((t) => ({
      id: t.id,
      cls: t.class,
      sloP99Ns: t.latency?.sloP99Ns ?? 0,
      p99Ns: [],
      requests: [],
      offeredRps: [],
      completedRps: [],
      queueLength: [],
      cpuCores: [],
      allocCores: [],
      warmingCores: [],
      heldCores: [],
      exclusiveCores: [],
      allocWays: [],
      warmingWays: [],
      heldWays: [],
      exclusiveWays: [],
      occupancyWays: [],
      progressPerSec: [],
      quotaPct: [],
      paused: [],
      memBandwidthPct: [],
    })),
    changes: [],
    refused: [],
    appliedByKind: {},
    refusedByReason: {},
    forecasts: [],
  };
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v; v &= v - 1) n++;
  return n;
}

/** Append one window (a snapshot with windowNs > 0). */
export function recordWindow(rec: Recording, snap: Snapshot): void {
  rec.tNs.push(snap.timeNs);
  rec.windowNs.push(snap.windowNs);
  const all = rec.totalWays >= 32 ? 0xffffffff : (1 << rec.totalWays) - 1;
  const byId = new Map(snap.tasks.map((t) => [t.id, t]));
  // the ways a task can fill: its mask (all ways when unrestricted) minus what the others have reserved
  const reservedWays = snap.tasks.map((t) => t.reserved.cacheWayMask >>> 0);
  const effective = snap.tasks.map((t, i) => {
    const othersReserved = reservedWays.reduce((m, r, j) => (j === i ? m : m | r), 0);
    return ((t.allocation.cacheWayMask === 0 ? all : t.allocation.cacheWayMask) & ~othersReserved) >>> 0;
  });
  const indexOf = new Map(snap.tasks.map((t, i) => [t.id, i]));
  for (const track of rec.tasks) {
    const t = byId.get(track.id);
    if (!t) throw new Error(`task ${track.id} disappeared from the snapshot at ${snap.timeNs} ns`);
    const me = indexOf.get(t.id)!;
    const otherCores = new Set(snap.tasks.flatMap((o) => (o.id === t.id ? [] : o.allocation.cores)));
    const otherWays = effective.reduce((m, e, j) => (j === me ? m : m | e), 0);
    const allocSet = new Set(t.allocation.cores);
    const held = new Set([...t.allocation.cores, ...t.reserved.cores]);
    const exclusiveCores = [...held].filter((c) => !otherCores.has(c)).length;
    const heldMask = (effective[me] | reservedWays[me]) >>> 0;
    const heldWays = heldMask & ~otherWays;
    const l = t.latency;
    track.p99Ns.push(roundSig(l?.p99Ns ?? 0));
    track.requests.push(l?.requests ?? 0);
    track.offeredRps.push(roundSig(l?.offeredRps ?? 0));
    track.completedRps.push(roundSig(l?.completedRps ?? 0));
    track.queueLength.push(l?.queueLength ?? 0);
    track.cpuCores.push(roundSig(t.cpuCores));
    track.allocCores.push(allocSet.size);
    track.warmingCores.push(t.reserved.cores.filter((c) => !allocSet.has(c)).length);
    track.heldCores.push(held.size);
    track.exclusiveCores.push(exclusiveCores);
    track.allocWays.push(popcount(effective[me]));
    track.warmingWays.push(popcount(reservedWays[me] & ~effective[me]));
    track.heldWays.push(popcount(heldMask));
    track.exclusiveWays.push(popcount(heldWays));
    track.occupancyWays.push(rec.wayBytes > 0 && t.llcOccupancyBytes !== undefined ? roundSig(t.llcOccupancyBytes / rec.wayBytes) : 0);
    track.progressPerSec.push(roundSig(t.progressPerSec ?? 0));
    track.quotaPct.push(t.allocation.cpuQuotaPct);
    track.paused.push(t.allocation.paused ? 1 : 0);
    track.memBandwidthPct.push(t.allocation.memBandwidthPct);
  }
}

/** The demand a forecast of `kind` is scored against, as observed over a window. */
export function observedDemand(snap: Snapshot, task: string, kind: DemandKind): number | null {
  const t = snap.tasks.find((x) => x.id === task);
  if (!t) return null;
  switch (kind) {
    case 'cpu':
      return t.cpuCores;
    case 'rps':
      return t.latency?.offeredRps ?? null;
    case 'memBw':
      return t.memBandwidthBytesPerSec ?? null;
    case 'llcOccupancy':
      return t.llcOccupancyBytes ?? null;
    default:
      return null;
  }
}
