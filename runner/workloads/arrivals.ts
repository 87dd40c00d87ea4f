// Open-loop arrival processes for the load generator: when each request is
// *intended* to be sent, independent of when earlier ones completed.
// Randomness comes from util/rng.ts so a seed reproduces the schedule.
import type { Rng } from '../../util/rng.js';

export interface ArrivalProcess {
  /** Intended send time of the next request, ns since the generator started; Infinity = no more. */
  next(): number;
}

/** Homogeneous Poisson arrivals at ratePerSec. */
export class PoissonArrivals implements ArrivalProcess {
  private t = 0;
  constructor(
    private readonly ratePerSec: number,
    private readonly rng: Rng,
  ) {
    if (!(ratePerSec > 0)) throw new RangeError(`arrival rate must be > 0, got ${ratePerSec}`);
  }

  next(): number {
    this.t += this.rng.exp(1e9 / this.ratePerSec);
    return this.t;
  }
}

/** One step of a rate trace: from startNs on, arrivals come at ratePerSec. */
export interface RateStep {
  startNs: number;
  ratePerSec: number;
}

/**
 * Trace-driven arrivals: a non-homogeneous Poisson process whose rate follows
 * a piecewise-constant trace (e.g. a utilisation series scaled to requests/s).
 * Exact for piecewise rates: an exponential "work" draw is spent across steps.
 * After the last step the last rate holds (or arrivals stop with endNs).
 */
export class TraceArrivals implements ArrivalProcess {
  private t = 0;
  private step = 0;

  constructor(
    private readonly steps: readonly RateStep[],
    private readonly rng: Rng,
    private readonly endNs = Infinity,
  ) {
    if (steps.length === 0) throw new RangeError('rate trace is empty');
    for (let i = 0; i < steps.length; i++) {
      if (!(steps[i].ratePerSec >= 0)) throw new RangeError(`rate trace step ${i}: rate must be >= 0`);
      if (i > 0 && !(steps[i].startNs > steps[i - 1].startNs)) throw new RangeError(`rate trace step ${i}: startNs must increase`);
    }
  }

  next(): number {
    let need = this.rng.exp(1); // unit-rate exponential "area" to cover
    while (this.t < this.endNs) {
      const s = this.steps[this.step];
      const stepEnd = this.step + 1 < this.steps.length ? this.steps[this.step + 1].startNs : Infinity;
      const from = Math.max(this.t, s.startNs);
      const ratePerNs = s.ratePerSec / 1e9;
      if (ratePerNs > 0) {
        const dt = need / ratePerNs;
        if (from + dt < stepEnd) {
          this.t = from + dt;
          return this.t < this.endNs ? this.t : Infinity;
        }
        need -= (stepEnd - from) * ratePerNs;
      }
      if (stepEnd === Infinity) return Infinity;
      this.t = stepEnd;
      this.step++;
    }
    return Infinity;
  }
}

/**
 * Rate steps from a utilisation series (e.g. CPU % per interval from a real
 * trace): each value becomes one step of stepNs, scaled so the series' peak
 * offers peakRps. Negative or non-finite values are input errors.
 */
export function rateStepsFromSeries(series: readonly number[], stepNs: number, peakRps: number): RateStep[] {
  if (series.length === 0) throw new RangeError('series is empty');
  if (!(stepNs > 0) || !(peakRps > 0)) throw new RangeError('stepNs and peakRps must be > 0');
  series.forEach((v, i) => {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`series[${i}] must be a finite value >= 0, got ${v}`);
  });
  const peak = Math.max(...series);
  return series.map((v, i) => ({ startNs: i * stepNs, ratePerSec: peak > 0 ? (v / peak) * peakRps : 0 }));
}
