// A small platform for the policy tests: the ownership and refusal rules of
// the header of policies/platform.ts, written independently of the policy
// engine's own model (so a reconciler bug shows up as a refusal here), and a
// toy performance model good enough to close the control loop:
//  - first-class latency: cost per request (and CPI) grows with second-class memory
//    pressure (halved when bank colours are disjoint, cut by MBA caps, pauses
//    and quotas) and with LLC pressure when its ways are not exclusive; p99 =
//    cost x (3 + 5 rho / (1 - rho)) for utilisation rho of its cores, a
//    backlog-driven blow-up at rho >= 1, plus a cold-start penalty for a core
//    activated without warm-up;
//  - second-class progress: its CPU share of the cores it may run on;
//  - echo: the true mean demand over the echo's duration, delivered next tick;
//  - future: the true peak demand over a horizon (the oracle's input).
import type { Action, ApplyResult, Capabilities, DemandKind, EchoResult, FutureDemand, Platform, ResourceGrant, Snapshot, TaskClass, TaskSample } from '../../policies/platform.js';

export interface Demand {
  cpu: number;
  rps?: number;
  memBw: number;
  occBytes: number;
  io: number;
}

export interface FakeTaskSpec {
  id: string;
  cls: TaskClass;
  /** Demand at tick i (a tick = one control period). */
  demand: (tick: number) => Demand;
  cores?: number[];
  sloP99Ns?: number;
  /** Tick at which the task exits (gone from the snapshot after). */
  exitAt?: number;
  /** Tick at which the task starts (absent before). */
  startAt?: number;
}

export interface AllocView {
  cores: number[];
  mask: number;
  colours: number[];
  mbaPct: number;
  ioWeight: number;
  quotaPct: number;
  paused: boolean;
  rCores: number[];
  rMask: number;
  rColours: number[];
  rMbaPct: number;
  rIoWeight: number;
}

export interface FakeOptions {
  cores: number;
  ways: number;
  colours: number;
  wayBytes: number;
  periodNs: number;
  tasks: FakeTaskSpec[];
  mba?: boolean;
  io?: boolean;
  freezer?: boolean;
  throttle?: boolean;
  echo?: boolean;
  warm?: boolean;
  /** Ticks of Snapshot.future (0 = none). */
  futureTicks?: number;
  activationNs?: number;
  maxWarmNs?: number;
  maxEchoNs?: number;
}

interface State {
  spec: FakeTaskSpec;
  cores: number[];
  mask: number;
  colours: number[];
  mba: number;
  io: number;
  quota: number;
  paused: boolean;
  rCores: Set<number>;
  rMask: number;
  rColours: Set<number>;
  rMba: number;
  rIo: number;
  warmed: Set<number>;
  cold: number;
  c: { cpuNs: number; ins: number; cyc: number; acc: number; miss: number; rd: number; wr: number; io: number };
  backlog: number;
}

const PEAK = 50e9;

const bits = (m: number) => {
  const out: number[] = [];
  for (let i = 0; i < 32; i++) if ((m >>> i) & 1) out.push(i);
  return out;
};
const contiguous = (m: number) => m !== 0 && ((m + (m & -m)) & m) === 0;

export class FakePlatform implements Platform {
  private nowNs = 0;
  private lastObs = -1;
  private readonly states: State[];
  private echoes: (EchoResult & { at: number })[] = [];
  /** Every refusal, for assertions. */
  readonly refusals: { tick: number; action: Action; reason: string }[] = [];
  private readonly full: number;

  constructor(readonly o: FakeOptions) {
    this.full = o.ways >= 32 ? -1 >>> 0 : (1 << o.ways) - 1;
    const all = Array.from({ length: o.cores }, (_, i) => i);
    this.states = o.tasks.map((spec) => ({
      spec,
      cores: spec.cores ? [...spec.cores] : [...all],
      mask: 0,
      colours: [],
      mba: 100,
      io: 100,
      quota: 100,
      paused: false,
      rCores: new Set(),
      rMask: 0,
      rColours: new Set(),
      rMba: 0,
      rIo: 0,
      warmed: new Set(),
      cold: 0,
      c: { cpuNs: 0, ins: 0, cyc: 0, acc: 0, miss: 0, rd: 0, wr: 0, io: 0 },
      backlog: 0,
    }));
  }

  tick(): number {
    return Math.floor(this.nowNs / this.o.periodNs);
  }

  private started = new Set<State>();

  private live(): State[] {
    const t = this.tick();
    const out = this.states.filter((s) => (s.spec.exitAt === undefined || t < s.spec.exitAt) && (s.spec.startAt === undefined || t >= s.spec.startAt));
    for (const s of out) {
      if (this.started.has(s)) continue;
      this.started.add(s);
      // a task that starts late is placed on cores nobody has reserved (a platform cannot start it on someone's reserved core)
      const reserved = new Set(out.filter((o) => o !== s).flatMap((o) => [...o.rCores]));
      const free = s.cores.filter((c) => !reserved.has(c));
      s.cores = free.length ? free : s.cores;
    }
    return out;
  }

  capabilities(): Capabilities {
    const o = this.o;
    return {
      platform: 'sim',
      coreIds: Array.from({ length: o.cores }, (_, i) => i),
      cacheWays: o.ways > 0 ? { totalWays: o.ways, minWaysPerMask: 1, wayBytes: o.wayBytes } : null,
      memBandwidth: o.mba === false ? null : { minPct: 10, stepPct: 10, peakBytesPerSec: PEAK },
      bankColours: o.colours > 0 ? { count: o.colours } : null,
      ioWeight: o.io === false ? null : { min: 10, max: 1000, default: 100 },
      freezer: o.freezer ?? true,
      throttle: o.throttle ?? true,
      migrate: true,
      warm: o.warm ?? true,
      echo: o.echo ?? true,
      counters: { cpuTime: true, instructions: true, cycles: true, llcMisses: true, llcOccupancy: true, memBandwidth: true, rss: false, io: true, requestLatency: true },
      skipped: [],
    };
  }

  now(): number {
    return this.nowNs;
  }

  advance(untilNs: number): void {
    this.nowNs = untilNs;
  }

  // ------------------------------------------------------------ performance

  observe(): Snapshot {
    const now = this.nowNs;
    const windowNs = this.lastObs < 0 ? 0 : now - this.lastObs;
    this.lastObs = now;
    const w = windowNs / 1e9;
    const tick = this.tick();
    const live = this.live();
    const beOnCore = new Map<number, number>();
    for (const s of live) if (s.spec.cls === 'second' && !s.paused) for (const c of s.cores) beOnCore.set(c, (beOnCore.get(c) ?? 0) + 1);
    // second-class first: their pressure shapes first-class latency
    let bePressure = 0;
    let beLlc = 0;
    const usage = new Map<State, { cpu: number; bw: number }>();
    for (const s of live) {
      if (s.spec.cls !== 'second') continue;
      const d = s.spec.demand(tick);
      const share = s.cores.reduce((a, c) => a + 1 / Math.max(1, (beOnCore.get(c) ?? 1) + this.firstOnCore(c, live)), 0);
      const cpu = s.paused ? 0 : Math.min(d.cpu, share) * (s.quota / 100);
      const bw = Math.min(d.cpu > 0 ? (d.memBw * cpu) / d.cpu : 0, (s.mba / 100) * PEAK);
      usage.set(s, { cpu, bw });
      bePressure += bw / PEAK;
      beLlc += cpu > 0 ? d.occBytes / (this.o.ways * this.o.wayBytes || 1) : 0;
    }
    const samples: TaskSample[] = [];
    for (const s of live) {
      const d = s.spec.demand(tick);
      let cpu: number;
      let bw: number;
      let latency: TaskSample['latency'];
      let cpi = 1.5;
      if (s.spec.cls === 'first') {
        const exclusiveWays = s.mask !== 0 && (s.mask & ~s.rMask) === 0;
        const coloursApart = s.rColours.size > 0;
        const slowdown = 1 + 1.5 * Math.min(1, bePressure) * (coloursApart ? 0.5 : 1) + (exclusiveWays ? 0 : 0.3 * Math.min(1, beLlc));
        cpi = 1.5 * slowdown; // contention shows up as stalled cycles per instruction
        const shared = s.cores.reduce((a, c) => a + ((beOnCore.get(c) ?? 0) > 0 ? 0.5 : 1), 0);
        const n = Math.max(0.5, shared);
        const rps = d.rps ?? 0;
        const cost = rps > 0 ? (d.cpu / rps) * slowdown : 0;
        const offered = rps * cost;
        cpu = Math.min(offered, n);
        s.backlog = Math.max(0, s.backlog + (offered - n) * w * (rps > 0 ? 1 / cost : 0));
        if (offered <= n * 0.98) s.backlog = Math.max(0, s.backlog - n * w * 0.5 * (rps > 0 ? 1 / cost : 0));
        const rho = Math.min(0.98, offered / n);
        let p99 = cost * 1e9 * (3 + (5 * rho) / (1 - rho)) + (s.backlog > 0 && rps > 0 ? (s.backlog / (n / cost)) * 1e9 : 0);
        if (s.cold > 0) p99 += this.o.activationNs ?? 500_000;
        s.cold = 0;
        bw = d.memBw * (cpu / Math.max(d.cpu, 1e-9));
        const completed = Math.min(rps, n / Math.max(cost, 1e-12));
        latency = { requests: Math.round(rps * w), p50Ns: cost * 1e9, p95Ns: p99 * 0.6, p99Ns: p99, sloP99Ns: s.spec.sloP99Ns ?? 5_000_000, offeredRps: rps, completedRps: completed, queueLength: Math.round(s.backlog) };
      } else {
        const u = usage.get(s)!;
        cpu = u.cpu;
        bw = u.bw;
      }
      const ways = s.mask ? bits(s.mask).length : this.o.ways;
      s.c.cpuNs += cpu * windowNs;
      s.c.cyc += cpu * 3e9 * w;
      s.c.ins += (cpu * 3e9 * w) / cpi;
      s.c.miss += (bw / 64) * w;
      s.c.acc += (bw / 64) * w * 2;
      s.c.rd += bw * 0.7 * w;
      s.c.wr += bw * 0.3 * w;
      s.c.io += d.io * (cpu > 0 ? 1 : 0) * w;
      const sample: TaskSample = {
        id: s.spec.id,
        class: s.spec.cls,
        state: s.paused ? 'paused' : 'running',
        cpuTimeNs: Math.round(s.c.cpuNs),
        cpuCores: cpu,
        instructions: Math.round(s.c.ins),
        cycles: Math.round(s.c.cyc),
        llcAccesses: Math.round(s.c.acc),
        llcMisses: Math.round(s.c.miss),
        llcOccupancyBytes: Math.min(d.occBytes, ways * this.o.wayBytes),
        memReadBytes: Math.round(s.c.rd),
        memWriteBytes: Math.round(s.c.wr),
        memBandwidthBytesPerSec: bw,
        ioBytes: Math.round(s.c.io),
        allocation: { cores: [...s.cores], cacheWayMask: s.mask, bankColours: [...s.colours], memBandwidthPct: s.mba, ioWeight: s.io, cpuQuotaPct: s.quota, paused: s.paused },
        reserved: { cores: [...s.rCores].sort((a, b) => a - b), cacheWayMask: s.rMask, bankColours: [...s.rColours].sort((a, b) => a - b), memBandwidthPct: s.rMba, ioWeight: s.rIo },
      };
      if (latency) sample.latency = latency;
      samples.push(sample);
    }
    const echoes: EchoResult[] = [];
    this.echoes = this.echoes.filter((e) => {
      if (e.at > now) return true;
      const { at: _a, ...r } = e;
      echoes.push(r);
      return false;
    });
    const snap: Snapshot = { timeNs: now, windowNs, tasks: samples, echoes, free: this.free(live) };
    if (this.o.futureTicks) {
      const H = this.o.futureTicks;
      snap.future = live.map((s): FutureDemand => {
        const peak: Partial<Record<DemandKind, number>> = {};
        for (let k = 1; k <= H; k++) {
          const d = s.spec.demand(tick + k);
          peak.cpu = Math.max(peak.cpu ?? 0, d.cpu);
          peak.memBw = Math.max(peak.memBw ?? 0, d.memBw);
          peak.llcOccupancy = Math.max(peak.llcOccupancy ?? 0, d.occBytes);
          if (d.rps !== undefined) peak.rps = Math.max(peak.rps ?? 0, d.rps);
        }
        return { task: s.spec.id, horizonNs: H * this.o.periodNs, peak };
      });
    }
    return snap;
  }

  private firstOnCore(c: number, live: State[]): number {
    let n = 0;
    for (const s of live) if (s.spec.cls === 'first' && s.cores.includes(c)) n++;
    return n;
  }

  private free(live: State[]): Snapshot['free'] {
    const cores = new Set<number>();
    let ways = 0;
    const colours = new Set<number>();
    for (const s of live) {
      s.cores.forEach((c) => cores.add(c));
      s.rCores.forEach((c) => cores.add(c));
      ways |= s.mask | s.rMask;
      s.colours.forEach((c) => colours.add(c));
      s.rColours.forEach((c) => colours.add(c));
    }
    return {
      cores: Array.from({ length: this.o.cores }, (_, i) => i).filter((c) => !cores.has(c)),
      cacheWayMask: (this.full & ~ways) >>> 0,
      bankColours: Array.from({ length: this.o.colours }, (_, i) => i).filter((c) => !colours.has(c)),
    };
  }

  // ------------------------------------------------------------ rules

  apply(actions: Action[]): ApplyResult {
    const applied: Action[] = [];
    const refused: { action: Action; reason: string }[] = [];
    for (const a of actions) {
      const why = this.refuse(a);
      if (why) {
        refused.push({ action: a, reason: why });
        this.refusals.push({ tick: this.tick(), action: a, reason: why });
      } else {
        this.exec(a);
        applied.push(a);
      }
    }
    return { applied, refused };
  }

  private find(id: string): State | undefined {
    return this.live().find((s) => s.spec.id === id);
  }

  private others(s: State): State[] {
    return this.live().filter((x) => x !== s);
  }

  private refuse(a: Action): string | null {
    const s = this.find(a.task);
    if (!s) return `no task ${a.task}`;
    const others = this.others(s);
    const caps = this.capabilities();
    switch (a.kind) {
      case 'setCores':
      case 'migrate':
        if (!a.cores.length) return 'empty cpuset';
        if (new Set(a.cores).size !== a.cores.length) return 'duplicate core';
        for (const c of a.cores) {
          if (!(c >= 0 && c < this.o.cores)) return `no core ${c}`;
          if (others.some((o) => o.rCores.has(c))) return `core ${c} reserved by another`;
        }
        return null;
      case 'setCacheWays':
        if (!contiguous(a.mask) || (a.mask & ~this.full) !== 0) return 'bad mask';
        if (others.some((o) => o.rMask & a.mask)) return 'ways reserved by another';
        return null;
      case 'setBankColours':
        for (const c of a.colours) {
          if (!(c >= 0 && c < this.o.colours)) return `no colour ${c}`;
          if (others.some((o) => o.rColours.has(c))) return `colour ${c} reserved by another`;
        }
        return null;
      case 'setMemBandwidth':
        if (!caps.memBandwidth) return 'no MBA';
        if (a.pct < 10 || a.pct > 100 || (a.pct !== 100 && a.pct % 10 !== 0)) return 'bad MBA level';
        return null;
      case 'setIoWeight':
        if (!caps.ioWeight) return 'no IO weight';
        return Number.isInteger(a.weight) && a.weight >= 10 && a.weight <= 1000 ? null : 'bad IO weight';
      case 'pause':
      case 'resume':
        return caps.freezer ? null : 'no freezer';
      case 'throttle':
        return caps.throttle && a.cpuPct > 0 && a.cpuPct <= 100 ? null : 'bad throttle';
      case 'reserve':
        return this.refuseReserve(s, others, a.grant);
      case 'release':
        return this.refuseRelease(s, a.grant);
      case 'warm':
        if (!caps.warm || !(a.budgetNs > 0 && a.budgetNs <= (this.o.maxWarmNs ?? 50_000_000))) return 'bad warm';
        if (a.resource === 'cores') return s.rCores.size ? null : 'nothing reserved';
        if (a.resource === 'cacheWays') return s.rMask ? null : 'nothing reserved';
        return 'cannot warm that';
      case 'echo':
        return caps.echo && a.durationNs > 0 && a.durationNs <= (this.o.maxEchoNs ?? 100_000_000) ? null : 'bad echo';
    }
  }

  private refuseReserve(s: State, others: State[], g: ResourceGrant): string | null {
    switch (g.resource) {
      case 'cores':
        if (!g.cores.length) return 'no cores';
        for (const c of g.cores) {
          if (!(c >= 0 && c < this.o.cores)) return `no core ${c}`;
          if (others.some((o) => o.rCores.has(c) || o.cores.includes(c))) return `core ${c} held by another`;
        }
        return null;
      case 'cacheWays':
        if (g.mask <= 0 || (g.mask & ~this.full) !== 0) return 'bad mask';
        if (others.some((o) => o.rMask & g.mask || o.mask & g.mask)) return 'ways held by another';
        return null;
      case 'bankColours':
        if (!g.colours.length) return 'no colours';
        for (const c of g.colours) if (others.some((o) => o.rColours.has(c) || o.colours.includes(c))) return `colour ${c} held by another`;
        return null;
      case 'memBandwidthPct': {
        const total = this.live().reduce((a, x) => a + x.rMba, 0);
        return g.pct > 0 && total + g.pct <= 100 + 1e-9 ? null : 'bandwidth over 100%';
      }
      case 'ioWeight':
        return Number.isInteger(g.weight) && g.weight >= 10 && g.weight <= 1000 ? null : 'bad IO weight';
    }
  }

  private refuseRelease(s: State, g: ResourceGrant): string | null {
    switch (g.resource) {
      case 'cores':
        if (!g.cores.every((c) => s.rCores.has(c))) return 'not reserved';
        return s.cores.some((c) => !g.cores.includes(c)) ? null : 'would leave no core';
      case 'cacheWays': {
        if ((g.mask & ~s.rMask) !== 0) return 'not reserved';
        if (s.mask !== 0 && !contiguous(s.mask & ~g.mask)) return 'would leave a bad mask';
        return null;
      }
      case 'bankColours':
        if (!g.colours.every((c) => s.rColours.has(c))) return 'not reserved';
        if (s.colours.length && s.colours.every((c) => g.colours.includes(c))) return 'would leave no colour';
        return null;
      case 'memBandwidthPct':
        return g.pct <= s.rMba + 1e-9 ? null : 'more than reserved';
      case 'ioWeight':
        return s.rIo > 0 ? null : 'nothing reserved';
    }
  }

  private exec(a: Action): void {
    const s = this.find(a.task)!;
    switch (a.kind) {
      case 'setCores':
      case 'migrate':
        for (const c of a.cores) if (!s.cores.includes(c) && !s.warmed.has(c) && s.spec.cls === 'first') s.cold++;
        s.cores = [...a.cores].sort((x, y) => x - y);
        return;
      case 'setCacheWays':
        s.mask = a.mask;
        return;
      case 'setBankColours':
        s.colours = [...a.colours];
        return;
      case 'setMemBandwidth':
        s.mba = a.pct;
        return;
      case 'setIoWeight':
        s.io = a.weight;
        return;
      case 'pause':
        s.paused = true;
        return;
      case 'resume':
        s.paused = false;
        return;
      case 'throttle':
        s.quota = a.cpuPct;
        return;
      case 'reserve': {
        const g = a.grant;
        if (g.resource === 'cores') g.cores.forEach((c) => s.rCores.add(c));
        else if (g.resource === 'cacheWays') s.rMask |= g.mask;
        else if (g.resource === 'bankColours') g.colours.forEach((c) => s.rColours.add(c));
        else if (g.resource === 'memBandwidthPct') s.rMba += g.pct;
        else s.rIo = g.weight;
        return;
      }
      case 'release': {
        const g = a.grant;
        if (g.resource === 'cores') {
          g.cores.forEach((c) => {
            s.rCores.delete(c);
            s.warmed.delete(c);
          });
          s.cores = s.cores.filter((c) => !g.cores.includes(c));
        } else if (g.resource === 'cacheWays') {
          s.rMask &= ~g.mask;
          if (s.mask) s.mask &= ~g.mask;
        } else if (g.resource === 'bankColours') {
          g.colours.forEach((c) => s.rColours.delete(c));
          if (s.colours.length) s.colours = s.colours.filter((c) => !g.colours.includes(c));
        } else if (g.resource === 'memBandwidthPct') s.rMba -= g.pct;
        else s.rIo = 0;
        return;
      }
      case 'warm':
        if (a.resource === 'cores') s.rCores.forEach((c) => s.warmed.add(c));
        return;
      case 'echo': {
        const t0 = this.tick();
        const n = Math.max(1, Math.round(a.durationNs / this.o.periodNs));
        const m = { cpu: 0, memBw: 0, rps: 0 };
        for (let k = 0; k < n; k++) {
          const d = s.spec.demand(t0 + k);
          m.cpu += d.cpu / n;
          m.memBw += d.memBw / n;
          m.rps += (d.rps ?? 0) / n;
        }
        const measured: EchoResult['measured'] = { cpu: m.cpu, memBw: m.memBw };
        if (s.spec.cls === 'first') measured.rps = m.rps;
        this.echoes.push({ task: s.spec.id, requestedAtNs: this.nowNs, durationNs: a.durationNs, measured, costCpuNs: Math.round(a.durationNs / 10), at: this.nowNs + 1 });
        return;
      }
    }
  }

  // ------------------------------------------------------------ invariants

  /** What must hold after every apply: exclusivity of reserved units, capacity, at least one core per task. */
  violations(): string[] {
    const out: string[] = [];
    const live = this.live();
    const owner = new Map<string, string>();
    let mba = 0;
    for (const s of live) {
      if (!s.cores.length) out.push(`${s.spec.id} has no core`);
      if (s.mask !== 0 && !contiguous(s.mask)) out.push(`${s.spec.id} mask not contiguous`);
      mba += s.rMba;
      for (const c of s.rCores) {
        if (owner.has(`c${c}`)) out.push(`core ${c} reserved twice`);
        owner.set(`c${c}`, s.spec.id);
      }
      for (const w of bits(s.rMask)) {
        if (owner.has(`w${w}`)) out.push(`way ${w} reserved twice`);
        owner.set(`w${w}`, s.spec.id);
      }
      for (const c of s.rColours) {
        if (owner.has(`b${c}`)) out.push(`colour ${c} reserved twice`);
        owner.set(`b${c}`, s.spec.id);
      }
    }
    for (const s of live) {
      for (const c of s.cores) if (owner.has(`c${c}`) && owner.get(`c${c}`) !== s.spec.id) out.push(`${s.spec.id} runs on core ${c} reserved by ${owner.get(`c${c}`)}`);
      for (const w of bits(s.mask)) if (owner.has(`w${w}`) && owner.get(`w${w}`) !== s.spec.id) out.push(`${s.spec.id} fills way ${w} reserved by ${owner.get(`w${w}`)}`);
      for (const c of s.colours) if (owner.has(`b${c}`) && owner.get(`b${c}`) !== s.spec.id) out.push(`${s.spec.id} uses colour ${c} reserved by ${owner.get(`b${c}`)}`);
    }
    if (mba > 100 + 1e-9) out.push(`reserved bandwidth ${mba}% > 100%`);
    return out;
  }

  /** Exclusive units a task holds and uses (reserved and in its allocation). */
  exclusive(id: string): { cores: number; ways: number; colours: number } {
    const s = this.states.find((x) => x.spec.id === id)!;
    return {
      cores: s.cores.filter((c) => s.rCores.has(c)).length,
      ways: bits(s.mask & s.rMask).length,
      colours: s.colours.filter((c) => s.rColours.has(c)).length,
    };
  }

  /** Every live task's allocation and reservation now (no side effects). */
  view(): Map<string, AllocView> {
    const out = new Map<string, AllocView>();
    for (const s of this.live()) {
      out.set(s.spec.id, {
        cores: [...s.cores],
        mask: s.mask,
        colours: [...s.colours],
        mbaPct: s.mba,
        ioWeight: s.io,
        quotaPct: s.quota,
        paused: s.paused,
        rCores: [...s.rCores].sort((a, b) => a - b),
        rMask: s.rMask,
        rColours: [...s.rColours].sort((a, b) => a - b),
        rMbaPct: s.rMba,
        rIoWeight: s.rIo,
      });
    }
    return out;
  }

  state(id: string): Readonly<State> {
    return this.states.find((x) => x.spec.id === id)!;
  }
}
