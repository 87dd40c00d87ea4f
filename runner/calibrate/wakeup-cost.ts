// What a job loses to each wake-up of another thread on its core, beyond
// that thread's own CPU time: the built-in streaming stressor alone on a
// core, then next to the addon's waker (native/src/waker.cc: a thread pinned
// to the same core, waking `rateHz` times a second at SCHED_FIFO 1 when
// permitted, doing nothing), in alternating pairs.
//
// Why: in `umbra compare` the runner's threads share the job's core, and the
// load generator's sender and reply reader wake there about twice per
// request. The simulator already gives that core the runner's measured CPU
// (experiments/compare/runner-load.ts); on the 2-vCPU VM a waker at 8000 Hz
// that did nothing took 11% of the core itself and cost a copy 21-35% of its
// bandwidth (2026-11-24): the wake-ups' disruption (timer interrupt, two
// context switches, disturbed caches and prefetch streams) cost the job as
// much again as their CPU.
//
// The figure is stated the way the simulator applies it: SimPlatform shares
// a core CFS-like, a job thread getting 1 / (1 + the core's other load), and
// the background load of `rate` wake-ups a second is its CPU share plus
// rate x wakeupCostNs. So the cost is what makes that formula give the
// measured ratio: 1/ratio - 1 - wakerCpuShare, per wake-up.
import { nativeAddon } from '../../native/addon.js';
import { measureStreamStressor } from './stressor-bandwidth.js';

export interface WakeupCostPair {
  aloneBytesPerSec: number;
  withWakerBytesPerSec: number;
  /** Wake-ups per second the waker made, and the share of the core its own CPU time took. */
  wakeupsPerSec: number;
  wakerCpuShare: number;
  /** This pair's cost (see the header), ns per wake-up. */
  costNs: number;
}

export interface WakeupCost {
  core: number;
  rateHz: number;
  /** Whether the waker ran at SCHED_FIFO 1 (as the load generator's threads do where permitted). */
  realtime: boolean;
  pairs: WakeupCostPair[];
  /** The pairs' median cost, ns per wake-up (>= 0). */
  costNs: number;
}

/** ns per wake-up from one pair (see the header); never below 0. */
export function wakeupCostNs(aloneBytesPerSec: number, withWakerBytesPerSec: number, wakeupsPerSec: number, wakerCpuShare: number): number {
  if (!(aloneBytesPerSec > 0 && withWakerBytesPerSec > 0 && wakeupsPerSec > 0)) return 0;
  const extraLoad = aloneBytesPerSec / withWakerBytesPerSec - 1 - wakerCpuShare;
  return Math.max(0, (extraLoad / wakeupsPerSec) * 1e9);
}

export async function measureWakeupCost(o: { core: number; rateHz?: number; seconds?: number; pairs?: number; workingSetBytes: number }): Promise<WakeupCost> {
  const addon = nativeAddon();
  if (!addon) throw new Error('the native addon is not loaded (the waker is a native thread)');
  const rateHz = o.rateHz ?? 4000;
  const seconds = o.seconds ?? 1.5;
  const pairs: WakeupCostPair[] = [];
  let realtime = false;
  for (let i = 0; i < (o.pairs ?? 3); i++) {
    const alone = await measureStreamStressor({ core: o.core, workingSetBytes: o.workingSetBytes, seconds });
    if (!alone.pinned) throw new Error(`the stream stressor could not be pinned to core ${o.core}`);
    const started = addon.wakerStart(o.core, rateHz, true);
    if (!started.ok || started.handle === undefined) throw new Error(`the waker could not start on core ${o.core}: ${started.error ?? 'unknown error'}`);
    realtime = started.realtime === true;
    const t0 = process.hrtime.bigint();
    let withWaker;
    let stopped: ReturnType<typeof addon.wakerStop>;
    try {
      withWaker = await measureStreamStressor({ core: o.core, workingSetBytes: o.workingSetBytes, seconds });
    } finally {
      stopped = addon.wakerStop(started.handle);
    }
    const wallNs = Number(process.hrtime.bigint() - t0);
    const wakeupsPerSec = ((stopped.wakeups ?? 0) * 1e9) / wallNs;
    const wakerCpuShare = (stopped.cpuNs ?? 0) / wallNs;
    pairs.push({
      aloneBytesPerSec: alone.bytesPerSec,
      withWakerBytesPerSec: withWaker.bytesPerSec,
      wakeupsPerSec,
      wakerCpuShare,
      costNs: wakeupCostNs(alone.bytesPerSec, withWaker.bytesPerSec, wakeupsPerSec, wakerCpuShare),
    });
  }
  const sorted = pairs.map((p) => p.costNs).sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  // the median: the middle pair, or the mean of the middle two (one pair's
  // alone run caught slow would otherwise decide an even count alone)
  const costNs = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { core: o.core, rateHz, realtime, pairs, costNs };
}
