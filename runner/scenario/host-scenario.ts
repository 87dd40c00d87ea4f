// What a simulator scenario becomes on this host: each task of a resolved
// scenario (sim/platform) as a HostTaskSpec for startHostPlatform.
//
//   first-class kv        redis-server under the open-loop load generator; the
//                         request rate follows the task's load profile
//                         (constant: Poisson; phases or trace: a piecewise
//                         Poisson process over the same steps) times rateScale;
//                         keys: the kernel's working set in values of
//                         valueBytes (80% of requests to the hottest 10%)
//   second-class stream   stress-ng --stream   (built-in: streaming copy)
//                thrash   stress-ng --cache    (built-in: pointer chase)
//                compute  stress-ng --cpu      (built-in: multiply-add loop)
//                io       stress-ng --hdd      (built-in: write+fsync+read)
//                chase    built-in pointer chase (stress-ng has none)
//   cores                 core c of an N-core machine -> host core
//                         floor(c x H / N) of the H cores the run may use
//   threads               second-class workers = threads x H / N (at least 1),
//                         times the job's mean runnable share over the run
//                         (the host has no duty-cycled stressor, so phases and
//                         traces of a second-class job are approximated by
//                         their mean; said in the notes)
// Other first-class kernels (search) have no real service here and are
// refused with the field named.
import type { ResolvedScenario, ResolvedTask } from '../../sim/platform/resolve-scenario.js';
import { workingSetBytes } from '../../sim/workloads/kernel.js';
import type { ArrivalSpec, HostTaskSpec } from '../host-task-spec.js';
import type { RateStep } from '../workloads/arrivals.js';
import type { StressorKind } from '../workloads/stressors.js';
import { resolveLoadClient } from '../workloads/redis-load-generator.js';

export const BE_STRESSORS: Readonly<Record<string, StressorKind>> = { stream: 'stream', thrash: 'cache', compute: 'cpu', io: 'io', chase: 'chase' };
export const FC_SERVICES: Readonly<Record<string, 'redis'>> = { kv: 'redis' };

/** Approximate redis memory per key beyond its value (dict entry, key string, robj). */
const REDIS_KEY_OVERHEAD_BYTES = 90;
const MAX_RATE_STEPS = 500_000;

export interface HostMappingOptions {
  /** Cores the run may hand out on this host. */
  hostCoreIds: number[];
  /** How long the load profile must be followed. */
  durationNs: number;
  stressors?: 'auto' | 'stress-ng' | 'builtin';
  /** Request-rate factor (default: host cores / machine cores). */
  rateScale?: number;
  connections?: number;
  keySpace?: number;
  valueBytes?: number;
  getRatio?: number;
  redisBinary?: string;
  /** The load generator's client: auto (default: native when the addon loaded), native or js. */
  client?: 'auto' | 'native' | 'js';
}

export interface HostMapping {
  tasks: HostTaskSpec[];
  rateScale: number;
  /** One line per task: what runs it and what was approximated. */
  notes: string[];
}

/** A mapping problem, with the scenario field at fault (tasks[i].kernel, ...). */
export class HostMappingError extends Error {
  override readonly name = 'HostMappingError';
  constructor(
    readonly field: (string | number)[],
    message: string,
  ) {
    super(message);
  }
}

export function mapCores(cores: number[], machineCores: number, hostCoreIds: number[]): number[] {
  const h = hostCoreIds.length;
  return [...new Set(cores.map((c) => hostCoreIds[Math.min(h - 1, Math.floor((c * h) / machineCores))]))].sort((a, b) => a - b);
}

/** The profile's steps from 0 to durationNs as rate steps, times scale. */
export function rateSteps(task: ResolvedTask, durationNs: number, scale: number): RateStep[] {
  const steps: RateStep[] = [];
  let t = 0;
  while (t < durationNs && steps.length < MAX_RATE_STEPS) {
    const rate = task.load.valueAt(t) * scale;
    if (steps.length === 0 || steps[steps.length - 1].ratePerSec !== rate) steps.push({ startNs: t, ratePerSec: rate });
    const next = task.load.nextChangeNs(t);
    if (!(next > t)) break;
    t = next;
  }
  return steps;
}

function arrivalsFor(task: ResolvedTask, durationNs: number, scale: number): ArrivalSpec {
  const steps = rateSteps(task, durationNs, scale);
  if (steps.length === 1 && steps[0].ratePerSec > 0) return { kind: 'poisson', ratePerSec: steps[0].ratePerSec };
  return { kind: 'trace', steps };
}

export function hostTasksForScenario(s: ResolvedScenario, o: HostMappingOptions): HostMapping {
  if (o.hostCoreIds.length === 0) throw new Error('no host cores to map onto');
  const n = s.machine.cores.count;
  const h = o.hostCoreIds.length;
  const rateScale = o.rateScale ?? h / n;
  const tasks: HostTaskSpec[] = [];
  const notes: string[] = [];
  s.tasks.forEach((t, i) => {
    const kernel = t.kernel.name;
    const cores = mapCores(t.cores, n, o.hostCoreIds);
    if (t.cls === 'first') {
      if (!FC_SERVICES[kernel]) {
        throw new HostMappingError(['tasks', i, 'kernel'], `first-class kernel "${kernel}" has no real service on a host; platform: hardware runs ${Object.keys(FC_SERVICES).join(', ')} (as redis-server)`);
      }
      const valueBytes = o.valueBytes ?? 256;
      const keySpace = o.keySpace ?? Math.max(100, Math.round(workingSetBytes(t.kernel.pattern) / (valueBytes + REDIS_KEY_OVERHEAD_BYTES)));
      const arrivals = arrivalsFor(t, o.durationNs, rateScale);
      let client: 'native' | 'js';
      try {
        client = resolveLoadClient(o.client);
      } catch (err) {
        throw new HostMappingError(['hardware', 'client'], (err as Error).message);
      }
      tasks.push({
        id: t.id,
        class: 'first',
        sloP99Ns: t.sloP99Ns,
        cores,
        workload: {
          kind: 'redis',
          arrivals,
          keySpace,
          valueBytes,
          ...(o.connections !== undefined ? { connections: o.connections } : {}),
          ...(o.getRatio !== undefined ? { getRatio: o.getRatio } : {}),
          ...(o.redisBinary !== undefined ? { binary: o.redisBinary } : {}),
          client,
        },
      });
      const rate = arrivals.kind === 'poisson' ? `Poisson ${round(arrivals.ratePerSec)} req/s` : `${arrivals.steps.length} rate steps (peak ${round(Math.max(...arrivals.steps.map((x) => x.ratePerSec)))} req/s)`;
      notes.push(`${t.id}: redis-server on core(s) ${cores.join(',')}, ${rate} (x${round(rateScale, 3)}), ${keySpace} keys of ${valueBytes} B, ${client} load generator`);
      return;
    }
    const stressor = BE_STRESSORS[kernel];
    if (!stressor) throw new HostMappingError(['tasks', i, 'kernel'], `second-class kernel "${kernel}" has no stressor on a host; expected one of ${Object.keys(BE_STRESSORS).join(', ')}`);
    const share = Math.min(1, Math.max(0, t.load.meanOver(0, o.durationNs)));
    const scaled = (t.threads * h) / n;
    const workers = Math.max(1, Math.round(scaled * share));
    tasks.push({
      id: t.id,
      class: 'second',
      cores,
      workload: { kind: 'stressor', stressor, workers, implementation: o.stressors ?? 'auto', bytes: Math.max(65536, Math.round(workingSetBytes(t.kernel.pattern))) },
    });
    const approx = share < 1 ? `; its runnable share (mean ${round(share, 3)}) is approximated by the worker count` : '';
    notes.push(`${t.id}: ${kernel} -> ${stressor} stressor, ${workers} worker(s) on core(s) ${cores.join(',')}${approx}`);
  });
  return { tasks, rateScale, notes };
}

function round(x: number, digits = 0): number {
  return Number(x.toFixed(digits));
}
