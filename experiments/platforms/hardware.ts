// `platform: hardware`: the point's scenario run on this host by the real-host
// runner. The tasks map onto real workloads (runner/scenario/host-scenario.ts:
// kv -> redis-server under the open-loop load generator, second-class kernels
// -> stress-ng stressors or the built-in microbenchmarks, cores and rates
// scaled from the spec's machine to this host); the run holds the host lock
// (one measurement at a time, whatever --workers says), and closes itself,
// restoring everything, when the loop's last window is observed.
//
// The spec's `hardware:` section:
//   stressors: auto | stress-ng | builtin   (default auto: stress-ng when installed)
//   rateScale: request-rate factor          (default: host cores / machine cores)
//   cores: host core ids to use             (default: this process's affinity)
//   connections, keySpace, valueBytes, getRatio, redisBinary: load generator / service
//   lockTimeoutMs: how long to wait for another measurement to finish
//   priority: normal (default) | high (the run's cgroup outweighs other
//             processes, the measuring threads run at nice -10)
//   clientCores: host core ids the measuring client (this process: load
//             generator, control loop) is pinned to during each run
//             (default: wherever the scheduler puts it)
//   client: auto (default) | native | js   the load generator's sender and
//             reply reader: native threads (auto, when the addon loaded) or
//             the JS worker thread and event loop
import { z } from 'zod';
import { InputError } from '../../util/errors.js';
import type { Platform } from '../../policies/platform.js';
import { HostMappingError } from '../../runner/scenario/host-scenario.js';
import { hostCoreIds, startHardwareRun } from '../../runner/scenario/hardware-run.js';
import { readSpecFile, specError, type FieldPath } from '../spec/spec-source.js';
import { bestIssue } from '../spec/zod-issue.js';
import type { PreparedExperiment } from '../spec/prepare.js';
import type { PlatformRequest } from './platform-factory.js';
import { resolveFor } from './sim.js';

export const hardwareSettingsSchema = z
  .object({
    stressors: z.enum(['auto', 'stress-ng', 'builtin']).default('auto'),
    rateScale: z.number().positive().optional(),
    cores: z.array(z.number().int().nonnegative()).min(1).optional(),
    connections: z.number().int().min(1).max(64).optional(),
    keySpace: z.number().int().min(1).optional(),
    valueBytes: z.number().int().min(1).max(1 << 20).optional(),
    getRatio: z.number().min(0).max(1).optional(),
    redisBinary: z.string().min(1).optional(),
    lockTimeoutMs: z.number().positive().optional(),
    priority: z.enum(['normal', 'high']).default('normal'),
    clientCores: z.array(z.number().int().nonnegative()).min(1).optional(),
    client: z.enum(['auto', 'native', 'js']).default('auto'),
  })
  .strict();

export type HardwareSettings = z.infer<typeof hardwareSettingsSchema>;

/** An error about a spec field, at file:line:col when the spec came from a file. */
function fieldError(exp: PreparedExperiment, field: FieldPath, message: string): InputError {
  if (exp.specPath) {
    try {
      return specError(readSpecFile(exp.specPath), field, message);
    } catch {
      // the file changed or vanished since it was prepared: name the field only
    }
  }
  return new InputError(message, `field "${field.join('.')}"`);
}

export function hardwareSettings(exp: PreparedExperiment): HardwareSettings {
  const res = hardwareSettingsSchema.safeParse(exp.spec.hardware ?? {});
  if (!res.success) {
    const issue = bestIssue(res.error);
    throw fieldError(exp, ['hardware', ...issue.path], issue.message);
  }
  return res.data;
}

/**
 * The spec's hardware settings, with clientCores checked against the cores
 * this process may run on (the client may sit outside `cores`, which only
 * bounds what the tasks get).
 */
export function checkedHardwareSettings(exp: PreparedExperiment): HardwareSettings {
  const settings = hardwareSettings(exp);
  if (settings.clientCores) {
    const allowed = hostCoreIds();
    const bad = settings.clientCores.filter((c) => !allowed.includes(c));
    if (bad.length) throw fieldError(exp, ['hardware', 'clientCores'], `core(s) ${bad.join(',')} are not among the cores this process may run on (${allowed.join(',')})`);
  }
  return settings;
}

export async function hardwarePlatform(req: PlatformRequest): Promise<Platform> {
  const exp = req.experiment;
  if (req.futureHorizonNs > 0) throw fieldError(exp, ['policies'], 'a policy asked for perfect foresight (Snapshot.future), which only the simulator has (platform: sim)');
  const settings = checkedHardwareSettings(exp);
  const scenario = await resolveFor(req.point.scenario, exp.baseDir, req.seed);
  const { cores, lockTimeoutMs, ...mapping } = settings;
  try {
    return await startHardwareRun({
      ...mapping,
      scenario,
      seed: req.seed,
      durationNs: Math.round(req.point.spec.durationMs * 1e6),
      ...(cores ? { coreIds: cores } : {}),
      ...(lockTimeoutMs ? { lockTimeoutMs } : {}),
      purpose: `umbra run ${exp.name} seed ${req.seed}`,
    });
  } catch (err) {
    if (err instanceof HostMappingError) throw fieldError(exp, specFieldOf(err), err.message);
    throw err;
  }
}

/** The spec field a host mapping error is about: the mapping's `tasks` are the spec's `workloads`. */
export function specFieldOf(err: HostMappingError): FieldPath {
  const [head, ...rest] = err.field;
  return head === 'tasks' ? ['workloads', ...rest] : err.field;
}
