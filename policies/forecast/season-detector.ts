// Online season-length detection from an exponentially weighted
// autocorrelation. Every step adds d_t * d_{t-l} for every lag l <= maxLag
// (d = deviation from a slow running mean), so the cost is O(maxLag) per step
// and there is no periodic batch recomputation. Every `checkEvery` steps the
// strongest autocorrelation peak is looked for: a local maximum at lag >= 4
// whose height is at least `minCorr` and that rises at least `minCorr / 2`
// above the lowest autocorrelation at shorter lags (so a slowly decaying ACF
// of a trending or persistent series is not taken for a season). The shortest
// peak within 80% of the highest wins, so multiples of the true season are
// not picked. The period is refined by a parabola through the peak, so a
// cycle of 13.4 steps is reported as such (Holt–Winters rounds it; the
// Fourier model uses it as is).
export interface SeasonDetectorOptions {
  maxLag: number;
  minCorr: number;
  checkEvery: number;
  /** Memory of the autocovariance, in steps. */
  memorySteps: number;
}

export const SEASON_DEFAULTS: SeasonDetectorOptions = { maxLag: 600, minCorr: 0.3, checkEvery: 64, memorySteps: 3000 };

export class SeasonDetector {
  readonly opts: SeasonDetectorOptions;
  /** Last maxLag + 1 raw values as a ring; `head` is where the next goes. */
  readonly ring: Float64Array;
  private head = 0;
  private readonly acov: Float64Array;
  private readonly dev: Float64Array;
  private mean = 0;
  n = 0;
  /** Detected period in steps (fractional), or 0 for none. */
  period = 0;
  /** Autocorrelation at the detected period. */
  strength = 0;

  constructor(opts: Partial<SeasonDetectorOptions> = {}) {
    this.opts = { ...SEASON_DEFAULTS, ...opts };
    this.ring = new Float64Array(this.opts.maxLag + 1);
    this.dev = new Float64Array(this.opts.maxLag + 1);
    this.acov = new Float64Array(this.opts.maxLag + 1);
  }

  observe(value: number): void {
    const L = this.opts.maxLag;
    const size = L + 1;
    this.n++;
    this.mean += Math.max(1 / this.n, 1 / (2 * L)) * (value - this.mean);
    const d = value - this.mean;
    this.ring[this.head] = value;
    this.dev[this.head] = d;
    const r = Math.max(1 / this.n, 1 / this.opts.memorySteps);
    const keep = 1 - r;
    const acov = this.acov;
    const dev = this.dev;
    const lags = Math.min(L, this.n - 1);
    // lag l pairs d_t with the deviation written l steps ago (ring index head - l).
    let idx = this.head;
    for (let l = 0; l <= lags; l++) {
      acov[l] = keep * acov[l] + r * d * dev[idx];
      idx = idx === 0 ? size - 1 : idx - 1;
    }
    this.head = this.head + 1 === size ? 0 : this.head + 1;
    if (this.n % this.opts.checkEvery === 0) this.detect();
  }

  /** Raw value observed `ago` steps back (0 = newest). Needs ago <= maxLag. */
  valueAgo(ago: number): number {
    const size = this.opts.maxLag + 1;
    return this.ring[(this.head - 1 - ago + 2 * size) % size];
  }

  private detect(): void {
    const c0 = this.acov[0];
    // Lags need about two full cycles of data to be trusted.
    const maxLag = Math.min(this.opts.maxLag - 1, Math.floor(this.n / 2.5));
    if (!(c0 > 0) || maxLag < 5) {
      this.period = 0;
      return;
    }
    const rho = (l: number) => this.acov[l] / c0;
    const minCorr = this.opts.minCorr;
    // Qualifying peaks, then the shortest whose height is within 80% of the
    // highest: a fractional period (13.4 steps) can make its 2nd multiple the
    // highest integer-lag peak, but the fundamental is what we want.
    const peaks: number[] = [];
    let top = 0;
    let lowest = rho(1);
    for (let l = 2; l <= maxLag; l++) {
      const r = rho(l);
      if (l >= 4 && r >= minCorr && r >= rho(l - 1) && r > rho(l + 1) && r - lowest >= minCorr / 2) {
        peaks.push(l);
        if (r > top) top = r;
      }
      if (r < lowest) lowest = r;
    }
    const best = peaks.find((l) => rho(l) >= 0.8 * top) ?? 0;
    if (best === 0) {
      this.period = 0;
      this.strength = 0;
      return;
    }
    const bestRho = rho(best);
    // Parabolic refinement of the peak position.
    const a = rho(best - 1);
    const b = rho(best);
    const c = rho(best + 1);
    const den = a - 2 * b + c;
    const shift = den < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / den)) : 0;
    this.period = best + shift;
    this.strength = bestRho;
  }
}
