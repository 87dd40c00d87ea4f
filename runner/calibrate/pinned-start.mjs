// The start of a calibration worker thread (pair-worker.mjs,
// loaded-latency-worker.mjs): load the native addon, pin this thread to
// workerData.core, optionally warm up, then report ready and wait at the
// start line shared with the other threads. Plain JavaScript with no project
// imports, like the workers: it runs from the sources and from dist/ alike.
//   workerData: { addonPath, core, ctrl (SharedArrayBuffer; Int32Array slot 0: ready count, slot 1: go) }
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * Returns the addon once the start line is crossed, or null after posting
 * { error } when the thread could not be pinned.
 * @param {(addon: any) => void} [warmUp] run after pinning, before reporting ready
 */
export function pinnedStart(warmUp) {
  const d = workerData;
  const addon = createRequire(import.meta.url)(d.addonPath);
  const pin = addon.setAffinity(0, [d.core]);
  if (!pin.ok) {
    parentPort.postMessage({ error: `setAffinity to core ${d.core}: ${pin.error ?? `errno ${pin.errno}`}` });
    return null;
  }
  const ctrl = new Int32Array(d.ctrl);
  if (warmUp) warmUp(addon);
  Atomics.add(ctrl, 0, 1);
  Atomics.notify(ctrl, 0);
  while (Atomics.load(ctrl, 1) === 0) Atomics.wait(ctrl, 1, 0, 1000);
  return addon;
}
