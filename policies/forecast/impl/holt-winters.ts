// Holt–Winters with additive seasonality and a damped additive trend. The
// season length is either given or detected online (season-detector.ts);
// without a season it is Holt's damped linear method, and with beta = 0 as
// well it is simple exponential smoothing. When a (new) season length is
// detected the seasonal indices are initialised from the recent cycles the
// detector still holds, so a change of season does not start from zero.
import type { StepModel } from '../forecaster.js';
import { SeasonDetector } from '../season-detector.js';

export interface HoltWintersOptions {
  alpha: number;
  beta: number;
  gamma: number;
  /** Trend damping per step (1 = undamped). */
  phi: number;
  /** Season length in steps: > 1 fixed, 0 = no season, undefined = detect online. */
  seasonSteps?: number;
}

/** Gains of the error-correction form; gamma <= 1 - alpha keeps the seasonal recursion stable. */
export const HOLT_WINTERS_DEFAULTS: HoltWintersOptions = { alpha: 0.5, beta: 0.01, gamma: 0.1, phi: 0.9 };

export class HoltWintersModel implements StepModel {
  private readonly o: HoltWintersOptions;
  private readonly detector: SeasonDetector | null;
  private level = NaN;
  private trend = 0;
  private season = new Float64Array(0);
  /** Index into `season` of the next step's phase. */
  private phase = 0;
  private m = 0;

  constructor(opts: Partial<HoltWintersOptions> = {}) {
    this.o = { ...HOLT_WINTERS_DEFAULTS, ...opts };
    const given = this.o.seasonSteps;
    if (given !== undefined && !(given === 0 || (Number.isInteger(given) && given > 1))) {
      throw new RangeError(`holt-winters season length must be 0 or an integer > 1, got ${given}`);
    }
    // Detect with a window long enough for two cycles of the longest season we look for.
    this.detector = given === undefined ? new SeasonDetector() : null;
    if (given !== undefined && given > 1) this.setSeason(given, false);
  }

  /** Season length in use (0 = none). */
  seasonLength(): number {
    return this.m;
  }

  observe(value: number): void {
    if (this.detector) {
      this.detector.observe(value);
      const m = Math.round(this.detector.period);
      if (m !== this.m && (m === 0 || m > 1)) this.setSeason(m, true);
    }
    if (Number.isNaN(this.level)) {
      this.level = value;
      return;
    }
    // Error-correction form of ETS(A,Ad,A) (Hyndman et al. 2008): every
    // component moves by its gain times the one-step error. Unlike the
    // textbook recursions (seasonal index against the new level), this one
    // has no slowly decaying oscillation for a reactive alpha.
    const { alpha, beta, gamma, phi } = this.o;
    const s = this.m > 0 ? this.season[this.phase] : 0;
    const damped = phi * this.trend;
    const e = value - (this.level + damped + s);
    this.level += damped + alpha * e;
    this.trend = damped + beta * e;
    if (this.m > 0) {
      this.season[this.phase] = s + gamma * e;
      this.phase = this.phase + 1 === this.m ? 0 : this.phase + 1;
    }
  }

  forecast(k: number): number {
    if (Number.isNaN(this.level)) return 0;
    const phi = this.o.phi;
    // phi + phi^2 + ... + phi^k
    const damp = phi === 1 ? k : (phi * (1 - Math.pow(phi, k))) / (1 - phi);
    const s = this.m > 0 ? this.season[(this.phase + k - 1) % this.m] : 0;
    return this.level + damp * this.trend + s;
  }

  private setSeason(m: number, fromHistory: boolean): void {
    this.m = m;
    this.season = new Float64Array(m);
    this.phase = 0;
    if (m === 0 || !fromHistory || !this.detector) return;
    // Average deviation from the mean at each phase over the whole cycles held.
    const det = this.detector;
    const cycles = Math.floor(Math.min(det.n, det.opts.maxLag) / m);
    if (cycles < 1) return;
    const span = cycles * m;
    let mean = 0;
    for (let a = 0; a < span; a++) mean += det.valueAgo(a);
    mean /= span;
    // The value `a` steps ago has phase (m - 1 - a) mod m when the next step is phase 0.
    for (let a = 0; a < span; a++) this.season[(((m - 1 - a) % m) + m) % m] += (det.valueAgo(a) - mean) / cycles;
    // Deseasonalised level: the mean of the latest full cycle.
    if (!Number.isNaN(this.level)) {
      let last = 0;
      for (let a = 0; a < m; a++) last += det.valueAgo(a);
      this.level = last / m;
    }
  }
}
