// Job states from a running Slurm controller (`scontrol show job -o`), which
// keeps finished jobs for MinJobAge (300 s by default) even without an
// accounting database, and waiting for jobs to end.
import { execFile } from 'node:child_process';

export const TERMINAL_STATES = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE']);

export interface SlurmJobState {
  jobId: string;
  /** For an array task: the array's job id and the task index. */
  arrayJobId?: string;
  arrayTaskId?: string;
  state: string;
  reason: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Parses `scontrol show job -o` output: one line per job (or array task) of Key=Value fields. */
export function parseScontrolJobs(text: string): SlurmJobState[] {
  const out: SlurmJobState[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('JobId=')) continue;
    const field = (k: string): string | undefined => new RegExp(`(?:^|\\s)${k}=(\\S*)`).exec(line)?.[1];
    out.push({
      jobId: field('JobId') ?? '',
      ...(field('ArrayJobId') !== undefined ? { arrayJobId: field('ArrayJobId')! } : {}),
      ...(field('ArrayTaskId') !== undefined ? { arrayTaskId: field('ArrayTaskId')! } : {}),
      state: field('JobState') ?? 'UNKNOWN',
      reason: field('Reason') ?? '',
    });
  }
  return out;
}

/** Every job record of a job id (an array: one per task, pending tasks possibly folded as "0-3"). */
export async function jobStates(env: NodeJS.ProcessEnv, jobId: string): Promise<SlurmJobState[]> {
  const r = await run('scontrol', ['show', 'job', '-o', jobId], env);
  if (r.code !== 0) throw new Error(`scontrol show job ${jobId}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return parseScontrolJobs(r.stdout);
}

/** Waits until every record of every job is in a terminal state; returns the final records. */
export async function waitForJobs(env: NodeJS.ProcessEnv, jobIds: string[], timeoutMs: number, pollMs = 500): Promise<SlurmJobState[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = (await Promise.all(jobIds.map((id) => jobStates(env, id)))).flat();
    if (states.length > 0 && states.every((s) => TERMINAL_STATES.has(s.state))) return states;
    if (Date.now() > deadline) {
      throw new Error(`jobs ${jobIds.join(', ')} not finished after ${timeoutMs} ms: ${states.map((s) => `${s.jobId} ${s.state} (${s.reason})`).join('; ')}`);
    }
    await new Promise((res) => setTimeout(res, pollMs));
  }
}

export async function scancel(env: NodeJS.ProcessEnv, id: string): Promise<void> {
  const r = await run('scancel', [id], env);
  if (r.code !== 0) throw new Error(`scancel ${id}: ${r.stderr.trim() || `exit ${r.code}`}`);
}
