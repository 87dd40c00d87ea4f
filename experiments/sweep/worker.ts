// Worker thread of a sweep: receives jobs by index, runs them, reports back.
// Loaded from dist/ (compiled), with the prepared experiment as workerData.
import { parentPort, workerData } from 'node:worker_threads';
import type { PreparedExperiment } from '../spec/prepare.js';
import { allJobs } from './jobs.js';
import { runJob } from './run-job.js';
import { restoreAll } from '../../runner/safety/cleanup-hooks.js';

interface Init {
  experiment: PreparedExperiment;
  outDir: string;
}

const { experiment, outDir } = workerData as Init;
const jobs = allJobs(experiment);

parentPort!.on('message', async (msg: { type: 'job'; index: number } | { type: 'stop' } | { type: 'abort' }) => {
  if (msg.type === 'stop') {
    process.exit(0);
  }
  if (msg.type === 'abort') {
    // another job failed or the run was interrupted: undo what a hardware job
    // of this thread changed on the host (stop its processes, remove its
    // groups) before the thread goes; the job's own code never resumes
    restoreAll();
    process.exit(1);
  }
  const job = jobs[msg.index];
  try {
    await runJob(experiment, job, outDir, (p) => parentPort!.postMessage({ type: 'progress', index: msg.index, fraction: p.fraction }));
    parentPort!.postMessage({ type: 'done', index: msg.index });
  } catch (err) {
    const e = err as Error & { where?: string };
    parentPort!.postMessage({ type: 'error', index: msg.index, name: e?.name ?? 'Error', message: e?.message ?? String(err), where: e?.where, stack: e?.stack });
  }
});
