// What one snapshot says about one task's demand, per window: the forecast
// dimensions (cpu, memBw, llcMissRate, llcOccupancy, io, rps) and the
// auxiliary rates the sizing and interference models need (IPC, miss ratio,
// read fraction, cost per request). Cumulative counters become per-window
// rates with the previous sample; a counter the platform lacks stays
// undefined, and so does every value derived from it.
import type { DemandKind, TaskSample } from '../platform.js';

export interface DemandObservation {
  timeNs: number;
  windowNs: number;
  values: Partial<Record<DemandKind, number>>;
  /** Cores' worth of CPU used. */
  cpuCores: number;
  /** Cores in the task's allocation (its cpuset size) and the share of them used. */
  allocatedCores: number;
  utilisation: number;
  ipc?: number;
  /** Cycles per instruction. */
  cpi?: number;
  llcAccessesPerSec?: number;
  missRatio?: number;
  readFraction?: number;
  /** Core-seconds of CPU per completed request (first-class services). */
  costPerRequestCoreSec?: number;
  latency?: TaskSample['latency'];
}

interface Cumulative {
  instructions?: number;
  cycles?: number;
  llcAccesses?: number;
  llcMisses?: number;
  memReadBytes?: number;
  memWriteBytes?: number;
  ioBytes?: number;
}

const delta = (now: number | undefined, prev: number | undefined): number | undefined =>
  now === undefined || prev === undefined || now < prev ? undefined : now - prev;

export class ObservationExtractor {
  private prev: Cumulative | undefined;

  extract(s: TaskSample, timeNs: number, windowNs: number): DemandObservation {
    const cur: Cumulative = {
      instructions: s.instructions,
      cycles: s.cycles,
      llcAccesses: s.llcAccesses,
      llcMisses: s.llcMisses,
      memReadBytes: s.memReadBytes,
      memWriteBytes: s.memWriteBytes,
      ioBytes: s.ioBytes,
    };
    const p = this.prev;
    this.prev = cur;
    const sec = windowNs / 1e9;
    const rate = (k: keyof Cumulative) => (p && sec > 0 ? delta(cur[k], p[k]) : undefined);
    const allocatedCores = s.allocation.cores.length;
    const cpuCores = Number.isFinite(s.cpuCores) ? Math.max(0, s.cpuCores) : 0;
    const o: DemandObservation = {
      timeNs,
      windowNs,
      values: { cpu: cpuCores },
      cpuCores,
      allocatedCores,
      utilisation: allocatedCores > 0 ? cpuCores / allocatedCores : 0,
      latency: s.latency,
    };
    const dRead = rate('memReadBytes');
    const dWrite = rate('memWriteBytes');
    if (s.memBandwidthBytesPerSec !== undefined && Number.isFinite(s.memBandwidthBytesPerSec)) o.values.memBw = Math.max(0, s.memBandwidthBytesPerSec);
    else if (dRead !== undefined && dWrite !== undefined) o.values.memBw = (dRead + dWrite) / sec;
    if (dRead !== undefined && dWrite !== undefined && dRead + dWrite > 0) o.readFraction = dRead / (dRead + dWrite);
    const dMiss = rate('llcMisses');
    const dAcc = rate('llcAccesses');
    if (dMiss !== undefined) o.values.llcMissRate = dMiss / sec;
    if (dAcc !== undefined) o.llcAccessesPerSec = dAcc / sec;
    if (dMiss !== undefined && dAcc !== undefined && dAcc > 0) o.missRatio = Math.min(1, dMiss / dAcc);
    if (s.llcOccupancyBytes !== undefined && Number.isFinite(s.llcOccupancyBytes)) o.values.llcOccupancy = Math.max(0, s.llcOccupancyBytes);
    const dIo = rate('ioBytes');
    if (dIo !== undefined) o.values.io = dIo / sec;
    const dIns = rate('instructions');
    const dCyc = rate('cycles');
    if (dIns !== undefined && dCyc !== undefined && dIns > 0 && dCyc > 0) {
      o.ipc = dIns / dCyc;
      o.cpi = dCyc / dIns;
    }
    if (s.latency) {
      if (Number.isFinite(s.latency.offeredRps)) o.values.rps = Math.max(0, s.latency.offeredRps);
      if (s.latency.completedRps > 0 && cpuCores > 0) o.costPerRequestCoreSec = cpuCores / s.latency.completedRps;
    }
    return o;
  }
}
