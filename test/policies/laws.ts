// The laws the property tests check, as functions, so replay.test.ts can run
// a saved case through exactly the same checks.
import { createPolicy, POLICY_NAMES } from '../../policies/registry.js';
import type { ShadowExplain } from '../../policies/shadow-policy.js';
import { floorsConfig, platformFor, runLoop, type Case, type TickRecord } from './scenarios.js';
import type { AllocView } from './fake-platform.js';

export const SHADOW_FAMILY = new Set<string>(POLICY_NAMES.filter((n) => n.startsWith('shadow') || n === 'oracle'));

export const popcount = (m: number) => {
  let n = 0;
  for (let i = 0; i < 32; i++) n += (m >>> i) & 1;
  return n;
};

export function held(v: AllocView, r: string): number {
  switch (r) {
    case 'cores':
      return v.rCores.length;
    case 'cacheWays':
      return popcount(v.rMask);
    case 'bankColours':
      return v.rColours.length;
    case 'memBandwidthPct':
      return v.rMbaPct;
    default:
      return v.rIoWeight;
  }
}

export function run(name: string, c: Case): TickRecord[] {
  const policy = createPolicy(name, { floors: floorsConfig(c) });
  return runLoop(platformFor(c), policy, c.ticks, SHADOW_FAMILY.has(name));
}

/** Every law for one policy on one case; throws with a message naming the tick on the first failure. */
export function checkCase(name: string, c: Case): void {
  const recs = run(name, c);
  const floors = floorsConfig(c);
  for (const r of recs) {
    const live = new Set(r.snapshot.tasks.filter((t) => t.state !== 'exited').map((t) => t.id));
    for (const a of r.actions) if (!live.has(a.task)) throw new Error(`tick ${r.tick}: action ${a.kind} names ${a.task}, not in the snapshot`);
    if (r.violations.length) throw new Error(`tick ${r.tick}: ${r.violations.join('; ')}`);
    if (r.refused) throw new Error(`tick ${r.tick}: ${r.refused} action(s) refused: ${JSON.stringify(r.actions)}`);
    for (const [id, f] of Object.entries(floors)) {
      const v = r.after.get(id);
      if (!v || !live.has(id)) continue;
      const rc = new Set(v.rCores);
      const cores = v.cores.filter((x) => rc.has(x)).length;
      if (cores < f.cores) throw new Error(`tick ${r.tick}: ${id} holds ${cores} exclusive cores, floor ${f.cores}`);
      if (f.cacheWays !== undefined && popcount(v.mask & v.rMask) < f.cacheWays) throw new Error(`tick ${r.tick}: ${id} holds ${popcount(v.mask & v.rMask)} exclusive ways, floor ${f.cacheWays}`);
    }
  }
  // determinism: the same inputs give the same decisions
  const again = run(name, c);
  for (let i = 0; i < recs.length; i++) {
    if (JSON.stringify(again[i].actions) !== JSON.stringify(recs[i].actions)) throw new Error(`tick ${i}: decide() differed between two identical runs`);
  }
  if (SHADOW_FAMILY.has(name)) {
    checkRelease(recs, c);
    checkQuarantineLift(recs, c);
  }
}

/** Once the lease's demand stays at or below W < what the task holds, the holding is at most W within grace (+1 tick). */
function checkRelease(recs: TickRecord[], c: Case): void {
  const ex = (i: number) => recs[i].explain as ShadowExplain | undefined;
  const period = c.periodMs * 1e6;
  for (let t0 = 1; t0 < recs.length; t0++) {
    const e0 = ex(t0);
    if (!e0) continue;
    const G = Math.ceil(e0.timing.graceNs / period);
    const end = t0 + G + 1;
    if (end >= recs.length) break;
    for (const f of e0.first) {
      for (const r of Object.keys(f.leases)) {
        const before = recs[t0 - 1].after.get(f.task);
        if (!before) continue;
        const R0 = held(before, r);
        let W = -Infinity;
        let ok = true;
        for (let t = t0; t <= end; t++) {
          const fl = ex(t)?.first.find((x) => x.task === f.task);
          const l = fl?.leases[r as keyof typeof fl.leases];
          if (!l || !recs[t].after.get(f.task)) {
            ok = false;
            break;
          }
          W = Math.max(W, l.wanted);
        }
        if (!ok || !(W < R0)) continue;
        const after = held(recs[end].after.get(f.task)!, r);
        if (after > W + 1e-9) throw new Error(`${f.task} ${r}: demand stayed <= ${W} below the holding ${R0} from tick ${t0}, still holding ${after} at tick ${end} (grace ${G} ticks)`);
      }
    }
  }
}

/** A second-class task whose wanted quarantine level has been 'none' for the lift delay is fully let out (+1 tick). */
function checkQuarantineLift(recs: TickRecord[], c: Case): void {
  const period = c.periodMs * 1e6;
  for (let t1 = 1; t1 < recs.length; t1++) {
    const e1 = recs[t1].explain as ShadowExplain | undefined;
    if (!e1) continue;
    const L = Math.ceil(e1.timing.liftAfterNs / period);
    const end = t1 + L + 1;
    if (end >= recs.length) break;
    const prev = recs[t1 - 1].explain as ShadowExplain;
    for (const s of prev.second) {
      if (s.level === 'none') continue;
      let clear = true;
      for (let t = t1; t <= end; t++) {
        const x = (recs[t].explain as ShadowExplain).second.find((y) => y.task === s.task);
        if (!x || x.wanted !== 'none') {
          clear = false;
          break;
        }
      }
      if (!clear) continue;
      const v = recs[end].after.get(s.task);
      if (!v) continue;
      if (v.paused || v.quotaPct !== 100 || v.mbaPct !== 100 || v.ioWeight !== 100) throw new Error(`${s.task}: predicted interference passed at tick ${t1}, still confined at tick ${end}: ${JSON.stringify(v)}`);
    }
  }
}

