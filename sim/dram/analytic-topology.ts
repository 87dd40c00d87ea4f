// Where the analytical DRAM model's streams meet: the banks each stream
// reaches (from its colours), folded into symmetry classes so that the fixed
// point iterates over distinct situations rather than over every bank.
//
// Each stream spreads its requests uniformly over its banks, so two banks
// reached by the same streams, sitting in bank groups, ranks and channels that
// are themselves alike, see identical traffic, waits and row hits at every
// step of the fixed point. Classes are found by refinement, bottom-up then
// top-down:
//   bank signature    = the set of streams reaching it
//   group signature   = multiset of its banks' signatures
//   rank signature    = multiset of its groups' signatures
//   channel signature = multiset of its ranks' signatures
//   channel class = channel signature; rank class = (channel class, rank
//   signature); group class = (rank class, group signature); bank class =
//   (group class, bank signature).
// Every unit of a class therefore holds the same number of sub-units of each
// sub-class. With every stream on all colours there is one class per level,
// whatever the size of the memory system.
import type { DramConfig } from './dram-config.js';
import { banksPerRank } from './dram-config.js';
import { banksOfColours } from './page-colouring.js';

/** Constants derived once per configuration. */
export interface Prepared {
  channels: number;
  ranks: number;
  banksPerChannel: number;
  banksPerRank: number;
  banksPerGroup: number;
  totalBanks: number;
  tCkNs: number;
  t: DramConfig['timingCycles'];
  wrToPre: number;
  refreshBlockCycles: number;
  refreshFraction: number;
  rdToWrPenalty: number;
  wrToRdPenalty: number;
  drainBatchHigh: number;
  drainBatchLow: number;
  rowHitCap: number;
  bankSets: Map<string, Int32Array>;
  topologies: Map<string, Topology>;
  /** The topology of the previous call and the colours it was built for (a cheap check before building a key). */
  lastColours: (readonly number[] | null)[] | null;
  lastTopology: Topology | null;
  config: DramConfig;
}

const prepared = new WeakMap<DramConfig, Prepared>();

export function prepare(config: DramConfig): Prepared {
  const hit = prepared.get(config);
  if (hit) return hit;
  const t = config.timingCycles;
  const bpr = banksPerRank(config);
  const bpc = bpr * config.ranks;
  const refreshBlockCycles = t.tRFC + t.tRP;
  const p: Prepared = {
    channels: config.channels,
    ranks: config.ranks,
    banksPerChannel: bpc,
    banksPerRank: bpr,
    banksPerGroup: config.banksPerGroup,
    totalBanks: bpc * config.channels,
    tCkNs: config.tCkNs,
    t,
    wrToPre: t.tCWL + t.tBurst + t.tWR,
    refreshBlockCycles,
    refreshFraction: refreshBlockCycles / t.tREFI,
    // bus cycles lost when the data bus turns from reads to writes and back
    rdToWrPenalty: Math.max(0, t.tCL + t.tBurst + t.tRTRS - t.tCWL - t.tBurst),
    wrToRdPenalty: Math.max(0, t.tCWL + t.tBurst + t.tWTR_S - t.tBurst),
    drainBatchHigh: config.controller.transactionQueueSize,
    drainBatchLow: config.controller.writeDrainLowThreshold + 1,
    rowHitCap: config.controller.rowHitCap,
    bankSets: new Map(),
    topologies: new Map(),
    lastColours: null,
    lastTopology: null,
    config,
  };
  prepared.set(config, p);
  return p;
}

/**
 * Symmetry classes of banks, bank groups, ranks and channels, and how the
 * streams spread over them. Per-unit quantities (a bank's rate, a group's
 * rate...) are stored once per class; counts say how many units a class has.
 * Lists per stream or per class are flattened (start offsets + entries).
 */
export interface Topology {
  S: number;
  /** Bank classes. */
  K: number;
  kGroup: Int32Array;
  kRank: Int32Array;
  kChannel: Int32Array;
  /** Banks of the class in one group of its group class, one rank of its rank class, one channel of its channel class. */
  kPerGroup: Float64Array;
  kPerRank: Float64Array;
  kPerChannel: Float64Array;
  /** Streams reaching the class. */
  kMemberStart: Int32Array;
  kMembers: Int32Array;
  /** Group classes. */
  G: number;
  gMemberStart: Int32Array;
  gMembers: Int32Array;
  /** Rank classes: channel class, ranks of the class in one channel. */
  R: number;
  rChannel: Int32Array;
  rPerChannel: Float64Array;
  rMemberStart: Int32Array;
  rMembers: Int32Array;
  /** Channel classes, and the class of each channel. */
  C: number;
  cMemberStart: Int32Array;
  cMembers: Int32Array;
  channelClass: Int32Array;
  /** Per stream: its bank classes and the share of its requests each receives (all banks of the class together). */
  sStart: Int32Array;
  sCls: Int32Array;
  sW: Float64Array;
  /** Per stream: 1 / banks it reaches. */
  invSet: Float64Array;
  /** Per stream: its group classes, its share of requests in ONE group of the class, and how many groups the class has. */
  sgStart: Int32Array;
  sgCls: Int32Array;
  sgShare: Float64Array;
  sgCount: Float64Array;
  /** Per stream: the same for rank classes. */
  srStart: Int32Array;
  srShare: Float64Array;
  srCount: Float64Array;
  /** Working state of the fixed point for this topology (reused across calls). */
  workspace: unknown;
}

function bankSet(p: Prepared, colours: readonly number[] | null): Int32Array {
  const key = colours === null ? '*' : colours.join(',');
  let s = p.bankSets.get(key);
  if (!s) {
    s = banksOfColours(p.config, colours);
    if (p.bankSets.size > 4096) p.bankSets.clear();
    p.bankSets.set(key, s);
  }
  return s;
}

function sameColours(a: readonly number[] | null, b: readonly number[] | null): boolean {
  if (a === b) return true;
  if (a === null || b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The topology for these streams' colours (cached per colour assignment). */
export function topologyFor(p: Prepared, streams: readonly { colours: readonly number[] | null }[]): Topology {
  const last = p.lastColours;
  if (last !== null && p.lastTopology !== null && last.length === streams.length) {
    let same = true;
    for (let i = 0; i < streams.length && same; i++) same = sameColours(last[i], streams[i].colours);
    if (same) return p.lastTopology;
  }
  let key = '';
  for (const s of streams) key += s.colours === null ? '*;' : s.colours.join(',') + ';';
  let topo = p.topologies.get(key);
  if (!topo) {
    topo = buildTopology(p, streams.map((s) => bankSet(p, s.colours)));
    if (p.topologies.size > 256) p.topologies.clear();
    p.topologies.set(key, topo);
  }
  p.lastColours = streams.map((s) => (s.colours === null ? null : [...s.colours]));
  p.lastTopology = topo;
  return topo;
}

/** Interns keys as dense ids in order of first appearance. */
class Interner {
  private readonly ids = new Map<string, number>();
  id(key: string): number {
    let v = this.ids.get(key);
    if (v === undefined) {
      v = this.ids.size;
      this.ids.set(key, v);
    }
    return v;
  }
  get size(): number {
    return this.ids.size;
  }
}

const multisetKey = (ids: number[]) => [...ids].sort((a, b) => a - b).join(',');

function flatten(lists: number[][]): [Int32Array, Int32Array] {
  const start = new Int32Array(lists.length + 1);
  for (let i = 0; i < lists.length; i++) start[i + 1] = start[i] + lists[i].length;
  const flat = new Int32Array(start[lists.length]);
  lists.forEach((l, i) => flat.set(l, start[i]));
  return [start, flat];
}

export function buildTopology(p: Prepared, sets: Int32Array[]): Topology {
  const S = sets.length;
  const nB = p.totalBanks;
  const bpg = p.banksPerGroup;
  const groupsPerRank = p.banksPerRank / bpg;
  const nG = nB / bpg;
  const nR = p.channels * p.ranks;
  const members: number[][] = Array.from({ length: nB }, () => []);
  for (let s = 0; s < S; s++) for (const b of sets[s]) members[b].push(s);

  // bottom-up signatures
  const bankSig = new Interner();
  const bSig = Array.from({ length: nB }, (_, b) => bankSig.id(members[b].join(',')));
  const groupSig = new Interner();
  const gSig = Array.from({ length: nG }, (_, g) => groupSig.id(multisetKey(bSig.slice(g * bpg, (g + 1) * bpg))));
  const rankSig = new Interner();
  const rSig = Array.from({ length: nR }, (_, r) => rankSig.id(multisetKey(gSig.slice(r * groupsPerRank, (r + 1) * groupsPerRank))));
  const chanSig = new Interner();
  const cSig = Array.from({ length: p.channels }, (_, c) => chanSig.id(multisetKey(rSig.slice(c * p.ranks, (c + 1) * p.ranks))));

  // top-down classes
  const channelClass = Int32Array.from(cSig);
  const C = chanSig.size;
  const rankCls = new Interner();
  const rankClassOf = Array.from({ length: nR }, (_, r) => rankCls.id(`${channelClass[(r / p.ranks) | 0]}|${rSig[r]}`));
  const groupCls = new Interner();
  const groupClassOf = Array.from({ length: nG }, (_, g) => groupCls.id(`${rankClassOf[(g / groupsPerRank) | 0]}|${gSig[g]}`));
  const bankCls = new Interner();
  const bankClassOf = new Int32Array(nB).fill(-1);
  for (let b = 0; b < nB; b++) if (members[b].length > 0) bankClassOf[b] = bankCls.id(`${groupClassOf[(b / bpg) | 0]}|${bSig[b]}`);
  const K = bankCls.size;
  const G = groupCls.size;
  const R = rankCls.size;

  // unit counts per class
  const cUnits = new Float64Array(C);
  for (let c = 0; c < p.channels; c++) cUnits[channelClass[c]]++;
  const rUnits = new Float64Array(R);
  const rChannel = new Int32Array(R);
  for (let r = 0; r < nR; r++) {
    rUnits[rankClassOf[r]]++;
    rChannel[rankClassOf[r]] = channelClass[(r / p.ranks) | 0];
  }
  const gUnits = new Float64Array(G);
  const gRank = new Int32Array(G);
  for (let g = 0; g < nG; g++) {
    gUnits[groupClassOf[g]]++;
    gRank[groupClassOf[g]] = rankClassOf[(g / groupsPerRank) | 0];
  }
  const kUnits = new Float64Array(K);
  const kGroup = new Int32Array(K);
  const kMembers: number[][] = Array.from({ length: K }, () => []);
  for (let b = 0; b < nB; b++) {
    const k = bankClassOf[b];
    if (k < 0) continue;
    if (kUnits[k] === 0) {
      kGroup[k] = groupClassOf[(b / bpg) | 0];
      kMembers[k] = members[b];
    }
    kUnits[k]++;
  }
  const kRank = Int32Array.from(kGroup, (g) => gRank[g]);
  const kChannel = Int32Array.from(kRank, (r) => rChannel[r]);
  const kPerGroup = Float64Array.from(kUnits, (n, k) => n / gUnits[kGroup[k]]);
  const kPerRank = Float64Array.from(kUnits, (n, k) => n / rUnits[kRank[k]]);
  const kPerChannel = Float64Array.from(kUnits, (n, k) => n / cUnits[kChannel[k]]);
  const rPerChannel = Float64Array.from(rUnits, (n, r) => n / cUnits[rChannel[r]]);

  // members of the shared stations' classes
  const union = (n: number, parentOfK: Int32Array) => {
    const sets: Set<number>[] = Array.from({ length: n }, () => new Set());
    for (let k = 0; k < K; k++) for (const s of kMembers[k]) sets[parentOfK[k]].add(s);
    return sets.map((x) => [...x].sort((a, b) => a - b));
  };
  const [kMemberStart, kMembersFlat] = flatten(kMembers);
  const [gMemberStart, gMembers] = flatten(union(G, kGroup));
  const [rMemberStart, rMembers] = flatten(union(R, kRank));
  const [cMemberStart, cMembers] = flatten(union(C, kChannel));

  // per stream: classes at each level, in order of first bank
  const sClsL: number[][] = [];
  const sWL: number[][] = [];
  const sgClsL: number[][] = [];
  const sgShareL: number[][] = [];
  const sgCountL: number[][] = [];
  const srShareL: number[][] = [];
  const srCountL: number[][] = [];
  for (let s = 0; s < S; s++) {
    const set = sets[s];
    const n = set.length;
    const seenK = new Map<number, number>();
    const perGroup = new Map<number, number>(); // actual group -> banks of the stream
    const perRank = new Map<number, number>();
    for (const b of set) {
      const k = bankClassOf[b];
      seenK.set(k, (seenK.get(k) ?? 0) + 1);
      const g = (b / bpg) | 0;
      perGroup.set(g, (perGroup.get(g) ?? 0) + 1);
      const r = (b / p.banksPerRank) | 0;
      perRank.set(r, (perRank.get(r) ?? 0) + 1);
    }
    sClsL.push([...seenK.keys()]);
    sWL.push([...seenK.values()].map((v) => v / n));
    const byClass = (units: Map<number, number>, classOf: (u: number) => number, unitsOf: Float64Array) => {
      const cls = new Map<number, number>(); // class -> banks of the stream in one unit
      for (const [u, v] of units) if (!cls.has(classOf(u))) cls.set(classOf(u), v);
      return { ids: [...cls.keys()], share: [...cls.values()].map((v) => v / n), count: [...cls.keys()].map((c) => unitsOf[c]) };
    };
    const gs = byClass(perGroup, (g) => groupClassOf[g], gUnits);
    sgClsL.push(gs.ids);
    sgShareL.push(gs.share);
    sgCountL.push(gs.count);
    const rs = byClass(perRank, (r) => rankClassOf[r], rUnits);
    srShareL.push(rs.share);
    srCountL.push(rs.count);
  }
  const [sStart, sCls] = flatten(sClsL);
  const [sgStart, sgCls] = flatten(sgClsL);
  const [srStart] = flatten(srShareL);
  return {
    S,
    K,
    kGroup,
    kRank,
    kChannel,
    kPerGroup,
    kPerRank,
    kPerChannel,
    kMemberStart,
    kMembers: kMembersFlat,
    G,
    gMemberStart,
    gMembers,
    R,
    rChannel,
    rPerChannel,
    rMemberStart,
    rMembers,
    C,
    cMemberStart,
    cMembers,
    channelClass,
    sStart,
    sCls,
    sW: Float64Array.from(sWL.flat()),
    invSet: Float64Array.from(sets, (set) => 1 / set.length),
    sgStart,
    sgCls,
    sgShare: Float64Array.from(sgShareL.flat()),
    sgCount: Float64Array.from(sgCountL.flat()),
    srStart,
    srShare: Float64Array.from(srShareL.flat()),
    srCount: Float64Array.from(srCountL.flat()),
    workspace: null,
  };
}
