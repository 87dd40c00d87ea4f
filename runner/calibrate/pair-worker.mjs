// One thread of `umbra calibrate`'s core-pair measurement: pins itself to one
// core, waits at a start line shared with the other thread of the pair
// (pinned-start.mjs), then runs the native compute kernel (8 independent
// multiply-add chains) in short chunks for a fixed time and reports its rate.
// Plain JavaScript with no project imports, like runner/workloads/microbench.mjs:
// it runs from the sources (vitest) and from dist/ alike.
//   workerData: { addonPath, core, durationMs, chunkIters, ctrl (SharedArrayBuffer, Int32Array[2]: ready, go) }
import { parentPort, workerData } from 'node:worker_threads';
import { pinnedStart } from './pinned-start.mjs';

const d = workerData;
// warm the code path before the start line
const addon = pinnedStart((a) => a.computeRate(d.chunkIters));
if (addon) {
  const t0 = process.hrtime.bigint();
  const endNs = t0 + BigInt(Math.round(d.durationMs * 1e6));
  let ops = 0;
  let now = t0;
  while (now < endNs) {
    ops += addon.computeRate(d.chunkIters).opsPerSec >= 0 ? 8 * d.chunkIters : 0;
    now = process.hrtime.bigint();
  }
  parentPort.postMessage({ opsPerSec: ops / (Number(now - t0) / 1e9) });
}
