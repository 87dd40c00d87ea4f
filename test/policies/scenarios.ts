// Random task mixes and demand sequences for the property tests, as plain
// JSON-able cases (so a failing case fast-check prints can be pasted into
// test/policies/cases/ and replayed), and the loop that runs a policy on the
// fake platform recording what the properties need.
import fc from 'fast-check';
import type { Action, Policy, Snapshot } from '../../policies/platform.js';
import { FakePlatform, type AllocView, type Demand, type FakeTaskSpec } from './fake-platform.js';

export interface Segment {
  ticks: number;
  level: number;
}

export interface FirstCase {
  baseRps: number;
  costUs: number;
  bwPerCoreGBs: number;
  occMiB: number;
  sloMs: number;
  segments: Segment[];
  startAt?: number;
  exitAt?: number;
}

export interface SecondCase {
  cpu: number;
  bwPerCoreGBs: number;
  occMiB: number;
  io: number;
  segments: Segment[];
  startAt?: number;
  exitAt?: number;
}

export interface Case {
  cores: number;
  ways: number;
  colours: number;
  ticks: number;
  periodMs: number;
  first: FirstCase[];
  second: SecondCase[];
  /** Floors per first-class index (fit in capacity by construction). */
  floorCores: number[];
  floorWays: number[];
}

const levelAt = (segs: Segment[], tick: number): number => {
  let t = tick;
  const total = segs.reduce((s, x) => s + x.ticks, 0);
  if (total <= 0) return 0;
  t %= total; // repeat the sequence
  for (const s of segs) {
    if (t < s.ticks) return s.level;
    t -= s.ticks;
  }
  return segs[segs.length - 1].level;
};

export function taskSpecs(c: Case): FakeTaskSpec[] {
  const specs: FakeTaskSpec[] = [];
  c.first.forEach((f, i) => {
    specs.push({
      id: `lc${i}`,
      cls: 'first',
      sloP99Ns: f.sloMs * 1e6,
      startAt: f.startAt,
      exitAt: f.exitAt,
      demand: (tick): Demand => {
        const rps = f.baseRps * levelAt(f.segments, tick);
        const cpu = rps * f.costUs * 1e-6;
        return { cpu, rps, memBw: cpu * f.bwPerCoreGBs * 1e9, occBytes: f.occMiB * 1048576, io: 0 };
      },
    });
  });
  c.second.forEach((s, i) => {
    specs.push({
      id: `be${i}`,
      cls: 'second',
      startAt: s.startAt,
      exitAt: s.exitAt,
      demand: (tick): Demand => {
        const cpu = s.cpu * levelAt(s.segments, tick);
        return { cpu, memBw: cpu * s.bwPerCoreGBs * 1e9, occBytes: s.occMiB * 1048576, io: s.io * 1e6 };
      },
    });
  });
  return specs;
}

export function platformFor(c: Case, futureTicks = 3): FakePlatform {
  return new FakePlatform({ cores: c.cores, ways: c.ways, colours: c.colours, wayBytes: 2 * 1048576, periodNs: c.periodMs * 1e6, tasks: taskSpecs(c), futureTicks });
}

const segments = (maxLevel: number) => fc.array(fc.record({ ticks: fc.integer({ min: 1, max: 25 }), level: fc.double({ min: 0, max: maxLevel, noNaN: true }) }), { minLength: 1, maxLength: 6 });

export const caseArb: fc.Arbitrary<Case> = fc
  .record({
    cores: fc.integer({ min: 4, max: 16 }),
    ways: fc.constantFrom(0, 8, 11, 16),
    colours: fc.constantFrom(0, 16, 64),
    ticks: fc.integer({ min: 30, max: 70 }),
    periodMs: fc.constantFrom(5, 10, 20),
    first: fc.array(
      fc.record({
        baseRps: fc.integer({ min: 200, max: 20000 }),
        costUs: fc.integer({ min: 20, max: 400 }),
        bwPerCoreGBs: fc.double({ min: 0, max: 4, noNaN: true }),
        occMiB: fc.integer({ min: 0, max: 24 }),
        sloMs: fc.integer({ min: 1, max: 20 }),
        segments: segments(1.5),
        startAt: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
        exitAt: fc.option(fc.integer({ min: 25, max: 60 }), { nil: undefined }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    second: fc.array(
      fc.record({
        cpu: fc.double({ min: 0, max: 4, noNaN: true }),
        bwPerCoreGBs: fc.double({ min: 0, max: 10, noNaN: true }),
        occMiB: fc.integer({ min: 0, max: 32 }),
        io: fc.integer({ min: 0, max: 500 }),
        segments: segments(1),
        startAt: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
        exitAt: fc.option(fc.integer({ min: 25, max: 60 }), { nil: undefined }),
      }),
      { minLength: 0, maxLength: 12 },
    ),
    floorSeed: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }),
  })
  .map(({ floorSeed, ...c }) => {
    // floors that fit: first-class floors plus one unit left for second-class work
    c.first = c.first.slice(0, Math.max(1, c.cores - 1));
    const n = c.first.length;
    const coreBudget = c.cores - 1;
    const wayBudget = Math.max(0, c.ways - 1);
    const floorCores = c.first.map((_, i) => Math.max(1, Math.min(1 + floorSeed[i], Math.floor(coreBudget / n))));
    const floorWays = c.first.map((_, i) => (c.ways ? Math.max(1, Math.min(1 + floorSeed[i], Math.floor(wayBudget / n))) : 0));
    return { ...c, floorCores, floorWays };
  });

export function floorsConfig(c: Case): Record<string, { cores: number; cacheWays?: number }> {
  const out: Record<string, { cores: number; cacheWays?: number }> = {};
  c.first.forEach((_, i) => {
    out[`lc${i}`] = c.ways ? { cores: c.floorCores[i], cacheWays: c.floorWays[i] } : { cores: c.floorCores[i] };
  });
  return out;
}

export interface TickRecord {
  tick: number;
  snapshot: Snapshot;
  actions: Action[];
  refused: number;
  violations: string[];
  /** Allocation state right after this tick's actions were applied. */
  after: Map<string, AllocView>;
  explain?: unknown;
}

/** observe -> decide -> apply -> advance, recording every step. */
export function runLoop(platform: FakePlatform, policy: Policy, ticks: number, withExplain = false): TickRecord[] {
  const out: TickRecord[] = [];
  const period = platform.o.periodNs;
  for (let i = 0; i < ticks; i++) {
    const snap = platform.observe();
    if (i === 0) policy.init?.(platform.capabilities(), snap);
    const actions = policy.decide(snap);
    const res = platform.apply(actions);
    policy.onApplied?.(res);
    const ex = withExplain ? (policy as { explain?: () => unknown }).explain?.() : undefined;
    out.push({ tick: i, snapshot: snap, actions, refused: res.refused.length, violations: platform.violations(), after: platform.view(), explain: ex ? structuredClone(ex) : undefined });
    platform.advance(platform.now() + period);
  }
  return out;
}

