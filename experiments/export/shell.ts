// Shell text for the generated scripts: quoting, and the values that may go
// on a `#SBATCH` line (sbatch reads those itself, without a shell, so they must
// not need quoting at all).
import { UsageError } from '../../util/errors.js';

/** A word for sh/bash: left bare when it is plainly safe, else single-quoted. */
export function shq(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A value safe to put after `#SBATCH --opt=` (no quoting, no spaces, no shell characters). */
export function sbatchSafe(what: string, value: string): string {
  if (!/^[A-Za-z0-9_./:@%+,=-]+$/.test(value)) {
    throw new UsageError(`${what} "${value}" cannot be written on an #SBATCH line; use only letters, digits and _ . / : @ % + , = -`);
  }
  return value;
}

/** Kubernetes object name from the experiment name: DNS-1123 label, room left for "-merge" and pod suffixes. */
export function jobName(name: string): string {
  const n = `umbra-${name}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return n.slice(0, 46).replace(/-+$/, '');
}
