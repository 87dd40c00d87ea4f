// Request latencies per observation window. Samples are kept as-is and sorted
// when the window closes (a 10 ms window holds hundreds, not millions), so the
// percentiles are exact nearest-rank values.

import { nearestRankIndex } from '../../util/select.js';

export interface LatencyWindowStats {
  count: number;
  p50Ns: number;
  p95Ns: number;
  p99Ns: number;
  maxNs: number;
  /** Mean over the same samples (completed plus the ages of the outstanding). */
  meanNs: number;
}

/** Nearest-rank percentile of an ascending array (q in (0, 1]); the simulator's windows use the same rank (util/select.ts). */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[nearestRankIndex(sorted.length, q)];
}

export class LatencyWindow {
  private samples: number[] = [];

  add(latencyNs: number): void {
    this.samples.push(latencyNs);
  }

  get size(): number {
    return this.samples.length;
  }

  /**
   * Close the window: percentiles over the completed samples plus `extra`
   * (the current ages of requests still outstanding, so a stalled server shows
   * rising latency instead of an empty window). `count` is completed only.
   */
  take(extra: readonly number[] = []): LatencyWindowStats {
    const completed = this.samples.length;
    const all = Float64Array.from(extra.length ? this.samples.concat(extra) : this.samples).sort();
    this.samples = [];
    return {
      count: completed,
      p50Ns: percentileSorted(all, 0.5),
      p95Ns: percentileSorted(all, 0.95),
      p99Ns: percentileSorted(all, 0.99),
      maxNs: all.length ? all[all.length - 1] : 0,
      meanNs: all.length ? all.reduce((a, b) => a + b, 0) / all.length : 0,
    };
  }
}
