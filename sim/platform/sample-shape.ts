// Snapshot samples made with double fields from the start.
//
// V8 gives each field of an object shape the representation of the first
// value stored in it: a counter or latency that is 0 in the first observe is
// kept as a small integer. The first value that is not one (a fraction, or a
// counter past 2^30 or 2^31) changes the field for every object of that
// shape, and V8 discards the compiled code of every function that read or
// built such objects. Measured on the benchmark scenario: at 24 simulated s
// an I/O job's ioBytes passed 2^31, observe and the caller's loop were
// deoptimised, and ran unoptimised for about 3 simulated s at 60% of the
// speed. Samples whose every number field holds a fraction, made before the
// first observe, give those fields the double representation at once (all
// object literals with the same keys in the same order share their shapes);
// they are kept alive so that their shapes stay. Their keys must match the
// literals in SimPlatform.observe, in order (test/sim/sample-shape.test.ts).
import type { LatencySample, TaskSample } from '../../policies/platform.js';
import { frozenAllocation, frozenReservation } from '../../util/snapshot-views.js';

function primers(): TaskSample[] {
  const latency: LatencySample = { requests: 0.5, p50Ns: 0.5, p95Ns: 0.5, p99Ns: 0.5, meanNs: 0.5, sloP99Ns: 0.5, offeredRps: 0.5, completedRps: 0.5, queueLength: 0.5 };
  const allocation = frozenAllocation({ cores: [], cacheWayMask: 0, bankColours: [], memBandwidthPct: 100, ioWeight: 100, cpuQuotaPct: 100, paused: false });
  const reserved = frozenReservation({ cores: [], cacheWayMask: 0, bankColours: [], memBandwidthPct: 0, ioWeight: 0 });
  // a second-class sample (progress, no latency), then a first-class one
  return [false, true].map((first) => ({
    id: '',
    class: first ? 'first' : 'second',
    state: 'running',
    cpuTimeNs: 0.5,
    cpuCores: 0.5,
    instructions: 0.5,
    cycles: 0.5,
    llcAccesses: 0.5,
    llcMisses: 0.5,
    llcOccupancyBytes: 0.5,
    memReadBytes: 0.5,
    memWriteBytes: 0.5,
    memBandwidthBytesPerSec: 0.5,
    rssBytes: 0.5,
    ioBytes: 0.5,
    allocation,
    reserved,
    progressPerSec: first ? undefined : 0.5,
    latency: first ? latency : undefined,
  }));
}

/** The primers, made once per process (module load) and kept. */
export const samplePrimers: readonly TaskSample[] = primers();
