// The shadow engine: every mechanism of both design notes, wired into one
// Policy, each switchable for ablations.
//
// Every tick (decide):
//  1. shadows observe each task (a shadow per task, created when it first
//     appears, dropped when it exits); echo results correct them;
//  2. each first-class task's shadow workload turns its forecasts into the
//     predicted access profile over the lead horizon; second-class profiles
//     come from their (cheap) shadows; system load from both;
//  3. the interference model learns online from the slowdown the first-class
//     tasks showed in the last window next to the second-class work that ran;
//  4. per first-class task and resource: sizing turns predicted demand (upper
//     quantile) at the lead and near horizons into units; the lease state
//     machine reserves ahead (warm-up), activates on need and releases after
//     the grace period; arbitration enforces capacity and floors, and a
//     shortfall takes the configured fallback;
//  5. the layout picks concrete units; quarantine selects the second-class
//     tasks predicted to interfere with the coming demand, and the manager
//     applies or lifts their caps;
//  6. echo bursts are requested where the forecast is unsure;
//  7. the reconciler turns the plan into a legal, ordered action batch.
//
// decide() is deterministic: it reads only the snapshot and its own state.
import type { Action, ApplyResult, Capabilities, DemandKind, Policy, ResourceKind, Snapshot, TaskId, TaskSample } from './platform.js';
import { DEMAND_KINDS } from './platform.js';
import { InputError, UnsupportedError } from '../util/errors.js';
import type { ShadowConfig } from './config/shadow-config.js';
import { ObservationExtractor, type DemandObservation } from './shadow/observation.js';
import type { TaskShadow } from './shadow/shadow.js';
import { ForecastShadow } from './shadow/impl/forecast-shadow.js';
import { OracleShadow } from './shadow/impl/oracle-shadow.js';
import { FirstClassSizer } from './adjustment/sizing.js';
import { Lease } from './adjustment/impl/lease.js';
import type { LeaseDecision, LeaseOptions } from './adjustment/adjustment.js';
import { arbitrate } from './adjustment/arbitration.js';
import { ShadowWorkload } from './shadow-workload/shadow-workload.js';
import { aggregateProfiles, buildProfile, profileScale, PROFILE_FEATURES, PROFILE_LEN, type InterferenceInput, type ProfileScale, type ProfileVector } from './interference/features.js';
import type { InterferencePredictor } from './interference/predictor.js';
import { FormulaPredictor } from './interference/impl/formula.js';
import { LearnedPredictor } from './interference/impl/learned.js';
import { SlowdownTracker } from './interference/slowdown.js';
import { QuarantineManager, LEVEL_NAMES, type QuarantineEntry, type QuarantineWant } from './quarantine/quarantine.js';
import { mergeWants, selectQuarantine, type SelectionCandidate } from './quarantine/selection.js';
import { EchoPlanner } from './echo/echo.js';
import { buildPartition, heldCount, type FirstAmounts } from './common/partition.js';
import type { Deferred, EchoRequest, Plan } from './common/plan.js';
import { reconcile } from './common/reconcile.js';
import { EventLog, type PolicyEvent } from './common/events.js';
import { clamp, clamp01 } from './common/masks.js';

const FIRST_KINDS: readonly DemandKind[] = DEMAND_KINDS;
const SECOND_KINDS: readonly DemandKind[] = ['cpu', 'memBw', 'llcOccupancy', 'llcMissRate', 'io'];
/** First-class dimensions that only shape the profile or bound a feedback loop (LLC occupancy caps the ways): a cheap forecaster is enough. */
const FIRST_AUX_KINDS: readonly DemandKind[] = ['llcMissRate', 'io', 'llcOccupancy'];
const CAPACITY_RESOURCES: readonly ResourceKind[] = ['cores', 'cacheWays', 'bankColours', 'memBandwidthPct'];

export interface Timing {
  periodNs: number;
  leadNs: number;
  nearNs: number;
  graceNs: number;
  warmExpiryNs: number;
  cooldownNs: number;
  liftAfterNs: number;
  echoIntervalNs: number;
}

interface FirstState {
  cls: 'first';
  id: TaskId;
  extractor: ObservationExtractor;
  shadow: TaskShadow;
  sizer: FirstClassSizer;
  sw: ShadowWorkload;
  slowdown: SlowdownTracker;
  leases: Map<ResourceKind, Lease>;
  obs?: DemandObservation;
  sample?: TaskSample;
  profile: ProfileVector;
  inputs: Map<ResourceKind, { wantLead: number; wantNear: number; floor: number; cap: number }>;
  shortfall: Map<ResourceKind, number>;
  lastSlowdown?: number;
  interference?: FirstTrace['interference'];
}

interface SecondState {
  cls: 'second';
  id: TaskId;
  extractor: ObservationExtractor;
  shadow: TaskShadow;
  obs?: DemandObservation;
  sample?: TaskSample;
  profile: ProfileVector;
  /** Profile last predicted while it ran unconfined (what it would do if let out). */
  freeProfile?: ProfileVector;
  /** What it did in the last window. */
  current?: ProfileVector;
  baseline: { mbaPct: number; ioWeight: number; quotaPct: number; paused: boolean };
}

type TaskState = FirstState | SecondState;

export interface LeaseTrace {
  state: LeaseDecision['state'];
  wanted: number;
  reserved: number;
  active: number;
  floor: number;
  cap: number;
  wantLead: number;
  wantNear: number;
}

export interface FirstTrace {
  task: TaskId;
  slack: number | undefined;
  latencyCalibration: number;
  costPerRequestSec: number | undefined;
  observedSlowdown: number | undefined;
  profile: Record<string, number>;
  realtimeWeight: Partial<Record<DemandKind, number>>;
  leases: Partial<Record<ResourceKind, LeaseTrace>>;
  shortfall: Partial<Record<ResourceKind, number>>;
  /** Quarantine decision for this victim: slowdown it can absorb, slowdown expected next to all second-class work, interference probability before and after quarantine. */
  interference?: { tolerableSlowdown: number; expectedSlowdown: number; before: number; after: number };
}

export interface SecondTrace {
  task: TaskId;
  /** Highest pairwise probability of interfering with a first-class task. */
  probability: number;
  reason: string | undefined;
  wanted: (typeof LEVEL_NAMES)[number];
  level: (typeof LEVEL_NAMES)[number];
}

export interface ShadowExplain {
  timeNs: number;
  timing: Timing;
  load: number;
  first: FirstTrace[];
  second: SecondTrace[];
  echoes: EchoRequest[];
  deferred: Deferred[];
}

export interface ShadowMetrics {
  ticks: number;
  /** Reserved-but-unused (warm) unit-time per resource, unit x ns. */
  reservedUnusedUnitNs: Partial<Record<ResourceKind, number>>;
  reserves: number;
  releases: number;
  activations: number;
  falseAlarms: number;
  warmActions: number;
  warmBudgetNs: number;
  echoesRequested: number;
  echoesReceived: number;
  echoCostCpuNs: number;
  quarantinesEntered: number;
  quarantinesLifted: number;
  /** Second-class task-time spent in each quarantine level, ns. */
  quarantineTaskNs: Record<string, number>;
  interferenceSamplesLearned: number;
  events: Record<string, number>;
}

export interface ShadowPolicyOptions {
  name: string;
  config: ShadowConfig;
  /** The oracle baseline: shadows read Snapshot.future instead of forecasting. */
  oracle?: boolean;
}

export class ShadowPolicy implements Policy {
  readonly name: string;
  readonly config: ShadowConfig;
  private readonly oracle: boolean;
  private caps: Capabilities | undefined;
  private scale!: ProfileScale;
  private predictor!: InterferencePredictor;
  private managed: ResourceKind[] = [];
  private readonly states = new Map<TaskId, TaskState>();
  private observedPeriodNs: number | undefined;
  private seenFutureHorizonNs: number | undefined;
  private readonly leaseOpts: LeaseOptions = { graceNs: 0, warmup: true, warmExpiryNs: 0, cooldownNs: 0 };
  private t!: Timing;
  private readonly quarantine: QuarantineManager;
  private readonly echo: EchoPlanner;
  readonly events = new EventLog();
  private lastTimeNs: number | undefined;
  private trace: ShadowExplain | undefined;
  private pairwise = new Map<TaskId, { probability: number; reasons?: readonly string[] }>();
  private readonly aggBuf = new Float64Array(PROFILE_LEN);
  private readonly m: ShadowMetrics = {
    ticks: 0,
    reservedUnusedUnitNs: {},
    reserves: 0,
    releases: 0,
    activations: 0,
    falseAlarms: 0,
    warmActions: 0,
    warmBudgetNs: 0,
    echoesRequested: 0,
    echoesReceived: 0,
    echoCostCpuNs: 0,
    quarantinesEntered: 0,
    quarantinesLifted: 0,
    quarantineTaskNs: { confine: 0, throttle: 0, pause: 0 },
    interferenceSamplesLearned: 0,
    events: {},
  };

  constructor(o: ShadowPolicyOptions) {
    this.name = o.name;
    this.config = o.config;
    this.oracle = o.oracle ?? false;
    this.quarantine = new QuarantineManager(() => this.t.liftAfterNs);
    this.echo = new EchoPlanner(() => ({
      minIntervalNs: this.t.echoIntervalNs,
      maxDurationNs: this.config.echo.maxDurationNs,
      budgetPct: this.config.echo.budgetPct,
      uncertaintyThreshold: this.config.echo.uncertaintyThreshold,
      departureWeight: this.config.echo.departureWeight,
    }));
  }

  /** The experiment runner reads these: the oracle needs Snapshot.future (over the configured lead time when one is set). */
  get needsFuture(): boolean {
    return this.oracle;
  }

  get futureHorizonNs(): number | undefined {
    return this.oracle ? this.config.leadTimeNs : undefined;
  }

  // ------------------------------------------------------------------ setup

  init(capabilities: Capabilities, snapshot: Snapshot): void {
    this.caps = capabilities;
    this.scale = profileScale(capabilities);
    const c = this.config;
    this.predictor =
      c.mechanisms.interference === 'learned'
        ? new LearnedPredictor({ tolerableSlowdown: c.interference.tolerableSlowdown, learningRate: c.interference.learningRate, weightsPath: c.interference.weightsPath })
        : new FormulaPredictor({ threshold: c.interference.threshold, sensitivityRef: c.interference.sensitivityRef, priorityWeight: c.interference.priorityWeight });
    const offered: ResourceKind[] = [];
    if (capabilities.coreIds.length) offered.push('cores');
    if (capabilities.cacheWays) offered.push('cacheWays');
    if (capabilities.bankColours) offered.push('bankColours');
    if (capabilities.memBandwidth) offered.push('memBandwidthPct');
    if (capabilities.ioWeight) offered.push('ioWeight');
    const wanted = (c.resources as ResourceKind[] | undefined) ?? offered;
    this.managed = offered.filter((r) => wanted.includes(r));
    this.checkFloors(snapshot);
    this.t = this.timing();
  }

  /** Floors of the first-class tasks present, plus the second-class floor, must fit. */
  private checkFloors(snapshot: Snapshot): void {
    const firsts = snapshot.tasks.filter((t) => t.class === 'first' && t.state !== 'exited');
    const anySecond = snapshot.tasks.some((t) => t.class === 'second' && t.state !== 'exited');
    for (const r of CAPACITY_RESOURCES) {
      if (!this.managed.includes(r)) continue;
      const need = firsts.reduce((s, t) => s + this.floorOf(t.id, r), 0) + (anySecond ? this.secondFloor(r) : 0);
      const cap = this.capacity(r);
      if (need > cap) {
        throw new InputError(`the first-class floors (${firsts.map((t) => `${t.id}: ${this.floorOf(t.id, r)}`).join(', ')}) plus the second-class floor (${anySecond ? this.secondFloor(r) : 0}) need ${need} ${r} but the platform has ${cap}`, `policy "${this.name}" field "floors"`);
      }
    }
    for (const id of Object.keys(this.config.floors)) {
      const t = snapshot.tasks.find((x) => x.id === id);
      if (t && t.class !== 'first') throw new InputError(`"${id}" is a second-class task; floors are for first-class tasks`, `policy "${this.name}" field "floors.${id}"`);
    }
  }

  capacity(r: ResourceKind): number {
    const caps = this.caps!;
    switch (r) {
      case 'cores':
        return caps.coreIds.length;
      case 'cacheWays':
        return caps.cacheWays?.totalWays ?? 0;
      case 'bankColours':
        return caps.bankColours?.count ?? 0;
      case 'memBandwidthPct':
        return caps.memBandwidth ? 100 : 0;
      case 'ioWeight':
        return caps.ioWeight?.max ?? 0;
    }
  }

  floorOf(task: TaskId, r: ResourceKind): number {
    const f = this.config.floors[task]?.[r];
    if (f !== undefined) return f;
    const caps = this.caps!;
    switch (r) {
      case 'cores':
        return 1;
      case 'cacheWays':
        return caps.cacheWays?.minWaysPerMask ?? 0;
      case 'bankColours':
        return caps.bankColours ? Math.ceil(caps.bankColours.count / 16) : 0;
      case 'memBandwidthPct':
      case 'ioWeight':
        return 0;
    }
  }

  secondFloor(r: ResourceKind): number {
    const f = this.config.secondClassFloor[r];
    if (f !== undefined) return f;
    const caps = this.caps!;
    switch (r) {
      case 'cores':
        return 1;
      case 'cacheWays':
        return caps.cacheWays?.minWaysPerMask ?? 0;
      case 'bankColours':
        return caps.bankColours ? Math.ceil(caps.bankColours.count / 8) : 0;
      case 'memBandwidthPct':
        return caps.memBandwidth?.minPct ?? 0;
      case 'ioWeight':
        return 0;
    }
  }

  timing(): Timing {
    const c = this.config;
    const p = c.controlPeriodNs ?? this.observedPeriodNs ?? 10_000_000;
    const lead = c.leadTimeNs ?? (this.oracle && this.seenFutureHorizonNs ? this.seenFutureHorizonNs : clamp(3 * p, 10_000_000, 50_000_000));
    const grace = c.graceNs ?? 5 * p;
    return {
      periodNs: p,
      leadNs: lead,
      nearNs: c.nearHorizonNs ?? p,
      graceNs: grace,
      warmExpiryNs: c.warmExpiryNs ?? lead + Math.max(grace, p),
      cooldownNs: c.warmCooldownNs ?? grace,
      liftAfterNs: c.quarantine.liftAfterNs ?? grace,
      echoIntervalNs: c.echo.minIntervalNs ?? 5 * p,
    };
  }

  private createState(t: TaskSample): TaskState {
    const c = this.config;
    const shadow: TaskShadow = this.oracle
      ? new OracleShadow(t.id, t.class)
      : new ForecastShadow(t.id, t.class, {
          forecaster: t.class === 'first' ? (c.mechanisms.weighting ? c.forecasters.firstClass : 'blend-equal') : c.forecasters.secondClass,
          kinds: t.class === 'first' ? FIRST_KINDS : SECOND_KINDS,
          auxiliaryKinds: t.class === 'first' ? FIRST_AUX_KINDS : undefined,
          auxiliaryForecaster: c.forecasters.firstClassAuxiliary,
          upperQuantile: c.upperQuantile,
          lstmWeightsPath: c.forecasters.lstmWeightsPath,
        });
    if (t.class === 'second') {
      const a = t.allocation;
      return {
        cls: 'second',
        id: t.id,
        extractor: new ObservationExtractor(),
        shadow,
        profile: new Float64Array(PROFILE_LEN),
        baseline: { mbaPct: a.memBandwidthPct, ioWeight: a.ioWeight, quotaPct: a.cpuQuotaPct, paused: a.paused },
      };
    }
    const leases = new Map<ResourceKind, Lease>();
    for (const r of this.managed) {
      const h = heldCount(t, r);
      leases.set(r, new Lease(r, this.leaseOpts, h.reserved, h.active));
    }
    return {
      cls: 'first',
      id: t.id,
      extractor: new ObservationExtractor(),
      shadow,
      sizer: new FirstClassSizer(this.caps!, c.sizing),
      sw: new ShadowWorkload(),
      slowdown: new SlowdownTracker(),
      leases,
      profile: new Float64Array(PROFILE_LEN),
      inputs: new Map(),
      shortfall: new Map(),
    };
  }

  // ------------------------------------------------------------------ decide

  decide(snap: Snapshot): Action[] {
    const caps = this.caps;
    if (!caps) throw new Error(`policy "${this.name}": init() must be called before decide()`);
    const now = snap.timeNs;
    if (this.observedPeriodNs === undefined && snap.windowNs > 0) this.observedPeriodNs = snap.windowNs;
    if (this.oracle) {
      if (!snap.future) throw new UnsupportedError(`policy "${this.name}" needs Snapshot.future (the true future demand), which only the simulator provides`);
      if (this.seenFutureHorizonNs === undefined && snap.future.length) this.seenFutureHorizonNs = snap.future[0].horizonNs;
    }
    this.t = this.timing();
    const T = this.t;
    this.leaseOpts.graceNs = T.graceNs;
    this.leaseOpts.warmup = this.config.mechanisms.warmup;
    this.leaseOpts.warmExpiryNs = T.warmExpiryNs;
    this.leaseOpts.cooldownNs = T.cooldownNs;
    const dtNs = this.lastTimeNs !== undefined ? Math.max(0, now - this.lastTimeNs) : 0;
    this.lastTimeNs = now;
    this.m.ticks++;

    // 1. shadows
    const live = snap.tasks.filter((t) => t.state !== 'exited');
    const liveIds = new Set(live.map((t) => t.id));
    for (const [id, st] of [...this.states]) {
      if (liveIds.has(id)) continue;
      if (st.cls === 'first') for (const [r, l] of st.leases) this.retire(r, l);
      this.states.delete(id);
    }
    const future = snap.future ? new Map(snap.future.map((f) => [f.task, f.peak])) : undefined;
    const firsts: FirstState[] = [];
    const seconds: SecondState[] = [];
    for (const t of live) {
      let st = this.states.get(t.id);
      if (!st || st.cls !== (t.class === 'first' ? 'first' : 'second')) {
        st = this.createState(t);
        this.states.set(t.id, st);
      }
      st.sample = t;
      st.obs = st.extractor.extract(t, now, snap.windowNs);
      if (st.shadow instanceof OracleShadow) st.shadow.setFuture(future?.get(t.id) ?? {});
      st.shadow.observe(st.obs);
      if (st.cls === 'first') {
        st.sizer.observe(st.obs);
        st.sw.observe(st.obs);
        firsts.push(st);
      } else seconds.push(st);
    }
    const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    firsts.sort(byId);
    seconds.sort(byId);
    for (const e of snap.echoes) {
      const st = this.states.get(e.task);
      if (st) st.shadow.applyEcho(e);
      this.echo.onResult(e, now);
    }

    // 2. predicted profiles and load
    let cpuSum = 0;
    let bwSum = 0;
    const qBefore = this.quarantine.all();
    for (const s of seconds) {
      this.secondProfile(s, T.leadNs);
      const q = qBefore.get(s.id);
      const confined = (q && q.level > 0) || s.sample!.allocation.paused || s.sample!.allocation.cpuQuotaPct < 100;
      if (!s.freeProfile) s.freeProfile = Float64Array.from(s.profile);
      else if (!confined) s.freeProfile.set(s.profile);
      const p = confined ? s.freeProfile : s.profile;
      cpuSum += p[0] * this.scale.coreCount;
      bwSum += p[1] * this.scale.peakBytesPerSec;
    }
    for (const f of firsts) {
      f.sw.profileAt(f.shadow, T.leadNs, this.scale, f.profile);
      cpuSum += f.profile[0] * this.scale.coreCount;
      bwSum += f.profile[1] * this.scale.peakBytesPerSec;
    }
    const load = clamp01(Math.max(cpuSum / this.scale.coreCount, bwSum / this.scale.peakBytesPerSec));
    for (const f of firsts) f.sw.setLoad(load);

    // 3. online learning from the window just observed
    if (seconds.length) this.learnFromWindow(firsts, seconds, load);

    // 4. sizing -> leases -> arbitration -> fallback
    const otherIo = (id: TaskId) => live.reduce((s, t) => s + (t.id === id ? 0 : (this.states.get(t.id)?.obs?.values.io ?? 0)), 0);
    for (const f of firsts) {
      f.shortfall.clear();
      f.interference = undefined;
      for (const r of this.managed) {
        const lease = f.leases.get(r)!;
        const floor = this.floorOf(f.id, r);
        const cap = this.leaseCap(f.id, r, firsts, seconds.length > 0);
        const wantLead = this.size(f, r, T.leadNs, cap, lease, otherIo, now, firsts.length);
        const wantNear = this.size(f, r, T.nearNs, cap, lease, otherIo, now, firsts.length);
        f.inputs.set(r, { wantLead, wantNear, floor, cap });
        lease.step({ nowNs: now, wantLead, wantNear, floor, cap, leadNs: T.leadNs, nearNs: T.nearNs });
      }
    }
    const forceQuarantine = new Set<TaskId>();
    for (const r of this.managed) {
      if (!CAPACITY_RESOURCES.includes(r)) continue;
      const capacity = this.capacity(r) - (seconds.length ? this.secondFloor(r) : 0);
      const grants = arbitrate(
        capacity,
        firsts.map((f) => {
          const d = f.leases.get(r)!.current;
          const h = heldCount(f.sample!, r);
          return { task: f.id, floor: this.floorOf(f.id, r), wantActive: d.active, wantReserved: d.reserved, heldActive: h.active, heldReserved: h.reserved, urgency: f.sizer.slack() ?? 1 };
        }),
      );
      for (const f of firsts) {
        const g = grants.get(f.id)!;
        const lease = f.leases.get(r)!;
        let grant = g.reserved;
        if (g.shortfall > 0) {
          f.shortfall.set(r, g.shortfall);
          grant = this.fallback(f, r, g.reserved, g.shortfall, now, forceQuarantine);
        }
        lease.commit(grant, now);
      }
    }

    // 5. layout, sharing, quarantine
    const amounts = new Map<TaskId, FirstAmounts>();
    for (const f of firsts) {
      const a: FirstAmounts = { task: f.id };
      const split = (r: ResourceKind) => {
        const d = f.leases.get(r)?.current;
        return d ? { active: d.active, warm: d.reserved - d.active } : undefined;
      };
      if (this.managed.includes('cores')) a.cores = split('cores');
      if (this.managed.includes('cacheWays')) a.ways = split('cacheWays');
      if (this.managed.includes('bankColours')) a.colours = split('bankColours');
      if (this.managed.includes('memBandwidthPct')) a.memBandwidthPct = f.leases.get('memBandwidthPct')!.current.reserved;
      if (this.managed.includes('ioWeight')) a.ioWeight = f.leases.get('ioWeight')!.current.reserved;
      amounts.set(f.id, a);
    }
    const part = buildPartition(
      caps,
      firsts.map((f) => f.sample!),
      seconds.map((s) => s.sample!),
      amounts,
    );
    const wants = new Map<TaskId, QuarantineWant>();
    this.pairwise.clear();
    if (this.config.mechanisms.quarantine && seconds.length) {
      for (const f of firsts) {
        const fp = part.first.get(f.id)!;
        const sharing = Float64Array.from([
          fp.cores && fp.cores.active.length ? 0 : this.currentCpuSharing(f, seconds),
          fp.ways && fp.ways.active ? 0 : 1,
          fp.colours && fp.colours.active.length ? 0.5 : 1,
          1,
        ]);
        const prioF = this.config.interference.priorities[f.id] ?? 1;
        const candidates: SelectionCandidate[] = [];
        for (const s of seconds) {
          const prioS = this.config.interference.priorities[s.id] ?? 0;
          if (prioS >= prioF) continue; // never quarantined for a task it does not rank below
          candidates.push({ task: s.id, profile: s.freeProfile ?? s.profile, currentlyQuarantined: (qBefore.get(s.id)?.level ?? 0) > 0 });
        }
        const slack = f.sizer.slack();
        // slowdown relative to running alone that the victim absorbs: what its measured cost already carries, times what its planned cores can take on top
        const tolerable =
          f.sizer.tolerableSlowdown(f.leases.get('cores')?.current.reserved ?? f.sample!.allocation.cores.length, f.shadow.predict('rps', T.leadNs), this.config.interference.tolerableSlowdown) *
          Math.max(1, f.lastSlowdown ?? 1);
        const sel = selectQuarantine(
          f.profile,
          load,
          sharing,
          candidates,
          this.predictor,
          {
            threshold: this.config.interference.threshold,
            hysteresis: this.config.interference.hysteresis,
            throttleProbability: this.config.quarantine.throttleProbability,
            pauseProbability: this.config.quarantine.pauseProbability,
            throttlePct: this.config.quarantine.throttlePct,
            confineFactor: this.config.quarantine.confineFactor,
            canPause: caps.freezer,
            canThrottle: caps.throttle,
            danger: slack !== undefined && (slack < 0 || ((f.shortfall.get('cores') ?? 0) > 0 && slack < this.config.sizing.targetSlack)),
            escalateWorst: forceQuarantine.has(f.id),
            tolerableSlowdown: tolerable,
          },
          f.id,
        );
        f.interference = { tolerableSlowdown: tolerable, expectedSlowdown: sel.expectedSlowdown, before: sel.before, after: sel.after };
        for (const [id, p] of sel.pairwise) {
          const cur = this.pairwise.get(id);
          if (cur === undefined) this.pairwise.set(id, { probability: p, reasons: sel.wants.get(id)?.reasons });
          else if (p > cur.probability) {
            cur.probability = p;
            cur.reasons = sel.wants.get(id)?.reasons;
          }
        }
        mergeWants(wants, sel.wants);
      }
    }
    const qNow = this.quarantine.step(
      now,
      seconds.map((s) => s.id),
      wants,
    );
    for (const e of qNow.values()) if (e.level > 0) this.m.quarantineTaskNs[LEVEL_NAMES[e.level]] += dtNs;
    this.m.quarantinesEntered = this.quarantine.entered;
    this.m.quarantinesLifted = this.quarantine.lifted;
    this.applyQuarantine(part.second, seconds, firsts, qNow);

    // 6. warm-ups and echoes
    const plan: Plan = { first: [...part.first.values()], second: [...part.second.values()], echoes: [] };
    for (const f of firsts) {
      const fp = part.first.get(f.id)!;
      if (this.config.mechanisms.warmup && caps.warm) {
        for (const r of ['cores', 'cacheWays'] as const) {
          const d = f.leases.get(r)?.current;
          if (!d || d.newlyWarm <= 0) continue;
          const budget = f.sw.warmBudgetNs(r, d.newlyWarm, caps, f.shadow, T.leadNs, T.periodNs, this.config.warm.maxBudgetNs);
          if (budget <= 0) continue;
          (fp.warm ??= []).push({ resource: r, budgetNs: budget, reason: `${this.name}: warm ${d.newlyWarm} reserved ${r} before the predicted demand arrives` });
          this.m.warmActions++;
          this.m.warmBudgetNs += budget;
        }
      }
      if (this.config.mechanisms.echo && caps.echo && !this.oracle) {
        const primary: DemandKind = f.shadow.last('rps') !== undefined ? 'rps' : 'cpu';
        const lc = f.leases.get('cores');
        const inp = f.inputs.get('cores');
        const req = this.echo.decide({
          nowNs: now,
          task: f.id,
          shadow: f.shadow,
          primary,
          leadNs: T.leadNs,
          durationNs: f.sw.echoDurationNs(T.leadNs, T.periodNs, this.config.echo.maxDurationNs),
          reservationJump: lc && inp ? inp.wantLead - heldCount(f.sample!, 'cores').reserved : 0,
        });
        if (req) plan.echoes.push(req);
      }
    }

    // 7. reconcile
    const { actions, deferred } = reconcile(caps, snap, plan, { maxWarmNs: this.config.warm.maxBudgetNs, maxEchoNs: this.config.echo.maxDurationNs }, this.name);
    for (const d of deferred) this.events.push({ timeNs: now, kind: 'deferred', task: d.task, resource: d.resource, strategy: 'retry', detail: d.reason });
    this.m.echoesRequested = this.echo.requested;
    this.m.echoesReceived = this.echo.received;
    this.m.echoCostCpuNs = this.echo.costCpuNs;
    this.buildTrace(now, load, firsts, seconds, qNow, wants, plan.echoes, deferred);
    return actions;
  }

  onApplied(result: ApplyResult): void {
    for (const r of result.refused) {
      const a = r.action;
      const resource = a.kind === 'reserve' || a.kind === 'release' ? a.grant.resource : a.kind === 'warm' ? 'warm' : a.kind === 'echo' ? 'echo' : 'allocation';
      this.events.push({ timeNs: this.lastTimeNs ?? 0, kind: 'refused', task: a.task, resource, strategy: 'retry', detail: `${a.kind} refused: ${r.reason}` });
    }
  }

  // ------------------------------------------------------------------ pieces

  private secondProfile(s: SecondState, leadNs: number): void {
    const o = s.obs!;
    const mean = (k: DemandKind) => s.shadow.predict(k, leadNs)?.mean ?? s.shadow.last(k);
    const missRate = mean('llcMissRate');
    buildProfile(
      {
        cpuCores: mean('cpu'),
        memBwBytesPerSec: mean('memBw'),
        llcOccupancyBytes: mean('llcOccupancy'),
        llcAccessesPerSec: missRate !== undefined && o.missRatio ? missRate / o.missRatio : o.llcAccessesPerSec,
        missRatio: o.missRatio,
        ioBytesPerSec: mean('io'),
        readFraction: o.readFraction,
      },
      this.scale,
      s.profile,
    );
  }

  private currentCpuSharing(f: FirstState, seconds: readonly SecondState[]): number {
    const mine = f.sample!.allocation.cores;
    if (!mine.length) return 1;
    const others = new Set<number>();
    for (const s of seconds) for (const c of s.sample!.allocation.cores) others.add(c);
    return mine.filter((c) => others.has(c)).length / mine.length;
  }

  /** Feed the interference model and the shadow workloads with what the last window showed. */
  private learnFromWindow(firsts: readonly FirstState[], seconds: readonly SecondState[], load: number): void {
    const items: { p: ProfileVector; scale: number }[] = [];
    for (const s of seconds) {
      const o = s.obs!;
      s.current ??= new Float64Array(PROFILE_LEN);
      buildProfile({ cpuCores: o.cpuCores, memBwBytesPerSec: o.values.memBw, llcOccupancyBytes: o.values.llcOccupancy, llcAccessesPerSec: o.llcAccessesPerSec, missRatio: o.missRatio, ioBytesPerSec: o.values.io, readFraction: o.readFraction }, this.scale, s.current);
      items.push({ p: s.current, scale: 1 });
    }
    const agg = aggregateProfiles(items, this.aggBuf);
    for (const f of firsts) {
      const o = f.obs!;
      // CPI rises with contention and not with load (idle workers do not count); cost per request where the
      // platform has no instruction/cycle counters. One signal per run: the baseline must stay in one unit.
      const c = this.caps!.counters;
      const sd = f.slowdown.update(c.instructions && c.cycles ? o.cpi : o.costPerRequestCoreSec);
      f.lastSlowdown = sd;
      if (sd === undefined) continue;
      const cur = f.sw.currentProfile(this.scale);
      if (!cur) continue;
      const a = f.sample!.allocation;
      const r = f.sample!.reserved;
      const sharing = Float64Array.from([
        this.currentCpuSharing(f, seconds),
        r && r.cacheWayMask !== 0 && a.cacheWayMask !== 0 && (a.cacheWayMask & ~r.cacheWayMask) === 0 ? 0 : 1,
        r && r.bankColours.length ? 0.5 : 1,
        1,
      ]);
      const inp: InterferenceInput = { first: cur, second: agg, load, sharing };
      const expected = this.predictor.expectedSlowdown(inp);
      const reason = this.predictor.predict(inp).reason;
      this.predictor.learn(inp, sd);
      f.sw.feedback(sd, expected, reason);
    }
    if (this.predictor instanceof LearnedPredictor) this.m.interferenceSamplesLearned = this.predictor.samplesLearned;
  }

  /** Most a task may hold: capacity minus the other first-class floors and the second-class floor. */
  private leaseCap(task: TaskId, r: ResourceKind, firsts: readonly FirstState[], anySecond: boolean): number {
    if (r === 'ioWeight') return this.capacity(r);
    let cap = this.capacity(r) - (anySecond ? this.secondFloor(r) : 0);
    for (const f of firsts) if (f.id !== task) cap -= this.floorOf(f.id, r);
    return Math.max(this.floorOf(task, r), cap);
  }

  private size(f: FirstState, r: ResourceKind, horizonNs: number, cap: number, lease: Lease, otherIo: (id: TaskId) => number, nowNs = 0, firstCount = 1): number {
    const sh = f.shadow;
    const caps = this.caps!;
    switch (r) {
      case 'cores':
        return f.sizer.cores({ rps: sh.predict('rps', horizonNs), cpu: sh.predict('cpu', horizonNs), maxCores: cap, activeCores: lease.current.active });
      case 'cacheWays':
        // sized once per tick by feedback (the same answer at both horizons)
        return horizonNs === this.t.nearNs ? (f.sizer.waysTarget ?? 0) : f.sizer.ways(nowNs, sh.predict('llcOccupancy', horizonNs), firstCount, f.obs?.missRatio, 2 * this.t.graceNs);
      case 'bankColours': {
        const coreShare = (f.leases.get('cores')?.current.active ?? 1) / Math.max(1, caps.coreIds.length);
        return f.sizer.colours(sh.predict('memBw', horizonNs), coreShare, this.floorOf(f.id, r));
      }
      case 'memBandwidthPct':
        return f.sizer.memBandwidthPct(sh.predict('memBw', horizonNs));
      case 'ioWeight':
        return f.sizer.ioWeight(sh.predict('io', horizonNs), otherIo(f.id));
    }
  }

  /** A reservation that cannot be granted: take the configured fallback and log it. Returns the grant to commit. */
  private fallback(f: FirstState, r: ResourceKind, granted: number, shortfall: number, now: number, force: Set<TaskId>): number {
    const held = heldCount(f.sample!, r).reserved;
    let strategy = this.config.fallback;
    if (strategy === 'quarantine' && !this.config.mechanisms.quarantine) strategy = 'degrade';
    const ev: PolicyEvent = { timeNs: now, kind: 'fallback', task: f.id, resource: r, strategy, detail: '' };
    if (strategy === 'retry') {
      // keep what it holds (no partial grab); the lease asks again next tick
      const g = Math.max(this.floorOf(f.id, r), Math.min(granted, held));
      ev.detail = `short of ${shortfall} ${r}; keeping ${g}, retrying next tick`;
      this.events.push(ev);
      return g;
    }
    const slack = f.sizer.slack();
    const tight = slack === undefined || slack < this.config.sizing.targetSlack;
    if (strategy === 'quarantine' && (tight || r === 'cores')) {
      force.add(f.id);
      ev.detail = `short of ${shortfall} ${r}; granted ${granted}, escalating quarantine of the most interfering second-class task`;
    } else if (strategy === 'quarantine') {
      ev.strategy = 'degrade';
      ev.detail = `short of ${shortfall} ${r}; granted ${granted}; latency has slack ${slack!.toFixed(2)}, so no second-class task is quarantined for it`;
    } else ev.detail = `short of ${shortfall} ${r}; degraded to ${granted}`;
    this.events.push(ev);
    return granted;
  }

  /** Second-class plan entries: the caps each quarantine level implies, or the task's own settings once let out. */
  private applyQuarantine(second: Map<TaskId, import('./common/plan.js').SecondClassPlan>, seconds: readonly SecondState[], firsts: readonly FirstState[], q: ReadonlyMap<TaskId, QuarantineEntry>): void {
    const caps = this.caps!;
    const reservedBw = firsts.reduce((s, f) => s + (f.leases.get('memBandwidthPct')?.current.reserved ?? 0), 0);
    const memCapped = seconds.filter((s) => (q.get(s.id)?.level ?? 0) >= 1).length;
    const mb = caps.memBandwidth;
    const bwCap = mb && memCapped ? Math.max(mb.minPct, Math.floor((Math.max(0, 100 - reservedBw) / memCapped) / mb.stepPct) * mb.stepPct) : 100;
    const throttle = this.config.quarantine.throttlePct;
    const isolated = {
      cores: this.managed.includes('cores') && firsts.every((f) => (f.leases.get('cores')?.current.active ?? 0) > 0),
      ways: this.managed.includes('cacheWays') && firsts.every((f) => (f.leases.get('cacheWays')?.current.active ?? 0) > 0),
    };
    for (const s of seconds) {
      const p = second.get(s.id)!;
      const e = q.get(s.id);
      const b = s.baseline;
      p.memBandwidthPct = mb ? b.mbaPct : undefined;
      p.ioWeight = caps.ioWeight ? b.ioWeight : undefined;
      p.cpuPct = caps.throttle ? b.quotaPct : undefined;
      p.paused = caps.freezer ? b.paused : undefined;
      if (!e || e.level === 0) continue;
      p.quarantine = `${this.name}: quarantine (${LEVEL_NAMES[e.level]}: ${e.reasons.join(', ')}) for ${e.victims.join(', ')}`;
      let cpu = b.quotaPct;
      const capBandwidth = () => {
        if (mb) p.memBandwidthPct = Math.min(b.mbaPct, bwCap);
        else cpu = Math.min(cpu, throttle);
      };
      for (const r of e.reasons) {
        if (r === 'memBw') capBandwidth();
        else if (r === 'io') {
          if (caps.ioWeight) p.ioWeight = caps.ioWeight.min;
          else cpu = Math.min(cpu, throttle);
        } else if ((r === 'llc' && isolated.ways) || (r === 'cpu' && isolated.cores)) {
          // the victim's cores / ways are already exclusive: what is left of the path is DRAM
          capBandwidth();
        } else {
          // CPU or LLC interference the partition does not remove: a CPU quota
          cpu = Math.min(cpu, throttle);
        }
      }
      if (e.level >= 2) cpu = Math.min(cpu, throttle);
      if (e.level >= 3) {
        if (caps.freezer) p.paused = true;
        else cpu = Math.min(cpu, 5);
      }
      if (caps.throttle) p.cpuPct = cpu;
    }
  }

  // ------------------------------------------------------------------ introspection

  /** Keeps what explain() needs; the trace objects are built only when asked for. */
  private buildTrace(now: number, load: number, firsts: readonly FirstState[], seconds: readonly SecondState[], q: ReadonlyMap<TaskId, QuarantineEntry>, wants: ReadonlyMap<TaskId, QuarantineWant>, echoes: EchoRequest[], deferred: Deferred[]): void {
    this.trace = undefined;
    this.traceInput = { now, load, firsts, seconds, levels: new Map([...q].map(([id, e]) => [id, e.level])), wants, echoes, deferred, timing: { ...this.t } };
  }

  private traceInput:
    | { now: number; load: number; firsts: readonly FirstState[]; seconds: readonly SecondState[]; levels: Map<TaskId, number>; wants: ReadonlyMap<TaskId, QuarantineWant>; echoes: EchoRequest[]; deferred: Deferred[]; timing: Timing }
    | undefined;

  private materialiseTrace(): ShadowExplain | undefined {
    const ti = this.traceInput;
    if (!ti) return undefined;
    return {
      timeNs: ti.now,
      timing: ti.timing,
      load: ti.load,
      first: ti.firsts.map((f) => {
        const leases: Partial<Record<ResourceKind, LeaseTrace>> = {};
        for (const [r, l] of f.leases) {
          const d = l.current;
          const i = f.inputs.get(r)!;
          leases[r] = { state: d.state, wanted: d.wanted, reserved: d.reserved, active: d.active, floor: i.floor, cap: i.cap, wantLead: i.wantLead, wantNear: i.wantNear };
        }
        const rt: Partial<Record<DemandKind, number>> = {};
        for (const k of FIRST_KINDS) {
          const w = f.shadow.realtimeWeight(k, ti.timing.leadNs);
          if (w !== undefined) rt[k] = w;
        }
        const profile: Record<string, number> = {};
        PROFILE_FEATURES.forEach((n, i) => (profile[n] = f.profile[i]));
        return {
          task: f.id,
          slack: f.sizer.slack(),
          latencyCalibration: f.sizer.calibration(),
          costPerRequestSec: f.sizer.costPerRequestSec,
          observedSlowdown: f.lastSlowdown,
          profile,
          realtimeWeight: rt,
          leases,
          shortfall: Object.fromEntries(f.shortfall),
          interference: f.interference,
        };
      }),
      second: ti.seconds.map((s) => {
        const pw = this.pairwise.get(s.id);
        return { task: s.id, probability: pw?.probability ?? 0, reason: pw?.reasons?.join(','), wanted: LEVEL_NAMES[ti.wants.get(s.id)?.level ?? 0], level: LEVEL_NAMES[ti.levels.get(s.id) ?? 0] };
      }),
      echoes: ti.echoes,
      deferred: ti.deferred,
    };
  }

  /** What the last decide() saw and chose, for experiments and tests (describes the last decide(): call it before the next). */
  explain(): ShadowExplain | undefined {
    this.trace ??= this.materialiseTrace();
    return this.trace;
  }

  /** Lease counters of tasks that have exited, so metrics() still counts them. */
  private readonly retired = { warm: {} as Partial<Record<ResourceKind, number>>, reserves: 0, releases: 0, activations: 0, falseAlarms: 0 };

  private retire(r: ResourceKind, l: Lease): void {
    this.retired.warm[r] = (this.retired.warm[r] ?? 0) + l.metrics.warmUnitNs;
    this.retired.reserves += l.metrics.reserves;
    this.retired.releases += l.metrics.releases;
    this.retired.activations += l.metrics.activations;
    this.retired.falseAlarms += l.metrics.falseAlarms;
  }

  metrics(): ShadowMetrics {
    const warm: Partial<Record<ResourceKind, number>> = { ...this.retired.warm };
    let reserves = this.retired.reserves;
    let releases = this.retired.releases;
    let activations = this.retired.activations;
    let falseAlarms = this.retired.falseAlarms;
    for (const st of this.states.values()) {
      if (st.cls !== 'first') continue;
      for (const [r, l] of st.leases) {
        warm[r] = (warm[r] ?? 0) + l.metrics.warmUnitNs;
        reserves += l.metrics.reserves;
        releases += l.metrics.releases;
        activations += l.metrics.activations;
        falseAlarms += l.metrics.falseAlarms;
      }
    }
    return { ...this.m, reservedUnusedUnitNs: warm, reserves, releases, activations, falseAlarms, quarantineTaskNs: { ...this.m.quarantineTaskNs }, events: { ...this.events.counts } };
  }

  /** The shadow of a task (tests, experiments). */
  shadowOf(task: TaskId): TaskShadow | undefined {
    return this.states.get(task)?.shadow;
  }

  interferencePredictor(): InterferencePredictor {
    return this.predictor;
  }
}
