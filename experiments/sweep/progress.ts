// Progress of a sweep on stderr: a bar redrawn in place (done/total, percent,
// elapsed, ETA, what runs now) on a terminal; one plain line per finished job
// otherwise (logs, CI, Slurm output files).
import type { Job } from './jobs.js';

export interface ProgressSink {
  /** Indices (into the job list) of the jobs that will run, and how many were already done. */
  start(todo: number[], alreadyDone: number): void;
  /** Share of a running job done (0..1). */
  partial(jobIndex: number, fraction: number): void;
  done(job: Job, jobIndex: number): void;
  finish(): void;
}

export function jobLabel(job: Job): string {
  return job.kind === 'cell' ? `${job.policy} seed ${job.seed}${job.point > 0 ? ` point ${job.point}` : ''}` : `alone ${job.role === 'be' ? 'throughput' : 'peak'} ${job.task} seed ${job.seed}`;
}

/** Relative cost of a job, for the ETA (alone baselines run one task, cells all of them). */
function weight(job: Job): number {
  return job.kind === 'cell' ? 1 : 0.25;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function createProgress(jobs: Job[], opts: { stream?: NodeJS.WriteStream; quiet?: boolean; prefix?: string } = {}): ProgressSink {
  const stream = opts.stream ?? process.stderr;
  const tty = !!stream.isTTY;
  const prefix = opts.prefix ?? 'umbra';
  let total = 0;
  let done = 0;
  let weightTotal = 0;
  let weightDone = 0;
  const partial = new Map<number, number>();
  let t0 = 0;
  let lastDraw = 0;
  let current = '';
  const eta = () => {
    const w = weightDone + [...partial.entries()].reduce((s, [i, f]) => s + f * weight(jobs[i]), 0);
    const elapsed = performance.now() - t0;
    return w > 0 ? (elapsed / w) * (weightTotal - w) : NaN;
  };
  const draw = (force = false) => {
    if (opts.quiet || !tty) return;
    const now = performance.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const w = weightTotal > 0 ? (weightDone + [...partial.entries()].reduce((s, [i, f]) => s + f * weight(jobs[i]), 0)) / weightTotal : 1;
    const width = 24;
    const fill = Math.round(w * width);
    const cols = stream.columns ?? 100;
    const line = `${prefix} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${done}/${total} ${Math.floor(w * 100)}%  elapsed ${formatDuration(now - t0)}  ETA ${formatDuration(eta())}  ${current}`;
    stream.write(`\r${line.slice(0, cols - 1).padEnd(cols - 1)}`);
  };
  return {
    start(todo, already) {
      const n = todo.length;
      total = n;
      done = 0;
      t0 = performance.now();
      weightTotal = 0;
      for (const i of todo) weightTotal += weight(jobs[i]);
      if (opts.quiet) return;
      if (!tty) stream.write(`${prefix}: ${n} job(s) to run${already > 0 ? ` (${already} already done, resuming)` : ''}\n`);
      draw(true);
    },
    partial(i, f) {
      partial.set(i, f);
      current = jobLabel(jobs[i]);
      draw();
    },
    done(job, i) {
      partial.delete(i);
      done++;
      weightDone += weight(job);
      if (opts.quiet) return;
      if (tty) draw(true);
      else stream.write(`${prefix}: ${done}/${total} done: ${jobLabel(job)}  elapsed ${formatDuration(performance.now() - t0)}  ETA ${formatDuration(eta())}\n`);
    },
    finish() {
      if (opts.quiet) return;
      if (tty) {
        draw(true);
        stream.write('\n');
      }
    },
  };
}
