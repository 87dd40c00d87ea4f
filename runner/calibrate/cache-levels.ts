// Finding cache levels in a pointer-chase latency curve: latency is flat while
// the working set fits a level and steps up once it no longer does. A level
// ends at the last size before latency rises clearly (by `jump`) above the
// current plateau and stays there; the final plateau is DRAM.

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

export function findCacheLevels(curve: CurvePoint[], jump = 1.4): { levels: CacheLevelEstimate[]; dramLatencyNs: number } {
  const pts = [...curve].sort((a, b) => a.workingSetBytes - b.workingSetBytes);
  if (pts.length === 0) return { levels: [], dramLatencyNs: 0 };
  const levels: CacheLevelEstimate[] = [];
  let plateau: CurvePoint[] = [pts[0]];
  for (let i = 1; i < pts.length; i++) {
    const base = median(plateau.map((p) => p.latencyNs));
    const p = pts[i];
    // A rise counts when this point and the next (if any) are both above the plateau.
    const risen = p.latencyNs > base * jump && (i + 1 >= pts.length || pts[i + 1].latencyNs > base * jump);
    if (risen) {
      levels.push({ sizeBytes: plateau[plateau.length - 1].workingSetBytes, latencyNs: base });
      plateau = [p];
    } else {
      plateau.push(p);
    }
  }
  // The last plateau is memory if we saw at least one cache level below it.
  const last = median(plateau.map((p) => p.latencyNs));
  if (levels.length === 0) return { levels: [], dramLatencyNs: last };
  return { levels, dramLatencyNs: Math.max(last, pts[pts.length - 1].latencyNs) };
}
