// Finding cache levels in a pointer-chase latency curve: latency is flat while
// the working set fits a level and steps up once it no longer does.
//  1. An isolated spike (one point disturbed by other work on the host) is
//     removed by a running median of three, which leaves steps where they are;
//     then, since latency cannot fall as the working set grows, the curve is
//     made non-decreasing (isotonic regression, pool-adjacent-violators).
//  2. A step is a rise by at least `jump` between neighbouring points; the
//     runs between steps are plateaus. A plateau shorter than
//     `minPlateauPoints` is the ramp between two levels, not a level.
//  3. Each level is its plateau's median latency and its last (largest)
//     working set; the final plateau is DRAM.

export interface CurvePoint {
  workingSetBytes: number;
  latencyNs: number;
}

export interface CacheLevelEstimate {
  /** Largest measured working set that still ran at this level's latency. */
  sizeBytes: number;
  latencyNs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Least-squares non-decreasing fit (pool adjacent violators). */
export function isotonic(ys: number[]): number[] {
  const blocks: { sum: number; n: number }[] = [];
  for (const y of ys) {
    blocks.push({ sum: y, n: 1 });
    while (blocks.length > 1) {
      const b = blocks[blocks.length - 1];
      const a = blocks[blocks.length - 2];
      if (a.sum / a.n <= b.sum / b.n) break;
      blocks.splice(blocks.length - 2, 2, { sum: a.sum + b.sum, n: a.n + b.n });
    }
  }
  return blocks.flatMap((b) => Array<number>(b.n).fill(b.sum / b.n));
}

/** Running median of three (end points kept): removes single-point spikes, preserves steps. */
export function median3(ys: number[]): number[] {
  return ys.map((y, i) => (i === 0 || i === ys.length - 1 ? y : median([ys[i - 1], y, ys[i + 1]])));
}

export function findCacheLevels(curve: CurvePoint[], opts: { jump?: number; minPlateauPoints?: number } = {}): { levels: CacheLevelEstimate[]; dramLatencyNs: number } {
  const jump = opts.jump ?? 1.4;
  const minPts = opts.minPlateauPoints ?? 1;
  const pts = [...curve].sort((a, b) => a.workingSetBytes - b.workingSetBytes);
  if (pts.length === 0) return { levels: [], dramLatencyNs: 0 };
  const fit = isotonic(median3(pts.map((p) => p.latencyNs)));
  const plateaus: number[][] = [[0]];
  for (let i = 1; i < pts.length; i++) {
    if (fit[i] > fit[i - 1] * jump) plateaus.push([i]);
    else plateaus[plateaus.length - 1].push(i);
  }
  const last = plateaus[plateaus.length - 1];
  const dramLatencyNs = median(last.map((i) => fit[i]));
  const levels = plateaus
    .slice(0, -1)
    .filter((p) => p.length >= minPts)
    .map((p) => ({ sizeBytes: pts[p[p.length - 1]].workingSetBytes, latencyNs: median(p.map((i) => fit[i])) }));
  return { levels, dramLatencyNs };
}
