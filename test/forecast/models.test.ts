// Each model on synthetic series where the right answer is known, the blend's
// weights after a regime change, and laws every forecaster keeps.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { rngFor } from '../../util/rng.js';
import { ArModel } from '../../policies/forecast/impl/ar.js';
import { HoltWintersModel } from '../../policies/forecast/impl/holt-winters.js';
import { ProphetModel } from '../../policies/forecast/impl/prophet.js';
import { NaiveModel } from '../../policies/forecast/impl/naive.js';
import { EwmaModel } from '../../policies/forecast/impl/ewma.js';
import { MedianModel } from '../../policies/forecast/impl/median.js';
import { BlendModel } from '../../policies/forecast/impl/blend.js';
import { SeasonDetector } from '../../policies/forecast/season-detector.js';
import { BlendForecaster, createForecaster, FORECASTER_NAMES } from '../../policies/forecast/forecaster.js';

const STEP_NS = 10_000_000; // the policy engine's 10 ms period

describe('naive, ewma, median', () => {
  it('naive repeats the last value; ewma follows its recursion; median ignores a single spike', () => {
    const n = new NaiveModel();
    const e = new EwmaModel(0.5);
    const m = new MedianModel(5);
    for (const v of [4, 8, 6, 100, 7]) {
      n.observe(v);
      e.observe(v);
      m.observe(v);
    }
    expect(n.forecast()).toBe(7);
    // 4 -> 6 -> 6 -> 53 -> 30
    expect(e.forecast()).toBe(30);
    expect(m.forecast()).toBe(7); // median of 4, 8, 6, 100, 7
  });
});

describe('ar', () => {
  it('recovers the coefficients of an AR(2) process', () => {
    const rng = rngFor(7, 'test/ar2');
    const model = new ArModel({ order: 2, lambda: 1 });
    let y1 = 0;
    let y2 = 0;
    for (let t = 0; t < 20_000; t++) {
      const y = 0.6 * y1 - 0.3 * y2 + rng.normal();
      model.observe(y + 50);
      y2 = y1;
      y1 = y;
    }
    const [a1, a2, c] = model.coefficients();
    expect(a1).toBeCloseTo(0.6, 1);
    expect(a2).toBeCloseTo(-0.3, 1);
    expect(Math.abs(c)).toBeLessThan(0.1); // the centre absorbs the mean
  });

  it('forecasts the decay of an AR(1) towards its mean', () => {
    const m = new ArModel({ order: 1, lambda: 1 });
    const rng = rngFor(3, 'test/ar1');
    let y = 0;
    for (let t = 0; t < 20_000; t++) {
      y = 0.8 * y + rng.normal();
      m.observe(10 + y);
    }
    const dev = m.forecast(1) - 10;
    // k steps ahead the deviation shrinks by about 0.8^k
    expect((m.forecast(3) - 10) / dev).toBeCloseTo(0.64, 1);
  });
});

describe('season detection and holt-winters', () => {
  const seasonal = (t: number) => 50 + 20 * Math.sin((2 * Math.PI * t) / 24) + 8 * Math.cos((4 * Math.PI * t) / 24);

  it('detects the season length of a clean cycle, fractional too', () => {
    for (const period of [24, 13.4]) {
      const d = new SeasonDetector();
      for (let t = 0; t < 2000; t++) d.observe(Math.sin((2 * Math.PI * t) / period));
      expect(d.period).toBeCloseTo(period, 0);
    }
    const flat = new SeasonDetector();
    const rng = rngFor(1, 'test/noise');
    for (let t = 0; t < 2000; t++) flat.observe(rng.normal());
    expect(flat.period).toBe(0);
  });

  it('follows a clean seasonal series one full season ahead', () => {
    // With a reactive alpha, Holt–Winters' level and seasonal indices trade a
    // slowly decaying oscillation (eigenvalues ~0.9993 per step for m = 24),
    // so give it a few thousand steps.
    const hw = new HoltWintersModel();
    for (let t = 0; t < 8000; t++) hw.observe(seasonal(t));
    expect(hw.seasonLength()).toBe(24);
    for (let k = 1; k <= 24; k++) expect(Math.abs(hw.forecast(k) - seasonal(7999 + k))).toBeLessThan(0.1);
  });

  it('without a season it is Holt: follows a straight line', () => {
    const hw = new HoltWintersModel({ seasonSteps: 0, phi: 1 });
    for (let t = 0; t < 500; t++) hw.observe(3 + 2 * t);
    expect(hw.forecast(5)).toBeCloseTo(3 + 2 * 504, 3);
  });

  it('prophet-style fit follows trend plus season', () => {
    const p = new ProphetModel({ seasonSteps: 24 });
    for (let t = 0; t < 3000; t++) p.observe(seasonal(t) + 0.01 * t, t);
    let err = 0;
    for (let k = 1; k <= 24; k++) err += Math.abs(p.forecast(k) - (seasonal(2999 + k) + 0.01 * (2999 + k)));
    expect(err / 24).toBeLessThan(1); // amplitude is 20
  });
});

describe('blend (dynamic weighting)', () => {
  it('moves its weight to the model that is right after a regime change, and back', () => {
    const rng = rngFor(5, 'test/regime');
    const blend = new BlendModel([
      { name: 'naive', model: new NaiveModel() },
      { name: 'seasonal', model: new HoltWintersModel({ seasonSteps: 24, alpha: 0.1, gamma: 0.05 }) },
    ]);
    blend.track(1);
    const cycle = (t: number) => 50 + 20 * Math.sin((2 * Math.PI * t) / 24) + 0.2 * rng.normal();
    let t = 0;
    let walk = 50;
    for (; t < 1200; t++) blend.observe(cycle(t), t);
    expect(blend.weightsAt(1).seasonal).toBeGreaterThan(0.8);
    // Regime change: a random walk with large steps, no cycle any more.
    for (; t < 1500; t++) blend.observe((walk += 5 * rng.normal()), t);
    expect(blend.weightsAt(1).naive).toBeGreaterThan(0.8);
    for (; t < 2500; t++) blend.observe(cycle(t), t);
    expect(blend.weightsAt(1).seasonal).toBeGreaterThan(0.5);
  });

  it('weights are observable through the time-based forecaster and sum to 1', () => {
    const f = createForecaster('blend') as BlendForecaster;
    for (let i = 0; i < 300; i++) {
      f.update(i * STEP_NS, 10 + (i % 10));
      f.predict(3 * STEP_NS);
    }
    const w = f.weights();
    expect(Object.keys(w)).toEqual(['naive', 'ewma', 'median', 'ar', 'holt-winters', 'prophet', 'lstm']);
    expect(Object.values(w).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });
});

describe('every forecaster', () => {
  it('is deterministic, finite, with upper >= mean', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FORECASTER_NAMES), fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 120 }), fc.integer({ min: 1, max: 8 }), (name, ys, h) => {
        const a = createForecaster(name);
        const b = createForecaster(name);
        ys.forEach((y, i) => {
          a.update(i * STEP_NS, y);
          b.update(i * STEP_NS, y);
          const pa = a.predict(h * STEP_NS);
          const pb = b.predict(h * STEP_NS);
          expect(pa).toEqual(pb);
          expect(Number.isFinite(pa.mean) && Number.isFinite(pa.upper)).toBe(true);
          expect(pa.upper).toBeGreaterThanOrEqual(pa.mean);
        });
      }),
      { numRuns: 60, seed: 42 },
    );
  });

  it('the upper bound covers about 95% of outcomes on a noisy series', () => {
    for (const name of ['naive', 'ar', 'blend']) {
      const f = createForecaster(name);
      const rng = rngFor(9, `test/cover/${name}`);
      const preds: number[] = [];
      let covered = 0;
      let scored = 0;
      for (let i = 0; i < 6000; i++) {
        const y = 100 + 10 * Math.sin(i / 50) + 5 * rng.normal();
        if (i >= 3 && i > 1000) {
          scored++;
          if (y <= preds[i - 3]) covered++;
        }
        f.update(i * STEP_NS, y);
        preds.push(f.predict(3 * STEP_NS).upper);
      }
      const rate = covered / scored;
      expect(rate, name).toBeGreaterThan(0.9);
      expect(rate, name).toBeLessThan(0.99);
    }
  });

  it('reads a horizon in time, with the step learnt from update times', () => {
    const f = createForecaster('ar');
    for (let i = 0; i < 200; i++) f.update(i * 300e9, i); // 5-minute steps, a straight line
    // 1500 s = 5 steps ahead
    expect(f.predict(1500e9).mean).toBeCloseTo(204, 0);
  });
});
