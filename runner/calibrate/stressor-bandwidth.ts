// The built-in streaming stressor's bandwidth alone on one core: what
// `umbra compare`'s host side runs for a second-class `stream` job
// (runner/workloads/microbench.mjs --kind stream: a JavaScript copy between
// two arrays, bytes read + written per second in its progress lines). It is
// reported beside the native copy bandwidth the DRAM fit uses: the two differ
// (the JIT's copy loop, the arrays' size), and the simulated stream kernel's
// memory intensity is fitted to this one (experiments/compare).
import { spawn } from 'node:child_process';
import { nativeAddon } from '../../native/addon.js';
import { microbenchScript } from '../repo-root.js';

export interface StressorBandwidth {
  stressor: 'builtin-stream';
  core: number;
  workingSetBytes: number;
  /** Bytes read + written per second (the stressor's progress units), after the warm-up. */
  bytesPerSec: number;
  /** Whether the stressor was pinned to the core (needs the native addon). */
  pinned: boolean;
}

/**
 * Run the built-in stream stressor alone for `seconds` on `core` and read its
 * rate from the progress lines after the first `warmupSeconds` (the arrays'
 * first touch and the JIT's warm-up).
 */
export async function measureStreamStressor(o: { core: number; workingSetBytes: number; seconds?: number; warmupSeconds?: number }): Promise<StressorBandwidth> {
  const seconds = o.seconds ?? 1.5;
  const warmup = o.warmupSeconds ?? Math.min(0.5, seconds / 3);
  const child = spawn(process.execPath, [microbenchScript(), '--kind', 'stream', '--seconds', String(seconds), '--bytes', String(o.workingSetBytes)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const addon = nativeAddon();
  // the copy runs on the process's main thread, whose tid is its pid
  const pinned = !!(addon && child.pid !== undefined && addon.setAffinity(child.pid, [o.core]).ok);
  const points: { tNs: number; units: number }[] = [];
  let buf = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = /^progress (\d+(?:\.\d+)?(?:e\+?\d+)?)$/.exec(line.trim());
      if (m) points.push({ tNs: Number(process.hrtime.bigint()), units: Number(m[1]) });
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => (err += c));
  const code = await new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
  if (code !== 0) throw new Error(`the stream stressor exited with ${code}: ${err.trim().split('\n')[0] ?? ''}`);
  const started = points.find((p) => p.units > 0);
  if (!started) throw new Error('the stream stressor reported no progress');
  const from = points.find((p) => p.tNs >= started.tNs + warmup * 1e9) ?? started;
  // the last line is printed at exit; the one before it is on the 50 ms clock
  const to = points[points.length - 1];
  if (to.tNs <= from.tNs) throw new Error('the stream stressor ran too briefly to measure');
  return { stressor: 'builtin-stream', core: o.core, workingSetBytes: o.workingSetBytes, bytesPerSec: (to.units - from.units) / ((to.tNs - from.tNs) / 1e9), pinned };
}
