// How many cores a request-serving task needs to keep its p99 under the SLO at
// a given request rate: an M/M/c queue (one worker per core, as the
// first-class services are built) with a calibration factor learned online
// from the latency the task actually shows. The queueing model gives the
// shape (latency explodes as utilisation nears 1, less so with more servers);
// the calibration absorbs what it gets wrong (service-time variance,
// contention), so no per-scenario constant is needed.
//
//   a = lambda * S (offered load, in servers), rho = a / c
//   Erlang B by recursion: B_0 = 1, B_k = a B_{k-1} / (k + a B_{k-1})
//   Erlang C: C = B_c / (1 - rho (1 - B_c))            (probability of waiting)
//   P(W > t) = C exp(-(c/S - lambda) t)  =>  W99 = ln(C / 0.01) / (c/S - lambda) when C > 0.01
//   p99 ~ tailFactor * S + W99

export function erlangC(c: number, a: number): number {
  if (a <= 0) return 0;
  if (a >= c) return 1;
  let b = 1;
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b);
  const rho = a / c;
  return b / (1 - rho * (1 - b));
}

/** Modelled p99 response time (ns) with c servers, arrival rate lambda (1/s), mean service time S (s). */
export function mmcP99Ns(c: number, lambdaPerSec: number, serviceSec: number, tailFactor: number): number {
  if (c <= 0) return Infinity;
  const a = lambdaPerSec * serviceSec;
  if (a >= c) return Infinity;
  const C = erlangC(c, a);
  const wait = C > 0.01 ? Math.log(C / 0.01) / (c / serviceSec - lambdaPerSec) : 0;
  return (tailFactor * serviceSec + wait) * 1e9;
}

/** Fewest cores in [1, maxCores] whose calibrated p99 meets targetNs; maxCores when none does. */
export function coresForLatency(lambdaPerSec: number, serviceSec: number, targetNs: number, calibration: number, tailFactor: number, maxCores: number): number {
  for (let c = 1; c <= maxCores; c++) if (calibration * mmcP99Ns(c, lambdaPerSec, serviceSec, tailFactor) <= targetNs) return c;
  return Math.max(1, maxCores);
}
