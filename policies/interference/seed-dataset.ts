// A small synthetic seed dataset for the learned interference model, until the
// simulator can generate observed ones (the format is dataset.ts; the
// simulator's generator will write the same lines). It is NOT measured data:
// profile pairs are drawn from archetypes of the workloads the machine runs
// (first-class request servers; second-class stream / pointer-chase /
// cache-thrash / compute / IO jobs, 1–6 aggregated), and the slowdown comes
// from an analytic contention model with these stated assumptions:
//
//  cpu     co-runners on shared cores time-share them:
//          1 + 0.8 * sharing.cpu * min(1, second.cpu / max(first.cpu, 1/16))
//  llc     the first task loses cache in proportion to the other's access
//          churn, and each lost hit becomes a DRAM access:
//          lost = sharing.llc * s.llcAccess / (s.llcAccess + f.llcAccess + 0.01)
//          1 + 4 * lost * (1 - f.missRatio) * min(1, f.llcOcc / 0.05) * f.llcAccess
//  memBw   DRAM as a single queue (M/M/1 latency 1/(1 - rho)): utilisation
//          rho0 = min(0.8, f.memBw + 0.1) alone, rho = min(0.9, rho0 +
//          memShare * s.memBw) together; the first task is memory-bound by
//          m = min(1, 3 f.missRatio f.llcAccess + f.memBw); row-buffer
//          conflicts add 20% when the pair shares banks and differs in
//          sequentiality: 1 + m ((1 - rho0) / (1 - rho) - 1) (1 + 0.2 [memShare = 1] |f.seq - s.seq|)
//  io      1 + 1.5 * sharing.io * f.io * min(1, s.io / max(f.io, 0.05))
//  load    1 + 0.1 load^2 (scheduler and interconnect effects)
//  noise   x exp(0.03 N(0, 1))
//
// The product is the slowdown. The learned model trained on it starts as a
// smooth, monotone prior of that shape; online learning then moves it to the
// platform it runs on.
import { rngFor, type Rng } from '../../util/rng.js';
import { aggregateProfiles, F_CPU, F_IO, F_LLCACCESS, F_LLCOCC, F_MEMBW, F_MISSRATIO, F_READ, F_SEQ, PROFILE_LEN, type ProfileVector } from './features.js';
import { formatDatasetRow, type DatasetRow } from './dataset.js';

type Range = [number, number];
interface Archetype {
  cpu: Range;
  memBw: Range;
  llcOcc: Range;
  llcAccess: Range;
  missRatio: Range;
  io: Range;
  readFrac: Range;
  seq: Range;
}

const FIRST: Archetype = { cpu: [0.03, 0.4], memBw: [0.005, 0.15], llcOcc: [0.03, 0.35], llcAccess: [0.02, 0.3], missRatio: [0.05, 0.5], io: [0, 0], readFrac: [0.6, 0.95], seq: [0.1, 0.6] };

export const SECOND_KINDS: Record<string, Archetype> = {
  stream: { cpu: [1 / 16, 4 / 16], memBw: [0.15, 0.5], llcOcc: [0.1, 0.4], llcAccess: [0.3, 1], missRatio: [0.8, 1], io: [0, 0], readFrac: [0.5, 0.8], seq: [0.7, 1] },
  'pointer-chase': { cpu: [1 / 16, 2 / 16], memBw: [0.01, 0.06], llcOcc: [0.3, 0.9], llcAccess: [0.05, 0.2], missRatio: [0.6, 0.95], io: [0, 0], readFrac: [0.9, 1], seq: [0, 0.2] },
  'cache-thrash': { cpu: [1 / 16, 2 / 16], memBw: [0.05, 0.25], llcOcc: [0.5, 1], llcAccess: [0.3, 0.8], missRatio: [0.3, 0.7], io: [0, 0], readFrac: [0.6, 0.9], seq: [0.3, 0.7] },
  compute: { cpu: [1 / 16, 6 / 16], memBw: [0, 0.01], llcOcc: [0, 0.05], llcAccess: [0, 0.02], missRatio: [0, 0.1], io: [0, 0], readFrac: [0.5, 0.9], seq: [0.4, 0.6] },
  io: { cpu: [0.02, 0.1], memBw: [0.01, 0.05], llcOcc: [0.02, 0.1], llcAccess: [0.01, 0.05], missRatio: [0.3, 0.8], io: [0.3, 0.8], readFrac: [0.3, 0.9], seq: [0.5, 1] },
};

function draw(rng: Rng, a: Archetype): ProfileVector {
  const u = (r: Range) => r[0] + (r[1] - r[0]) * rng.next();
  const p = new Float64Array(PROFILE_LEN);
  p[F_CPU] = u(a.cpu);
  p[F_MEMBW] = u(a.memBw);
  p[F_LLCOCC] = u(a.llcOcc);
  p[F_LLCACCESS] = u(a.llcAccess);
  p[F_MISSRATIO] = u(a.missRatio);
  p[F_IO] = u(a.io);
  p[F_READ] = u(a.readFrac);
  p[F_SEQ] = u(a.seq);
  return p;
}

/** The assumed contention model (header comment). */
export function seedSlowdown(f: ProfileVector, s: ProfileVector, load: number, sharing: readonly number[]): number {
  const [shCpu, shLlc, shMem, shIo] = sharing;
  const cpu = 1 + 0.8 * shCpu * Math.min(1, s[F_CPU] / Math.max(f[F_CPU], 1 / 16));
  const lost = (shLlc * s[F_LLCACCESS]) / (s[F_LLCACCESS] + f[F_LLCACCESS] + 0.01);
  const llc = 1 + 4 * lost * (1 - f[F_MISSRATIO]) * Math.min(1, f[F_LLCOCC] / 0.05) * f[F_LLCACCESS];
  const rho0 = Math.min(0.8, f[F_MEMBW] + 0.1);
  const rho = Math.min(0.9, rho0 + shMem * s[F_MEMBW]);
  const m = Math.min(1, 3 * f[F_MISSRATIO] * f[F_LLCACCESS] + f[F_MEMBW]);
  const rowConflict = 1 + 0.2 * (shMem >= 1 ? 1 : 0) * Math.abs(f[F_SEQ] - s[F_SEQ]);
  const mem = 1 + m * ((1 - rho0) / (1 - rho) - 1) * rowConflict;
  const io = 1 + 1.5 * shIo * f[F_IO] * Math.min(1, s[F_IO] / Math.max(f[F_IO], 0.05));
  return cpu * llc * mem * io * (1 + 0.1 * load * load);
}

export function generateSeedDataset(seed: number, rows: number): DatasetRow[] {
  const rng = rngFor(seed, 'interference/seed-dataset');
  const kinds = Object.keys(SECOND_KINDS);
  const out: DatasetRow[] = [];
  for (let i = 0; i < rows; i++) {
    const f = draw(rng, FIRST);
    if (rng.next() < 0.3) f[F_IO] = 0.4 * rng.next();
    const n = 1 + rng.int(6);
    const members = Array.from({ length: n }, () => ({ p: draw(rng, SECOND_KINDS[kinds[rng.int(kinds.length)]]), scale: 1 }));
    const s = aggregateProfiles(members);
    const sharing = [rng.next() < 0.6 ? 0 : 0.25 + 0.75 * rng.next(), rng.next() < 0.5 ? 0 : 1, rng.next() < 0.5 ? 1 : 0.5, 1];
    const load = Math.min(1, Math.max(f[F_CPU] + s[F_CPU] + 0.3 * rng.next(), f[F_MEMBW] + s[F_MEMBW]));
    const slowdown = seedSlowdown(f, s, load, sharing) * Math.exp(0.03 * rng.normal());
    out.push({ first: [...f], second: [...s], load, slowdown, sharing });
  }
  return out;
}

export function formatDataset(rows: readonly DatasetRow[]): string {
  return rows.map(formatDatasetRow).join('\n') + '\n';
}
