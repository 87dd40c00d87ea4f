import { UsageError } from '../../util/errors.js';

export function parseIntOption(name: string, raw: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^-?\d+$/.test(raw.trim())) throw new UsageError(`${name} expects an integer, got "${raw}"`);
  const v = Number(raw);
  if (v < min || v > max) throw new UsageError(`${name} must be in [${min}, ${max}], got ${v}`);
  return v;
}

export function parseFloatOption(name: string, raw: string, min = -Infinity, max = Infinity): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v)) throw new UsageError(`${name} expects a number, got "${raw}"`);
  if (v < min || v > max) throw new UsageError(`${name} must be in [${min}, ${max}], got ${v}`);
  return v;
}
