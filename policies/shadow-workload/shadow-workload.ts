// The shadow workload (seed 001): a cheap, active mimic of a first-class
// task's access pattern. In this engine it is the task's predicted access
// profile over the horizon — intensities (CPU, DRAM bandwidth, LLC footprint
// and churn, IO) from the shadow's upper forecasts, and pattern (read/write
// mix, sequential vs random, miss ratio) from sampled behaviour — which
//  - drives the interference predictor (the first-class side of every pair),
//  - sizes `warm` actions (how many bytes to prefetch into reserved ways, over
//    how long) and `echo` bursts (how far ahead to run),
// and adapts, as the seed asks, to
//  - the task's sampled behaviour: pattern features follow an EWMA whose rate
//    jumps when a sample leaves the usual band (a phase change),
//  - interference feedback: when the task slows down more than the predictor
//    expected, its sensitivity on the blamed resource grows (and decays back
//    when it slows down less), so the mimic looks more fragile to the predictor,
//  - system load: warm-up is spread thinner and echoes get shorter when the
//    machine is busy (both cost shared resources).
import type { Capabilities, DemandKind } from '../platform.js';
import type { DemandObservation } from '../shadow/observation.js';
import type { TaskShadow } from '../shadow/shadow.js';
import { buildProfile, REASON_FEATURES, REASONS, type InterferenceReason, type ProfileScale, type ProfileVector } from '../interference/features.js';
import { clamp, clamp01 } from '../common/masks.js';

/** An EWMA with a deviation band: fast when a sample jumps out of the band. */
class AdaptiveMean {
  mean: number | undefined;
  dev = 0;
  changes = 0;

  update(x: number | undefined): void {
    if (x === undefined || !Number.isFinite(x)) return;
    if (this.mean === undefined) {
      this.mean = x;
      return;
    }
    const d = Math.abs(x - this.mean);
    const jump = d > 3 * this.dev + 0.05;
    if (jump) this.changes++;
    const rate = jump ? 0.5 : 0.1;
    this.mean += rate * (x - this.mean);
    this.dev += 0.1 * (d - this.dev);
  }
}

export interface ShadowWorkloadState {
  readFraction: number | undefined;
  missRatio: number | undefined;
  accessPerMiss: number | undefined;
  sensitivity: Record<InterferenceReason, number>;
  load: number;
  phaseChanges: number;
}

export class ShadowWorkload {
  private readonly read = new AdaptiveMean();
  private readonly miss = new AdaptiveMean();
  /** LLC accesses per miss (to turn a predicted miss rate into access churn). */
  private readonly accPerMiss = new AdaptiveMean();
  private last: DemandObservation | undefined;
  readonly sensitivity: Record<InterferenceReason, number> = { cpu: 1, llc: 1, memBw: 1, io: 1 };
  private load = 0;

  observe(obs: DemandObservation): void {
    this.last = obs;
    this.read.update(obs.readFraction);
    this.miss.update(obs.missRatio);
    const m = obs.values.llcMissRate;
    if (obs.llcAccessesPerSec !== undefined && m !== undefined && m > 0) this.accPerMiss.update(Math.min(1000, obs.llcAccessesPerSec / m));
  }

  setLoad(load: number): void {
    this.load = clamp01(load);
  }

  /** Predicted access profile at `horizonNs` (upper forecasts: the mimic errs on the heavy side). */
  profileAt(shadow: TaskShadow, horizonNs: number, scale: ProfileScale, out?: ProfileVector): ProfileVector {
    const up = (k: DemandKind) => shadow.predict(k, horizonNs)?.upper ?? shadow.last(k);
    const missRate = up('llcMissRate');
    const apm = this.accPerMiss.mean;
    const p = buildProfile(
      {
        cpuCores: up('cpu'),
        memBwBytesPerSec: up('memBw'),
        llcOccupancyBytes: up('llcOccupancy'),
        llcAccessesPerSec: missRate !== undefined && apm !== undefined ? missRate * apm : this.last?.llcAccessesPerSec,
        missRatio: this.miss.mean,
        ioBytesPerSec: up('io'),
        readFraction: this.read.mean,
      },
      scale,
      out,
    );
    for (const r of REASONS) {
      const s = this.sensitivity[r];
      if (s !== 1) for (const f of REASON_FEATURES[r]) p[f] = clamp01(p[f] * s);
    }
    return p;
  }

  /** The profile of what the task did in the last window. */
  currentProfile(scale: ProfileScale, out?: ProfileVector): ProfileVector | undefined {
    const o = this.last;
    if (!o) return undefined;
    return buildProfile(
      { cpuCores: o.cpuCores, memBwBytesPerSec: o.values.memBw, llcOccupancyBytes: o.values.llcOccupancy, llcAccessesPerSec: o.llcAccessesPerSec, missRatio: o.missRatio, ioBytesPerSec: o.values.io, readFraction: o.readFraction },
      scale,
      out,
    );
  }

  /** Interference feedback: observed vs expected slowdown, blamed on `reason`. */
  feedback(observedSlowdown: number, expectedSlowdown: number, reason: InterferenceReason): void {
    if (!(observedSlowdown > 0 && expectedSlowdown > 0)) return;
    const ratio = observedSlowdown / expectedSlowdown;
    const s = this.sensitivity[reason];
    if (ratio > 1.05) this.sensitivity[reason] = Math.min(2, s * 1.05);
    else if (ratio < 0.95) this.sensitivity[reason] = Math.max(0.5, s * 0.99);
  }

  /**
   * Warm-up budget for newly reserved units. Cores: a short fixed slice (the
   * platform spins a worker up on each). Ways: the bytes the task will want in
   * them (predicted occupancy, at most the ways' size) prefetched at the DRAM
   * bandwidth the machine has spare, spread over the lead time left before the
   * units are needed so the prefetch does not itself interfere.
   */
  warmBudgetNs(resource: 'cores' | 'cacheWays', newUnits: number, caps: Capabilities, shadow: TaskShadow, leadNs: number, periodNs: number, maxNs: number): number {
    const window = Math.max(periodNs, leadNs - periodNs);
    if (resource === 'cores') return Math.round(clamp(periodNs / 4, 1000, maxNs));
    const w = caps.cacheWays;
    if (!w) return 0;
    const want = Math.min(newUnits * w.wayBytes, shadow.predict('llcOccupancy', leadNs)?.upper ?? newUnits * w.wayBytes);
    const spare = (caps.memBandwidth?.peakBytesPerSec ?? 25.6e9) * Math.max(0.1, 1 - this.load);
    const minNs = (want / spare) * 1e9;
    const spread = window * (1 - 0.5 * this.load);
    return Math.round(clamp(Math.max(minNs, spread), 1000, maxNs));
  }

  /** Echo burst length: far enough ahead to cover the next reservation decision, shorter under load. */
  echoDurationNs(leadNs: number, periodNs: number, maxNs: number): number {
    return Math.round(clamp((leadNs + periodNs) * (1 - 0.5 * this.load), periodNs, maxNs));
  }

  state(): ShadowWorkloadState {
    return {
      readFraction: this.read.mean,
      missRatio: this.miss.mean,
      accessPerMiss: this.accPerMiss.mean,
      sensitivity: { ...this.sensitivity },
      load: this.load,
      phaseChanges: this.read.changes + this.miss.changes + this.accPerMiss.changes,
    };
  }
}
