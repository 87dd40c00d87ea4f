// The interference dataset: JSON lines, one observation per line,
//
//   {"first": [8 numbers], "second": [8 numbers], "load": 0.42, "slowdown": 1.17, "sharing": [0, 0, 1, 1]}
//
//   first     the first-class task's profile (features.ts PROFILE_FEATURES order:
//             cpu, memBw, llcOcc, llcAccess, missRatio, io, readFrac, seq), each in [0, 1]
//   second    the co-running second-class profile (one task, or the aggregate of
//             several as features.ts aggregateProfiles builds it)
//   load      system load in [0, 1] (max of CPU and DRAM bandwidth utilisation)
//   slowdown  observed slowdown of the first-class task: its cost per request
//             (or CPI) co-running, over the same alone; > 0, 1 = no slowdown
//   sharing   optional [cpu, llc, memBw, io] shared fractions in [0, 1];
//             default [0, 0, 1, 1] (cores and ways partitioned, DRAM and IO shared)
//
// Blank lines are skipped. Anything else that is not such an object is an
// error naming file:line:column.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InputError } from '../../util/errors.js';
import { describeZodError } from '../../util/zod-errors.js';
import { PARTITIONED_SHARING, PROFILE_LEN, REASONS } from './features.js';

const unit = z.number({ error: 'expected a number in [0, 1]' }).min(0, 'must be >= 0').max(1, 'must be <= 1');

export const datasetRowSchema = z.strictObject({
  first: z.array(unit).length(PROFILE_LEN, `expected ${PROFILE_LEN} features`),
  second: z.array(unit).length(PROFILE_LEN, `expected ${PROFILE_LEN} features`),
  load: unit,
  slowdown: z.number({ error: 'expected a positive number' }).positive('must be > 0').finite(),
  sharing: z.array(unit).length(REASONS.length, `expected ${REASONS.length} shared fractions`).optional(),
});

export type DatasetRow = z.infer<typeof datasetRowSchema>;

export function parseDataset(text: string, where: string): DatasetRow[] {
  const rows: DatasetRow[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '').replace(/^\uFEFF/, '');
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      const m = /position (\d+)/.exec((err as Error).message);
      const col = m ? Number(m[1]) + 1 : 1;
      throw new InputError(`not a JSON object (${(err as Error).message.split('\n')[0]})`, `${where}:${i + 1}:${col}`);
    }
    const r = datasetRowSchema.safeParse(v);
    if (!r.success) throw new InputError(describeZodError(r.error), `${where}:${i + 1}:1`);
    rows.push(r.data);
  });
  if (rows.length === 0) throw new InputError('no observations (expected JSON lines)', where);
  return rows;
}

export function loadDataset(path: string): DatasetRow[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InputError('cannot read dataset file', path);
  }
  return parseDataset(text, path);
}

export function rowSharing(r: DatasetRow): number[] {
  return r.sharing ?? [...PARTITIONED_SHARING];
}

/** One row as a JSON line (fixed key order, numbers rounded to 6 significant digits). */
export function formatDatasetRow(r: DatasetRow): string {
  const n = (x: number) => Number(x.toPrecision(6));
  const o: Record<string, unknown> = { first: r.first.map(n), second: r.second.map(n), load: n(r.load), slowdown: n(r.slowdown) };
  if (r.sharing) o.sharing = r.sharing.map(n);
  return JSON.stringify(o);
}
