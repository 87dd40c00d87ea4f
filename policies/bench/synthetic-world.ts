// A deterministic synthetic machine for measuring decide(): 16 cores, a
// 32 MiB 16-way LLC, 64 bank colours, MBA, IO weights; first-class services
// whose request rate follows a daily-like cycle with bursts, second-class
// jobs of five kinds with phases. It applies actions the simple way (the
// platform contract's effects, without refusals) so the snapshots a policy
// sees respond to what it decided; the numbers are plausible, not modelled —
// the simulator (sim/) is the model. All randomness from util/rng.ts.
import type { Action, Capabilities, EchoResult, FutureDemand, Snapshot, TaskClass, TaskSample } from '../platform.js';
import { rngFor, type Rng } from '../../util/rng.js';
import { popcount } from '../common/masks.js';
import { mmcP99Ns } from '../adjustment/latency-model.js';

export const BENCH_CAPABILITIES: Capabilities = {
  platform: 'sim',
  coreIds: Array.from({ length: 16 }, (_, i) => i),
  cacheWays: { totalWays: 16, minWaysPerMask: 1, wayBytes: 2 * 1024 * 1024 },
  memBandwidth: { minPct: 10, stepPct: 10, peakBytesPerSec: 51.2e9 },
  bankColours: { count: 64 },
  ioWeight: { min: 10, max: 1000, default: 100 },
  freezer: true,
  throttle: true,
  migrate: true,
  warm: true,
  echo: true,
  counters: { cpuTime: true, instructions: true, cycles: true, llcMisses: true, llcOccupancy: true, memBandwidth: true, rss: true, io: true, requestLatency: true },
  skipped: [],
};

type Kind = 'lc' | 'stream' | 'chase' | 'thrash' | 'compute' | 'io';
const SECOND_KINDS: Kind[] = ['stream', 'chase', 'thrash', 'compute', 'io'];

interface WorldTask {
  id: string;
  cls: TaskClass;
  kind: Kind;
  phase: number;
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
  c: { cpuNs: number; ins: number; cyc: number; acc: number; miss: number; rd: number; wr: number; io: number };
  sloNs: number;
  costSec: number;
  baseRps: number;
}

export class SyntheticWorld {
  private nowNs = 0;
  private lastObserve = -1;
  private readonly tasks: WorldTask[] = [];
  private readonly rng: Rng;
  private pendingEchoes: (EchoResult & { readyAt: number })[] = [];

  constructor(
    readonly firstClass: number,
    readonly secondClass: number,
    readonly periodNs = 10_000_000,
    seed = 1,
  ) {
    this.rng = rngFor(seed, 'policies/bench-world');
    const all = BENCH_CAPABILITIES.coreIds;
    for (let i = 0; i < firstClass; i++) this.tasks.push(this.make(`lc${i}`, 'first', 'lc', all));
    for (let i = 0; i < secondClass; i++) this.tasks.push(this.make(`be-${SECOND_KINDS[i % 5]}-${i}`, 'second', SECOND_KINDS[i % 5], all));
  }

  private make(id: string, cls: TaskClass, kind: Kind, cores: number[]): WorldTask {
    return {
      id,
      cls,
      kind,
      phase: this.rng.next() * 1000,
      cores: [...cores],
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
      c: { cpuNs: 0, ins: 0, cyc: 0, acc: 0, miss: 0, rd: 0, wr: 0, io: 0 },
      sloNs: 2_000_000 + this.rng.int(4) * 1_000_000,
      costSec: 100e-6 + this.rng.next() * 100e-6,
      baseRps: 4000 + this.rng.next() * 6000,
    };
  }

  capabilities(): Capabilities {
    return BENCH_CAPABILITIES;
  }

  now(): number {
    return this.nowNs;
  }

  /** Demand of a task at time t: cores wanted, request rate (first class). */
  private demand(t: WorldTask, atNs: number): { cpu: number; rps: number } {
    const s = atNs / 1e9 + t.phase;
    if (t.cls === 'first') {
      const rps = t.baseRps * (1 + 0.5 * Math.sin((2 * Math.PI * s) / 20) + (Math.sin(s * 7.3) > 0.97 ? 0.6 : 0));
      return { cpu: rps * t.costSec, rps };
    }
    const on = Math.sin((2 * Math.PI * s) / 13) > -0.3;
    return { cpu: on ? (t.kind === 'compute' ? 2 : 1) : 0.1, rps: 0 };
  }

  observe(): Snapshot {
    const now = this.nowNs;
    const windowNs = this.lastObserve < 0 ? 0 : now - this.lastObserve;
    this.lastObserve = now;
    const w = windowNs / 1e9;
    const secondOnCore = new Map<number, number>();
    for (const t of this.tasks) if (t.cls === 'second' && !t.paused) for (const c of t.cores) secondOnCore.set(c, (secondOnCore.get(c) ?? 0) + 1);
    let bwTotal = 0;
    const samples: TaskSample[] = this.tasks.map((t) => {
      const d = this.demand(t, now);
      const n = t.cores.length;
      const share = t.cls === 'second' ? t.cores.reduce((s, c) => s + 1 / Math.max(1, secondOnCore.get(c) ?? 1), 0) : n;
      const cpu = t.paused ? 0 : Math.min(d.cpu, share) * (t.quota / 100);
      const bwPerCore = t.kind === 'stream' ? 6e9 : t.kind === 'thrash' ? 3e9 : t.kind === 'chase' ? 0.6e9 : t.kind === 'lc' ? 0.8e9 : t.kind === 'io' ? 0.3e9 : 0.05e9;
      const bw = cpu * bwPerCore * (t.mba / 100);
      bwTotal += bw;
      const ips = cpu * 2e9;
      t.c.cpuNs += cpu * windowNs;
      t.c.ins += ips * w;
      t.c.cyc += cpu * 3e9 * w;
      t.c.miss += (bw / 64) * w;
      t.c.acc += (bw / 64) * w * (t.kind === 'lc' ? 4 : 1.3);
      t.c.rd += bw * 0.7 * w;
      t.c.wr += bw * 0.3 * w;
      t.c.io += (t.kind === 'io' ? cpu * 2e8 * (t.io / 100) : 0) * w;
      const ways = t.mask ? popcount(t.mask) : 16;
      const s: TaskSample = {
        id: t.id,
        class: t.cls,
        state: t.paused ? 'paused' : 'running',
        cpuTimeNs: Math.round(t.c.cpuNs),
        cpuCores: cpu,
        instructions: Math.round(t.c.ins),
        cycles: Math.round(t.c.cyc),
        llcAccesses: Math.round(t.c.acc),
        llcMisses: Math.round(t.c.miss),
        llcOccupancyBytes: Math.min(ways, t.kind === 'lc' ? 3 : t.kind === 'thrash' ? 12 : 2) * 2 * 1024 * 1024,
        memReadBytes: Math.round(t.c.rd),
        memWriteBytes: Math.round(t.c.wr),
        memBandwidthBytesPerSec: bw,
        rssBytes: 1 << 30,
        ioBytes: Math.round(t.c.io),
        allocation: { cores: [...t.cores], cacheWayMask: t.mask, bankColours: [...t.colours], memBandwidthPct: t.mba, ioWeight: t.io, cpuQuotaPct: t.quota, paused: t.paused },
        reserved: { cores: [...t.rCores].sort((a, b) => a - b), cacheWayMask: t.rMask, bankColours: [...t.rColours].sort((a, b) => a - b), memBandwidthPct: t.rMba, ioWeight: t.rIo },
      };
      if (t.cls === 'first') {
        const svc = t.costSec * (1 + 0.3 * ((secondOnCore.get(t.cores[0]) ?? 0) > 0 ? 1 : 0));
        const p99 = Math.min(1e9, mmcP99Ns(Math.max(1, n), d.rps, svc, 3));
        s.latency = { requests: Math.round(d.rps * w), p50Ns: svc * 1e9, p95Ns: p99 * 0.7, p99Ns: p99, sloP99Ns: t.sloNs, offeredRps: d.rps, completedRps: Math.min(d.rps, n / t.costSec), queueLength: 0 };
      } else s.progressPerSec = ips / 1e6;
      return s;
    });
    void bwTotal;
    const echoes: EchoResult[] = [];
    this.pendingEchoes = this.pendingEchoes.filter((e) => {
      if (e.readyAt > now) return true;
      const { readyAt: _r, ...res } = e;
      echoes.push(res);
      return false;
    });
    const used = new Set<number>();
    let usedWays = 0;
    for (const t of this.tasks) {
      t.cores.forEach((c) => used.add(c));
      t.rCores.forEach((c) => used.add(c));
      usedWays |= t.mask | t.rMask;
    }
    const future: FutureDemand[] = this.tasks.map((t) => {
      const d = this.demand(t, now + 3 * this.periodNs);
      return { task: t.id, horizonNs: 3 * this.periodNs, peak: t.cls === 'first' ? { cpu: d.cpu, rps: d.rps } : { cpu: d.cpu } };
    });
    return {
      timeNs: now,
      windowNs,
      tasks: samples,
      echoes,
      free: { cores: BENCH_CAPABILITIES.coreIds.filter((c) => !used.has(c)), cacheWayMask: 0xffff & ~usedWays, bankColours: [] },
      future,
    };
  }

  /** Apply the actions' effects (no refusal checks: this is a cost benchmark, not a platform). */
  apply(actions: Action[]): void {
    const byId = new Map(this.tasks.map((t) => [t.id, t]));
    for (const a of actions) {
      const t = byId.get(a.task);
      if (!t) continue;
      switch (a.kind) {
        case 'setCores':
        case 'migrate':
          if (a.cores.length) t.cores = [...a.cores];
          break;
        case 'setCacheWays':
          t.mask = a.mask;
          break;
        case 'setBankColours':
          t.colours = [...a.colours];
          break;
        case 'setMemBandwidth':
          t.mba = a.pct;
          break;
        case 'setIoWeight':
          t.io = a.weight;
          break;
        case 'throttle':
          t.quota = a.cpuPct;
          break;
        case 'pause':
          t.paused = true;
          break;
        case 'resume':
          t.paused = false;
          break;
        case 'reserve': {
          const g = a.grant;
          if (g.resource === 'cores') g.cores.forEach((c) => t.rCores.add(c));
          else if (g.resource === 'cacheWays') t.rMask |= g.mask;
          else if (g.resource === 'bankColours') g.colours.forEach((c) => t.rColours.add(c));
          else if (g.resource === 'memBandwidthPct') t.rMba += g.pct;
          else t.rIo = g.weight;
          break;
        }
        case 'release': {
          const g = a.grant;
          if (g.resource === 'cores') {
            g.cores.forEach((c) => t.rCores.delete(c));
            const left = t.cores.filter((c) => !g.cores.includes(c));
            if (left.length) t.cores = left;
          } else if (g.resource === 'cacheWays') {
            t.rMask &= ~g.mask;
            if (t.mask) t.mask &= ~g.mask;
          } else if (g.resource === 'bankColours') {
            g.colours.forEach((c) => t.rColours.delete(c));
            t.colours = t.colours.filter((c) => !g.colours.includes(c));
          } else if (g.resource === 'memBandwidthPct') t.rMba = Math.max(0, t.rMba - g.pct);
          else t.rIo = 0;
          break;
        }
        case 'echo': {
          const d = this.demand(t, this.nowNs + a.durationNs / 2);
          this.pendingEchoes.push({ task: t.id, requestedAtNs: this.nowNs, durationNs: a.durationNs, measured: t.cls === 'first' ? { cpu: d.cpu, rps: d.rps } : { cpu: d.cpu }, costCpuNs: Math.round(a.durationNs * 0.1), readyAt: this.nowNs + Math.round(a.durationNs * 0.1) });
          break;
        }
        case 'warm':
          break;
      }
    }
  }

  advance(untilNs: number): void {
    this.nowNs = untilNs;
  }
}
