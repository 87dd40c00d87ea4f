// The main-thread side of pinned-start.mjs: start calibration worker threads,
// wait until every one is pinned and ready at the shared start line, and
// release them together. Each worker posts one message: its result, or
// { error }.
import { Worker } from 'node:worker_threads';

export interface PinnedWorkers<T> {
  /** Control slots shared with the workers: 0 ready count, 1 go, then the caller's own. */
  ctrl: Int32Array;
  /** One per worker, in order: its message, or the reason it failed. */
  results: Promise<T>[];
  /** Resolves when every worker is pinned and ready (rejects after 10 s, or when one fails). */
  ready(): Promise<void>;
  /** Cross the start line. */
  go(): void;
  terminate(): Promise<void>;
}

/** what names the workers in errors ("pair worker", "loaded-latency worker"). */
export function startPinnedWorkers<T>(script: string, workerData: Record<string, unknown>[], extraSlots: number, what: string): PinnedWorkers<T> {
  const shared = new SharedArrayBuffer(4 * (2 + extraSlots));
  const ctrl = new Int32Array(shared);
  const workers = workerData.map((d) => new Worker(script, { workerData: { ...d, ctrl: shared } }));
  const results = workers.map(
    (w) =>
      new Promise<T>((resolve, reject) => {
        w.once('message', (m: T & { error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m)));
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`${what} exited (${code}) before reporting`)));
      }),
  );
  return {
    ctrl,
    results,
    async ready() {
      const deadline = Date.now() + 10_000;
      while (Atomics.load(ctrl, 0) < workers.length) {
        if (Date.now() > deadline) throw new Error(`${what}s did not start within 10 s`);
        await Promise.race([new Promise((r) => setTimeout(r, 2)), ...results.map((p) => p.then(() => undefined))]);
      }
    },
    go() {
      Atomics.store(ctrl, 1, 1);
      Atomics.notify(ctrl, 1);
    },
    async terminate() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
