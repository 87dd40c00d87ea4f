// How a task's demand varies over time: a first-class service's request rate,
// or the share of a second-class job's threads that are runnable. Profiles are
// piecewise constant so the event-driven simulator can jump from change to
// change; traces are interpolated at a fixed resolution to keep that true.

export interface DemandProfile {
  /** Value at time t (ns). */
  valueAt(tNs: number): number;
  /** First time after t at which the value changes (Infinity if it never does). */
  nextChangeNs(tNs: number): number;
  /** Largest value over (t, t + horizon] — what an oracle would reserve for. */
  peakOver(tNs: number, horizonNs: number): number;
  /** Mean value over (t, t + horizon]. */
  meanOver(tNs: number, horizonNs: number): number;
}

export class ConstantProfile implements DemandProfile {
  constructor(private readonly value: number) {}
  valueAt(): number {
    return this.value;
  }
  nextChangeNs(): number {
    return Infinity;
  }
  peakOver(): number {
    return this.value;
  }
  meanOver(): number {
    return this.value;
  }
}

/**
 * A table of equal-length steps: value[i] holds over [start + i*step, start + (i+1)*step).
 * After the last step the table repeats when `loop`, else holds its last value.
 */
export class StepProfile implements DemandProfile {
  private readonly periodNs: number;
  /** For each step, how many steps until the value differs (Infinity if it never does). */
  private readonly runLength: Float64Array;
  constructor(
    private readonly values: Float64Array,
    private readonly stepNs: number,
    private readonly loop: boolean,
  ) {
    if (values.length === 0) throw new RangeError('a step profile needs at least one value');
    if (!(stepNs > 0) || !Number.isInteger(stepNs)) throw new RangeError(`step must be a positive integer ns, got ${stepNs}`);
    this.periodNs = values.length * stepNs;
    const n = values.length;
    this.runLength = new Float64Array(n).fill(Infinity);
    // scan backwards (twice round when looping) so every step knows the distance to the next change
    let next = Infinity;
    for (let k = (loop ? 2 * n : n) - 1; k >= 0; k--) {
      const i = k % n;
      const j = (k + 1) % n;
      if (k + 1 < (loop ? 2 * n : n) && values[j] !== values[i]) next = k + 1;
      this.runLength[i] = next === Infinity ? Infinity : next - k;
    }
  }
  private index(tNs: number): number {
    let i = Math.floor(tNs / this.stepNs);
    if (i < 0) i = 0;
    if (i >= this.values.length) i = this.loop ? i % this.values.length : this.values.length - 1;
    return i;
  }
  valueAt(tNs: number): number {
    return this.values[this.index(tNs)];
  }
  nextChangeNs(tNs: number): number {
    if (!this.loop && tNs >= this.periodNs - this.stepNs) return Infinity;
    const step = Math.max(0, Math.floor(tNs / this.stepNs));
    const run = this.runLength[this.index(tNs)];
    return run === Infinity ? Infinity : (step + run) * this.stepNs;
  }
  peakOver(tNs: number, horizonNs: number): number {
    let peak = this.valueAt(tNs);
    for (let t = this.nextChangeNs(tNs); t <= tNs + horizonNs; t = this.nextChangeNs(t)) {
      peak = Math.max(peak, this.valueAt(t));
      if (t === Infinity) break;
    }
    return peak;
  }
  meanOver(tNs: number, horizonNs: number): number {
    if (horizonNs <= 0) return this.valueAt(tNs);
    let sum = 0;
    let t = tNs;
    const end = tNs + horizonNs;
    while (t < end) {
      const next = Math.min(this.nextChangeNs(t), end);
      sum += this.valueAt(t) * (next - t);
      t = next;
    }
    return sum / horizonNs;
  }
}

/** Phases: hold each value for its duration, in order, then loop (or hold the last). */
export function phaseProfile(phases: { durationNs: number; value: number }[], loop: boolean): DemandProfile {
  if (phases.length === 0) throw new RangeError('a phase list needs at least one phase');
  // express as steps on the gcd of the durations, so StepProfile does the bookkeeping
  const g = phases.map((p) => p.durationNs).reduce((a, b) => gcd(a, b));
  const values: number[] = [];
  for (const p of phases) for (let i = 0; i < p.durationNs / g; i++) values.push(p.value);
  if (values.length > 1_000_000) throw new RangeError('phase durations have too small a common divisor; round them to whole milliseconds');
  return new StepProfile(Float64Array.from(values), g, loop);
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

export interface TraceProfileOptions {
  /** Simulated time one trace sample spans (e.g. 5-minute samples replayed as 50 ms). */
  sampleNs: number;
  /** Resolution of the piecewise-constant interpolation between samples. */
  resolutionNs: number;
  /** Map the trace's [min, max] (over the samples used) linearly onto [lo, hi]. */
  scaleTo: { lo: number; hi: number };
  /** First sample to use, and how many (default: all after the offset). */
  offset?: number;
  length?: number;
  loop?: boolean;
}

/** A real utilisation series as a demand profile: rescaled, time-compressed, linearly interpolated. */
export function traceProfile(samples: Float64Array, opts: TraceProfileOptions): DemandProfile {
  const offset = opts.offset ?? 0;
  const n = opts.length ?? samples.length - offset;
  if (offset < 0 || n < 2 || offset + n > samples.length) throw new RangeError(`trace slice [${offset}, ${offset + n}) is not inside the ${samples.length} samples (need at least 2)`);
  const slice = samples.subarray(offset, offset + n);
  let min = Infinity;
  let max = -Infinity;
  for (const v of slice) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min;
  const scale = (v: number) => (span > 0 ? opts.scaleTo.lo + ((v - min) / span) * (opts.scaleTo.hi - opts.scaleTo.lo) : (opts.scaleTo.lo + opts.scaleTo.hi) / 2);
  const perSample = Math.max(1, Math.round(opts.sampleNs / opts.resolutionNs));
  const values = new Float64Array((n - 1) * perSample + 1);
  for (let i = 0; i < n - 1; i++) {
    const a = scale(slice[i]);
    const b = scale(slice[i + 1]);
    for (let j = 0; j < perSample; j++) values[i * perSample + j] = a + ((b - a) * j) / perSample;
  }
  values[values.length - 1] = scale(slice[n - 1]);
  return new StepProfile(values, Math.round(opts.sampleNs / perSample), opts.loop ?? true);
}
