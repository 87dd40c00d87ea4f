// Runs one job and writes its file atomically. A cell: the point's platform
// for the seed, the policy, the control loop, the run's metrics and its
// recording (deterministic: a function of spec, cell and seed only) and, in a
// separate file, the wall-clock measurements (decide() times), which are not.
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { beAlone, fcPeak, type AloneResult } from '../alone/alone-baselines.js';
import { runControlLoop } from '../loop/control-loop.js';
import { futureHorizonOf } from '../loop/introspection.js';
import type { Recording } from '../loop/recording.js';
import { quantile } from '../metrics/stats.js';
import { runMetrics, type RawRunMetrics } from '../metrics/run-metrics.js';
import { createPlatform } from '../platforms/platform-factory.js';
import { createPolicy } from '../policies/policy-source.js';
import type { PreparedExperiment } from '../spec/prepare.js';
import type { AloneJob, CellJob, Job } from './jobs.js';

export interface CellFile {
  kind: 'cell';
  hash: string;
  point: number;
  policy: string;
  policyName: string;
  seed: number;
  metrics: RawRunMetrics;
  recording: Recording;
}

export interface AloneFile extends AloneResult {
  kind: 'alone';
  hash: string;
}

export interface TimingFile {
  kind: 'timing';
  hash: string;
  decideCalls: number;
  decideUsP50: number;
  decideUsP99: number;
  decideUsMax: number;
  wallMs: number;
}

export interface JobProgress {
  /** Share of the job's simulated time done. */
  fraction: number;
}

export async function runJob(exp: PreparedExperiment, job: Job, outDir: string, onProgress?: (p: JobProgress) => void): Promise<void> {
  if (job.kind === 'alone') return runAloneJob(exp, job, outDir);
  return runCellJob(exp, job, outDir, onProgress);
}

async function runAloneJob(exp: PreparedExperiment, job: AloneJob, outDir: string): Promise<void> {
  const point = exp.points[job.point];
  const r = job.role === 'be' ? await beAlone(exp, point, job.task, job.seed) : await fcPeak(exp, point, job.task, job.seed);
  const file: AloneFile = { kind: 'alone', hash: job.hash, ...r };
  writeFileAtomic(join(outDir, job.file), JSON.stringify(file) + '\n');
}

async function runCellJob(exp: PreparedExperiment, job: CellJob, outDir: string, onProgress?: (p: JobProgress) => void): Promise<void> {
  const wall0 = performance.now();
  const point = exp.points[job.point];
  const ref = point.policies.find((p) => p.label === job.policy);
  if (!ref) throw new Error(`no policy "${job.policy}" at point ${job.point}`);
  const policy = await createPolicy(ref);
  // the oracle (or any policy that says it needs foresight) gets Snapshot.future
  const asked = futureHorizonOf(policy);
  const specHorizonNs = point.spec.oracleHorizonMs * 1e6;
  const futureHorizonNs = asked !== null ? asked || specHorizonNs : ref.name === 'oracle' ? specHorizonNs : 0;
  const platform = await createPlatform({ experiment: exp, point, seed: job.seed, futureHorizonNs: Math.round(futureHorizonNs) });
  const durationNs = Math.round(point.spec.durationMs * 1e6);
  let lastReport = 0;
  const { recording, decideNs, decideAtNs } = await runControlLoop(platform, policy, {
    durationNs,
    periodNs: Math.round(point.spec.controlPeriodMs * 1e6),
    onWindow: onProgress
      ? (snap) => {
          const now = performance.now();
          if (now - lastReport > 500) {
            lastReport = now;
            onProgress({ fraction: Math.min(1, snap.timeNs / durationNs) });
          }
        }
      : undefined,
  });
  const metrics = runMetrics(recording, { warmupNs: Math.round(point.spec.warmupMs * 1e6), leadCapMs: point.spec.leadCapMs });
  const cell: CellFile = { kind: 'cell', hash: job.hash, point: job.point, policy: job.policy, policyName: ref.name, seed: job.seed, metrics, recording };
  // decide() times after the warm-up (the first calls pay for JIT and lazy loading)
  const warmupNs = point.spec.warmupMs * 1e6;
  const us = decideNs.filter((_, i) => decideAtNs[i] >= warmupNs).map((x) => x / 1000);
  const timing: TimingFile = {
    kind: 'timing',
    hash: job.hash,
    decideCalls: us.length,
    decideUsP50: quantile(us, 0.5),
    decideUsP99: quantile(us, 0.99),
    decideUsMax: us.length ? Math.max(...us) : 0,
    wallMs: performance.now() - wall0,
  };
  // the timing first: a cell file present means the cell is complete
  writeFileAtomic(join(outDir, job.timingFile), JSON.stringify(timing) + '\n');
  writeFileAtomic(join(outDir, job.file), JSON.stringify(cell) + '\n');
}
