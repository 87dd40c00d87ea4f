// tfjs for training and for checking the JS inference: the WebAssembly backend,
// loaded from the package's own dist/ folder in node_modules (works offline).
// Imported lazily so nothing on the per-tick path or in `umbra --help` pays for
// loading tfjs.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type Tf = typeof import('@tensorflow/tfjs');

let ready: Promise<Tf> | null = null;

export function loadTfjs(): Promise<Tf> {
  ready ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
    wasm.setWasmPaths(dist);
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs wasm backend failed to initialise');
    await tf.ready();
    return tf;
  })();
  return ready;
}
