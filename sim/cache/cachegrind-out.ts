// Reads the totals of a cachegrind output file (`--cachegrind-out-file`): the
// `events:` line names the counters, the `summary:` line holds their totals.
import { InputError } from '../../util/errors.js';
import { CACHEGRIND_EVENT_NAMES, type CachegrindCounts } from './cachegrind-hierarchy.js';

export function parseCachegrindTotals(text: string, label = 'cachegrind.out'): CachegrindCounts {
  const lines = text.split('\n');
  const eventsIdx = lines.findIndex((l) => l.startsWith('events:'));
  const summaryIdx = lines.findIndex((l) => l.startsWith('summary:'));
  if (eventsIdx < 0) throw new InputError('no "events:" line; not a cachegrind output file', label);
  if (summaryIdx < 0) throw new InputError('no "summary:" line; not a complete cachegrind output file', label);
  const names = lines[eventsIdx].slice('events:'.length).trim().split(/\s+/);
  const values = lines[summaryIdx].slice('summary:'.length).trim().split(/\s+/).map(Number);
  if (values.length !== names.length || values.some((v) => !Number.isSafeInteger(v))) {
    throw new InputError(`"summary:" has ${values.length} values for ${names.length} events`, `${label}:${summaryIdx + 1}`);
  }
  const byName = new Map(names.map((n, i) => [n, values[i]]));
  const out = {} as CachegrindCounts;
  for (const n of CACHEGRIND_EVENT_NAMES) {
    const v = byName.get(n);
    if (v === undefined) throw new InputError(`event ${n} missing from "events:" (was cachegrind run with --cache-sim=yes?)`, `${label}:${eventsIdx + 1}`);
    out[n] = v;
  }
  return out;
}
