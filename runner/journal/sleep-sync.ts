// A blocking sleep for restore paths that run inside process 'exit' handlers,
// where no timer or promise will ever fire again.
const cell = new Int32Array(new SharedArrayBuffer(4));

export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(cell, 0, 0, ms);
}
