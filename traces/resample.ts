// Put time-stamped samples on a regular grid: samples at equal times combine by
// the aggregate, each grid bin [k*step, (k+1)*step) takes the mean of what fell
// in it, and empty bins are filled by linear interpolation between the nearest
// filled ones (the simulator replays series as equally spaced samples).
import type { Aggregate } from './table-format.js';

export interface Grid {
  t: Float64Array;
  values: Float64Array;
  stepSeconds: number;
  filledBins: number;
}

/** `t` must be non-decreasing seconds with t[0] = 0. */
export function regularGrid(t: number[], v: number[], stepSeconds: number, aggregate: Aggregate): Grid {
  // 1) combine samples at the same time
  const ct: number[] = [];
  const cv: number[] = [];
  for (let i = 0; i < t.length; ) {
    let j = i;
    let acc = v[i];
    let n = 1;
    while (j + 1 < t.length && t[j + 1] === t[i]) {
      j++;
      n++;
      const x = v[j];
      if (aggregate === 'sum' || aggregate === 'mean') acc += x;
      else if (aggregate === 'max') acc = Math.max(acc, x);
      else if (aggregate === 'min') acc = Math.min(acc, x);
      else acc = x;
    }
    ct.push(t[i]);
    cv.push(aggregate === 'mean' ? acc / n : acc);
    i = j + 1;
  }
  // 2) bin means on the grid (a tiny tolerance so exact multiples of the step land in their own bin)
  const last = ct[ct.length - 1] - ct[0];
  const bins = Math.floor(last / stepSeconds + 1e-9) + 1;
  const sum = new Float64Array(bins);
  const cnt = new Uint32Array(bins);
  for (let i = 0; i < ct.length; i++) {
    const k = Math.min(bins - 1, Math.floor((ct[i] - ct[0]) / stepSeconds + 1e-9));
    sum[k] += cv[i];
    cnt[k]++;
  }
  const values = new Float64Array(bins);
  let filled = 0;
  let prev = -1;
  for (let k = 0; k < bins; k++) {
    if (cnt[k] === 0) continue;
    values[k] = sum[k] / cnt[k];
    if (prev >= 0 && k - prev > 1) {
      for (let m = prev + 1; m < k; m++) values[m] = values[prev] + ((values[k] - values[prev]) * (m - prev)) / (k - prev);
      filled += k - prev - 1;
    }
    prev = k;
  }
  const grid = new Float64Array(bins);
  for (let k = 0; k < bins; k++) grid[k] = k * stepSeconds;
  return { t: grid, values, stepSeconds, filledBins: filled };
}
