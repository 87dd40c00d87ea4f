// One thread of `umbra calibrate`'s core-pair measurement: pins itself to one
// core, waits at a start line shared with the other thread of the pair, then
// runs the native compute kernel (8 independent multiply-add chains) in short
// chunks for a fixed time and reports its rate. Plain JavaScript with no
// project imports, like runner/workloads/microbench.mjs: it runs from the
// sources (vitest) and from dist/ alike.
//   workerData: { addonPath, core, durationMs, chunkIters, ctrl (SharedArrayBuffer, Int32Array[2]: ready, go) }
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const d = workerData;
const addon = createRequire(import.meta.url)(d.addonPath);
const pin = addon.setAffinity(0, [d.core]);
if (!pin.ok) {
  parentPort.postMessage({ error: `setAffinity to core ${d.core}: ${pin.error ?? `errno ${pin.errno}`}` });
} else {
  const ctrl = new Int32Array(d.ctrl);
  addon.computeRate(d.chunkIters); // warm the code path before the start line
  Atomics.add(ctrl, 0, 1);
  Atomics.notify(ctrl, 0);
  while (Atomics.load(ctrl, 1) === 0) Atomics.wait(ctrl, 1, 0, 1000);
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
