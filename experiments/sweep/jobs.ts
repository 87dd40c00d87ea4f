// The units of work of a sweep, in one canonical order: first the alone
// baselines (per distinct scenario, seed and task), then the cells (per point,
// policy, seed). Each job writes one file named for it and carries a hash of
// everything its result depends on, so a rerun reuses finished jobs whose
// inputs did not change and a shard i/n takes jobs i, i+n, i+2n, ...
import { canonicalJson, sha256 } from '../common/canonical-json.js';
import type { PreparedExperiment, PreparedPoint } from '../spec/prepare.js';
import type { PolicyRef } from '../policies/policy-source.js';
import { PEAK_BISECTIONS, PEAK_MAX_VIOLATION_PCT, PEAK_PROBE_MS } from '../alone/alone-baselines.js';

/** Bump when what a job writes changes, so old files are recomputed. */
export const JOB_FORMAT_VERSION = 2;

export interface AloneJob {
  kind: 'alone';
  role: 'be' | 'fc';
  point: number;
  seed: number;
  task: string;
  hash: string;
  /** Path relative to the output folder. */
  file: string;
}

export interface CellJob {
  kind: 'cell';
  point: number;
  policy: string;
  seed: number;
  hash: string;
  file: string;
  timingFile: string;
}

export type Job = AloneJob | CellJob;

export function aloneKey(point: PreparedPoint, role: 'be' | 'fc', task: string, seed: number): string {
  return sha256(canonicalJson({ v: JOB_FORMAT_VERSION, role, task, seed, alone: point.aloneKeys[task], peak: role === 'fc' ? [PEAK_PROBE_MS, PEAK_BISECTIONS, PEAK_MAX_VIOLATION_PCT] : null, leadCapMs: point.spec.leadCapMs }));
}

export function cellKey(exp: PreparedExperiment, point: PreparedPoint, policy: PolicyRef, seed: number): string {
  const s = point.spec;
  return sha256(
    canonicalJson({
      v: JOB_FORMAT_VERSION,
      platform: s.platform,
      scenario: point.scenarioKey,
      policy: { name: policy.name, knobs: policy.knobs, module: policy.module ? (exp.fileHashes[policy.module] ?? policy.module) : null },
      seed,
      durationMs: s.durationMs,
      warmupMs: s.warmupMs,
      controlPeriodMs: s.controlPeriodMs,
      oracleHorizonMs: s.oracleHorizonMs,
      leadCapMs: s.leadCapMs,
    }),
  );
}

/** Every job of the experiment, in canonical order. */
export function allJobs(exp: PreparedExperiment): Job[] {
  const jobs: Job[] = [];
  const seen = new Set<string>();
  for (const p of exp.points) {
    for (const seed of exp.seeds) {
      for (const t of p.scenario.tasks) {
        const role = t.class === 'second' ? 'be' : 'fc';
        if (role === 'fc' && p.peakRps[t.id] !== undefined) continue;
        const hash = aloneKey(p, role, t.id, seed);
        if (seen.has(hash)) continue;
        seen.add(hash);
        jobs.push({ kind: 'alone', role, point: p.index, seed, task: t.id, hash, file: `alone/${role}-${t.id}-s${seed}-${hash.slice(0, 12)}.json` });
      }
    }
  }
  for (const p of exp.points) {
    for (const pol of p.policies) {
      for (const seed of exp.seeds) {
        const hash = cellKey(exp, p, pol, seed);
        const base = `p${p.index}-${pol.label}-s${seed}`;
        jobs.push({ kind: 'cell', point: p.index, policy: pol.label, seed, hash, file: `cells/${base}.json`, timingFile: `timing/${base}.json` });
      }
    }
  }
  return jobs;
}

export interface Shard {
  /** 0-based index of this shard. */
  index: number;
  count: number;
}

export function shardJobs(jobs: Job[], shard: Shard | undefined): Job[] {
  if (!shard) return jobs;
  return jobs.filter((_, i) => i % shard.count === shard.index);
}

/** "i/n" with 0 <= i < n. */
export function parseShard(text: string): Shard | null {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) return null;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) return null;
  return { index, count };
}
