// Options shared by the experiment commands (validate, run, demo, export).
import { availableParallelism } from 'node:os';
import { UsageError } from '../../util/errors.js';
import { parseFloatOption, parseIntOption } from './parse-options.js';
import { parseShard, type Shard } from '../sweep/jobs.js';
import type { Overrides } from '../spec/prepare.js';
import type { PolicyResult, ResultsJson } from '../sweep/aggregate.js';
import { METRICS, type MetricName } from '../metrics/definitions.js';
import { formatTable } from './output.js';
import { fmtInterval } from '../report/format.js';

export interface OverrideFlags {
  seeds?: string;
  duration?: string;
}

export function overridesFrom(o: OverrideFlags): Overrides {
  const out: Overrides = {};
  if (o.seeds !== undefined) out.seeds = parseIntOption('--seeds', o.seeds, 1, 10_000);
  if (o.duration !== undefined) out.durationMs = parseFloatOption('--duration', o.duration, 1e-3);
  return out;
}

export function workersFrom(raw: string | undefined): number {
  if (raw === undefined) return Math.max(1, availableParallelism());
  return parseIntOption('--workers', raw, 1, 1024);
}

export function shardFrom(raw: string | undefined): Shard | undefined {
  if (raw === undefined) return undefined;
  const s = parseShard(raw);
  if (!s) throw new UsageError(`--shard expects i/n with 0 <= i < n (0-based, like a Slurm array index or a Kubernetes completion index), got "${raw}"`);
  return s;
}

const SHOWN: MetricName[] = ['sloViolationPct', 'p99OverSlo', 'emuPct', 'beThroughputPct', 'hoardedPct', 'leadTimeMs', 'churnPerSec'];

/** A plain-text summary of results (one row per policy and point). */
export function resultsTable(results: ResultsJson): string {
  const multi = results.points.length > 1;
  const header = [...(multi ? ['point'] : []), 'policy', ...SHOWN.map((m) => `${m}`)];
  const rows = results.policies.map((r: PolicyResult) => [
    ...(multi ? [r.pointLabel] : []),
    r.name,
    ...SHOWN.map((m) => {
      const s = r.metrics[m];
      return s ? fmtInterval(s.mean, s.lo, s.hi) : '–';
    }),
  ]);
  const units = SHOWN.map((m) => `${m}: ${METRICS[m].unit}, ${METRICS[m].better} is better`).join('; ');
  return `${formatTable(header, rows)}\n(mean [95% interval] over ${results.seeds.length} seed(s); ${units})`;
}
