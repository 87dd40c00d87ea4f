// Queueing formulas of the analytical DRAM model: Erlang's loss formula (the
// closed loop of a stream with maxOutstanding slots) and its inverse, the
// bounded station wait, and the wait of a row run's followers.

/**
 * Erlang's loss formula B(m, a): the probability that all m slots are busy
 * with offered load a. Non-integer m interpolates between neighbours.
 * Computed through 1/B_k = 1 + (k/a) / B_(k-1), which needs no division per
 * slot (the usual B_k = a B_(k-1) / (k + a B_(k-1)) needs one).
 */
export function erlangB(m: number, a: number): number {
  if (a <= 0) return 0;
  if (m > 4096) return a > m ? 1 - m / a : 0;
  const lo = Math.floor(m);
  const invA = 1 / a;
  let inv = 1;
  for (let k = 1; k <= lo; k++) inv = 1 + k * invA * inv;
  const B = 1 / inv;
  const frac = m - lo;
  if (frac === 0) return B;
  const B1 = 1 / (1 + (lo + 1) * invA * inv);
  return B + frac * (B1 - B);
}

/**
 * B(m, a), with dB/da written to slopeOut[0] (dB/da = B (m/a - 1 + B) for
 * integer m; interpolated like B otherwise).
 */
export function erlangBWithSlope(m: number, a: number, slopeOut: Float64Array): number {
  if (a <= 0) {
    slopeOut[0] = 0;
    return 0;
  }
  if (m > 4096) {
    slopeOut[0] = a > m ? m / (a * a) : 0;
    return a > m ? 1 - m / a : 0;
  }
  const lo = Math.floor(m);
  const invA = 1 / a;
  if (!(invA < Infinity)) {
    // (a load too small to invert: B at a = 0, flat)
    slopeOut[0] = 0;
    return lo === 0 ? 1 - (m - lo) : 0;
  }
  let inv = 1;
  for (let k = 1; k <= lo; k++) inv = 1 + k * invA * inv;
  if (!(inv < Infinity)) {
    // (a load so small that B underflows: no blocking, and none nearby)
    slopeOut[0] = 0;
    return 0;
  }
  const B = 1 / inv;
  const d0 = B * (lo * invA - 1 + B);
  const frac = m - lo;
  if (frac === 0) {
    slopeOut[0] = d0;
    return B;
  }
  const B1 = 1 / (1 + (lo + 1) * invA * inv);
  const d1 = B1 * ((lo + 1) * invA - 1 + B1);
  slopeOut[0] = d0 + frac * (d1 - d0);
  return B + frac * (B1 - B);
}

const slopeScratch = new Float64Array(1);

/**
 * The offered load a with B(m, a) = blocking. B rises with a, and carried
 * load a (1 - B) <= m bounds a by m / (1 - blocking); Newton steps inside a
 * shrinking bracket (bisection when a step leaves it), from `guess` if given.
 */
export function inverseErlangLoad(m: number, blocking: number, guess?: number): number {
  if (blocking <= 0) return 0;
  if (m > 4096) return blocking >= 1 ? 1e12 : m / (1 - blocking);
  let lo = 0;
  let hi = blocking < 1 ? Math.min(1e12, m / (1 - blocking)) : 1e12;
  let a = guess !== undefined && guess > 0 && guess < hi ? guess : hi;
  for (let i = 0; i < 100; i++) {
    const f = erlangBWithSlope(m, a, slopeScratch) - blocking;
    if (f === 0) return a;
    if (f < 0) lo = a;
    else hi = a;
    const slope = slopeScratch[0];
    let next = slope > 0 ? a - f / slope : NaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - a) <= 1e-10 * a || hi - lo <= 1e-12 * hi) return next;
    a = next;
  }
  return a;
}

/**
 * Mean wait at a station: Pollaczek-Khinchine (offered load U, mean residual
 * service) while few are waiting, bounded by the population that can wait
 * there (the requests the streams using the station can have outstanding):
 * N customers each needing the mean service S = U / X wait at most N * S.
 * Combined harmonically, so the wait rises smoothly with load, stays finite
 * under overload, and keeps rising with the overload (which is what brings
 * the closed loop back to the station's capacity).
 */
export function stationWait(U: number, residual: number, X: number, N: number): number {
  if (X <= 0 || U <= 0) return 0;
  const open = U < 1 ? (1 - U) / (U * residual) : 0;
  return 1 / (open + X / (N * U));
}

/**
 * Mean extra wait of the requests of a row run caused by the run itself: the
 * run's first request opens the row (openCycles), and its followers, arriving
 * every `gap` cycles on average, must be tCCD_L apart on the bank group. The
 * k-th request (k >= 2) waits w_k ~ max(floor, w_2 - (k-2)(gap - tCCD)) when
 * the stream is slower than tCCD, or w_2 + (k-2)(tCCD - gap) when faster;
 * runs are geometric with continuation probability h. Returned per request of
 * the stream (first requests of runs wait 0 here).
 */
export function runWaitCycles(h: number, gapCycles: number, openCycles: number, tCcd: number): number {
  return runWaitCyclesWithSlopes(h, gapCycles, openCycles, tCcd, null);
}

/**
 * runWaitCycles, with its derivatives (for the solver's Newton steps) written
 * to out: out[0] = d/d gapCycles, out[1] = d/d openCycles.
 */
export function runWaitCyclesWithSlopes(h: number, gapCycles: number, openCycles: number, tCcd: number, out: Float64Array | null): number {
  if (out !== null) {
    out[0] = 0;
    out[1] = 0;
  }
  if (h <= 0 || !Number.isFinite(gapCycles)) return 0;
  const hh = Math.min(h, 0.999);
  const g = gapCycles;
  const a = openCycles + tCcd;
  // E[max(0, a - G)], G ~ Exp(mean g): the second request's wait
  const E = Math.exp(-a / g);
  const w2 = a - g * (1 - E);
  const w2g = -1 + E + (E * a) / g;
  const w2a = 1 - E;
  const d = g - tCcd;
  let sum: number; // sum over k >= 2 of h^(k-1) w_k
  let sumG: number;
  let sumA: number;
  // Random-walk spread of a finite run near critical load (~ g sqrt(2k/pi) after
  // k requests, k ~ h/(1-h)); caps the steady-state M/D/1 wait, which a run
  // of a few requests never reaches.
  const spreadPerGap = Math.sqrt(((2 / Math.PI) * hh) / (1 - hh));
  const spread = g * spreadPerGap;
  const inv1h = 1 / (1 - hh);
  if (d <= 0) {
    const top = w2 > spread;
    sum = hh * ((top ? w2 : spread) * inv1h + -d * hh * inv1h * inv1h);
    sumG = hh * ((top ? w2g : spreadPerGap) * inv1h - hh * inv1h * inv1h);
    sumA = top ? hh * w2a * inv1h : 0;
  } else {
    const busy = (tCcd * tCcd) / (2 * d); // M/D/1 wait rho tCcd / (2 (1 - rho)), rho = tCcd / g
    const fromBusy = busy < spread;
    const floor = fromBusy ? busy : spread; // wait once the opening backlog is gone
    const floorG = fromBusy ? -busy / d : spreadPerGap;
    if (w2 <= floor) {
      sum = hh * floor * inv1h;
      sumG = hh * floorG * inv1h;
      sumA = 0;
    } else {
      const J = Math.ceil((w2 - floor) / d);
      const hJ1 = powInt(hh, J - 1);
      const hJ = hJ1 * hh;
      const sumJ = (1 - hJ) * inv1h;
      const sumjJ = hh * (1 - J * hJ1 + (J - 1) * hJ) * inv1h * inv1h;
      sum = hh * (w2 * sumJ - d * sumjJ + floor * hJ * inv1h);
      sumG = hh * (w2g * sumJ - sumjJ + floorG * hJ * inv1h);
      sumA = hh * w2a * sumJ;
    }
  }
  if (out !== null) {
    out[0] = (1 - hh) * sumG;
    out[1] = (1 - hh) * sumA;
  }
  return (1 - hh) * sum;
}

/** base^n for an integer n >= 0 (binary exponentiation; Math.pow is several times slower here). */
function powInt(base: number, n: number): number {
  let result = 1;
  let b = base;
  let e = n;
  while (e > 0) {
    if (e & 1) result *= b;
    b *= b;
    e = Math.floor(e / 2);
  }
  return result;
}
