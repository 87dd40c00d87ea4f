// Runs jobs on worker threads (the compiled dist/ worker), or in this thread
// when one worker is asked for. Jobs are handed out one at a time in
// canonical order; results do not depend on which worker ran what, because
// each job's output depends only on (spec, job, seed).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { InputError, UnsupportedError, UsageError } from '../../util/errors.js';
import { packageRoot } from '../../util/paths.js';
import type { PreparedExperiment } from '../spec/prepare.js';
import type { Job } from './jobs.js';
import type { ProgressSink } from './progress.js';
import { runJob } from './run-job.js';

export function workerScript(): string {
  return join(packageRoot(), 'dist', 'experiments', 'sweep', 'worker.js');
}

export async function runJobsPool(exp: PreparedExperiment, jobs: Job[], todo: number[], opts: { outDir: string; workers: number; progress: ProgressSink }): Promise<void> {
  const { progress } = opts;
  const workers = Math.max(1, Math.min(opts.workers, todo.length));
  if (todo.length === 0) return;
  if (workers <= 1) {
    for (const i of todo) {
      await runJob(exp, jobs[i], opts.outDir, (p) => progress.partial(i, p.fraction));
      progress.done(jobs[i], i);
    }
    return;
  }
  // A hardware job's worker must restore the host before it goes (its
  // processes, cgroups, resctrl groups): told to abort, it does, and exits.
  // A simulated job has nothing to restore, and a busy one would only hear
  // the message when its job ends: it is terminated at once.
  const graceMs = exp.spec.platform === 'hardware' ? ABORT_GRACE_MS : 0;
  const script = workerScript();
  if (!existsSync(script)) throw new UsageError(`worker threads load the compiled ${script}, which is missing; run \`npm run build\` (or use --workers 1)`);
  await new Promise<void>((resolvePool, rejectPool) => {
    let next = 0;
    let running = 0;
    let settled = false;
    const pool: Worker[] = [];
    const exited = new Set<Worker>();
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (err) {
        void abortAll(pool.filter((w) => !exited.has(w)), graceMs).then(() => rejectPool(err));
      } else {
        for (const w of pool) w.postMessage({ type: 'stop' });
        resolvePool();
      }
    };
    const onSignal = () => settle(new Error('interrupted; finished jobs are kept: rerun the same command to resume'));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const feed = (w: Worker) => {
      if (settled) return;
      if (next >= todo.length) {
        if (running === 0) settle();
        return;
      }
      running++;
      w.postMessage({ type: 'job', index: todo[next++] });
    };
    for (let k = 0; k < workers; k++) {
      const w = new Worker(script, { workerData: { experiment: exp, outDir: opts.outDir } });
      pool.push(w);
      w.on('message', (msg: { type: string; index: number; fraction?: number; name?: string; message?: string; where?: string; stack?: string }) => {
        if (settled) return;
        if (msg.type === 'progress') progress.partial(msg.index, msg.fraction ?? 0);
        else if (msg.type === 'done') {
          running--;
          progress.done(jobs[msg.index], msg.index);
          feed(w);
        } else if (msg.type === 'error') settle(rebuildError(msg));
      });
      w.on('error', (err) => settle(err));
      w.on('exit', (code) => {
        exited.add(w);
        if (!settled && code !== 0) settle(new Error(`a worker thread exited with code ${code}`));
      });
      feed(w);
    }
  });
}

/** How long a worker of a hardware run gets to restore the host after an abort. */
const ABORT_GRACE_MS = 20_000;

/** Tell every (live) worker to abort, wait (up to graceMs) for them to exit, then terminate the rest. */
async function abortAll(pool: Worker[], graceMs: number): Promise<void> {
  await Promise.all(
    pool.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (graceMs <= 0) {
            void w.terminate().then(() => resolve(), () => resolve());
            return;
          }
          const timer = setTimeout(() => void w.terminate().then(() => resolve(), () => resolve()), graceMs);
          w.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          try {
            w.postMessage({ type: 'abort' });
          } catch {
            // already gone
          }
        }),
    ),
  );
}

/** Errors cross the thread boundary as data: keep their kind so the CLI's exit code is right. */
function rebuildError(msg: { name?: string; message?: string; where?: string; stack?: string }): Error {
  const text = msg.message ?? 'worker failed';
  let e: Error;
  if (msg.name === 'InputError') {
    e = new InputError(msg.where ? text.slice(msg.where.length + 2) : text, msg.where);
  } else if (msg.name === 'UsageError') e = new UsageError(text);
  else if (msg.name === 'UnsupportedError') e = new UnsupportedError(text);
  else e = new Error(text);
  if (msg.stack) e.stack = msg.stack;
  return e;
}
