// A worker thread terminated in the middle of a long native call must not
// take the process down. A sweep stops its other workers when one job fails;
// a fresh-clone CI run once aborted there ("FATAL ERROR:
// Error::ThrowAsJavaScriptException napi_throw") when the call returned into
// the dying worker. Run in a child process, so a regression fails this test
// rather than the test runner.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { nativeAddon } from '../../native/addon.js';
import { ensureDistFresh, ROOT } from '../helpers/dist-build.js';

const script = (addonUrl: string) => `
import { Worker } from 'node:worker_threads';
const w = new Worker(\`
  const { nativeAddon } = await import(${JSON.stringify(addonUrl)});
  const { parentPort } = await import('node:worker_threads');
  parentPort.postMessage('start');
  // seconds of native work: a pointer chase over 64 MiB (about 100 ns a step from DRAM)
  nativeAddon().pointerChase(64 << 20, 4e7, 1);
  parentPort.postMessage('finished');
\`, { eval: true, type: 'module' });
w.on('message', (m) => {
  if (m === 'start') setTimeout(() => w.terminate().then((code) => { console.log('terminated ' + code); }), 200);
  else console.log(m);
});
w.on('error', (e) => console.log('worker error ' + e.message));
`;

describe.skipIf(!nativeAddon())('native calls in a terminated worker', () => {
  it('terminating a worker inside a native call leaves the process running', () => {
    ensureDistFresh();
    const addonUrl = new URL(`file://${join(ROOT, 'dist', 'native', 'addon.js')}`).href;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script(addonUrl)], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).not.toMatch(/FATAL ERROR/);
    expect(r.status).toBe(0);
    // terminated (the native call itself runs to its end first, as it cannot be interrupted)
    expect(r.stdout).toMatch(/^terminated 1$/m);
  });
});
