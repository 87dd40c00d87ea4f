// One thread of `umbra calibrate`'s loaded-latency measurement (see
// loaded-latency.ts): pins itself to one core, waits at a start line
// (pinned-start.mjs), then either chases pointers once (role "chase": ns per
// dependent load over a working set far beyond the LLC) or copies until told
// to stop (role "copy": bytes read + written per second), with the native
// kernels, and reports. Plain JavaScript with no project imports, like
// pair-worker.mjs: it runs from the sources (vitest) and from dist/ alike.
//   workerData: { addonPath, core, role, workingSetBytes, accesses, seed,
//                 ctrl (SharedArrayBuffer, Int32Array[3]: ready, go, stop) }
import { parentPort, workerData } from 'node:worker_threads';
import { pinnedStart } from './pinned-start.mjs';

const d = workerData;
const addon = pinnedStart();
if (addon && d.role === 'chase') {
  const r = addon.pointerChase(d.workingSetBytes, d.accesses, d.seed);
  parentPort.postMessage({ nsPerAccess: r.nsPerAccess });
} else if (addon) {
  // copy in passes of the working set until the chase is done; each pass's
  // rate is weighted by its bytes (the same bytes per pass)
  const ctrl = new Int32Array(d.ctrl);
  let passes = 0;
  let secs = 0;
  while (Atomics.load(ctrl, 2) === 0 || passes === 0) {
    const r = addon.streamBandwidth(d.workingSetBytes, 2);
    secs += (2 * d.workingSetBytes) / r.bytesPerSec;
    passes++;
  }
  parentPort.postMessage({ bytesPerSec: (passes * 2 * d.workingSetBytes) / secs });
}
