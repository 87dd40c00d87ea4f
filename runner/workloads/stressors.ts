// Second-class workloads: stress-ng stressors where stress-ng is installed,
// the built-in microbenchmarks (microbench.mjs) otherwise. Each says which
// implementation it used and why.
import { microbenchScript } from '../repo-root.js';
import { findExecutable } from '../process/find-executable.js';

export type StressorKind = 'cache' | 'stream' | 'cpu' | 'io' | 'chase';
export const STRESSOR_KINDS: readonly StressorKind[] = ['cache', 'stream', 'cpu', 'io', 'chase'];
/** Kinds stress-ng has no stressor for: always the built-in microbenchmark. */
const BUILTIN_ONLY: ReadonlySet<StressorKind> = new Set(['chase']);

export interface StressorChoice {
  argv: string[];
  implementation: 'stress-ng' | 'builtin';
  reason: string;
  /** The built-in ones print progress lines; stress-ng does not. */
  reportsProgress: boolean;
}

export interface StressorOptions {
  stressor: StressorKind;
  workers?: number;
  implementation?: 'auto' | 'stress-ng' | 'builtin';
  /** Hard stop, so even an orphaned stressor ends on its own. */
  maxSeconds?: number;
  scratchDir: string;
  /** Working-set bytes for the built-in stream/chase kernels. */
  bytes?: number;
}

const BUILTIN_KIND: Record<StressorKind, string> = { cache: 'chase', stream: 'stream', cpu: 'cpu', io: 'io', chase: 'chase' };

export function chooseStressor(o: StressorOptions): StressorChoice {
  const workers = Math.max(1, Math.floor(o.workers ?? 1));
  const seconds = Math.max(1, Math.ceil(o.maxSeconds ?? 3600));
  const builtinOnly = BUILTIN_ONLY.has(o.stressor);
  const want = builtinOnly ? 'builtin' : (o.implementation ?? 'auto');
  const stressNg = want === 'builtin' ? null : findExecutable('stress-ng');
  if (want === 'stress-ng' && !stressNg) throw new Error('stress-ng was requested but is not installed (apt-get install stress-ng)');
  if (stressNg) {
    const argv = [stressNg, `--${o.stressor === 'io' ? 'hdd' : o.stressor}`, String(workers), '--timeout', `${seconds}s`, '--quiet'];
    if (o.stressor === 'io') argv.push('--hdd-bytes', '64M', '--temp-path', o.scratchDir);
    return { argv, implementation: 'stress-ng', reason: `stress-ng at ${stressNg}`, reportsProgress: false };
  }
  const argv = [process.execPath, microbenchScript(), '--kind', BUILTIN_KIND[o.stressor], '--seconds', String(seconds), '--workers', String(workers), '--dir', o.scratchDir];
  if (o.bytes) argv.push('--bytes', String(o.bytes));
  return {
    argv,
    implementation: 'builtin',
    reason: builtinOnly
      ? `stress-ng has no ${o.stressor} stressor; using the built-in microbenchmark`
      : want === 'builtin'
        ? 'built-in microbenchmark requested'
        : 'stress-ng is not installed; using the built-in microbenchmark',
    reportsProgress: true,
  };
}
