// A simulator scenario run on this host for a fixed duration, as a Platform
// the experiments' control loop drives unchanged:
//   - holds the host lock (one measurement at a time),
//   - maps the scenario's tasks onto real workloads (host-scenario.ts) and
//     starts them (startHostPlatform),
//   - keeps a clock that starts at the loop's first now() (the loop runs from
//     0 to durationNs, as on the simulator), and
//   - closes itself (thaw, stop, remove every group, release the lock) at the
//     observe() that ends the run, since the loop does not close platforms;
//   - and when the loop stops calling it (a policy threw, say) for
//     idleCloseMs, so the services and stressors it started do not keep the
//     process alive (the error still reaches the caller);
//   - hands out snapshots whose allocations are the policy's own copies (the
//     host shares frozen views between snapshots; on the simulator a policy
//     may scribble on what it was given, so here too).
// close() can also be called early (an error); it is idempotent.
import type { ApplyResult, Action, Capabilities, Platform, Snapshot } from '../../policies/platform.js';
import type { ResolvedScenario } from '../../sim/platform/resolve-scenario.js';
import { startHostPlatform, type HostPlatformOptions } from '../host-setup.js';
import type { HostPlatform } from '../host-platform.js';
import { defaultJournalDir } from '../journal/default-dir.js';
import type { RestoreReport } from '../journal/restore.js';
import { readTopology } from '../probe/topology.js';
import { NodeHostFs } from '../fs/impl/node-fs.js';
import { hostPaths } from '../host-paths.js';
import { acquireHostLock } from '../safety/host-lock.js';
import { hostTasksForScenario, type HostMapping, type HostMappingOptions } from './host-scenario.js';

export interface HardwareRunOptions extends Omit<HostMappingOptions, 'hostCoreIds' | 'durationNs'> {
  scenario: ResolvedScenario;
  seed: number;
  durationNs: number;
  /** Host cores the run may use (default: this process's affinity). */
  coreIds?: number[];
  journalDir?: string;
  /** Passed through to startHostPlatform. */
  host?: Partial<Omit<HostPlatformOptions, 'tasks' | 'seed' | 'coreIds' | 'journalDir'>>;
  lockTimeoutMs?: number;
  purpose?: string;
  /** Close the run when observe/apply/advance have not been called for this long (default 10 s). */
  idleCloseMs?: number;
  /**
   * 'normal' (default): leave scheduling alone. 'high': the run's cgroup gets
   * the top CPU weight against the rest of the host, and the control loop and
   * the load generator's sender run at nice -10, so other processes on a
   * shared host take what the run leaves. (On this 2-vCPU VM it did not make
   * the figures steadier: the measuring threads, outside the run's cgroup,
   * then wait behind the run's own stressors.)
   */
  priority?: 'normal' | 'high';
  /** Host cores the measuring client (this process's threads) is pinned to for the run (HostPlatformOptions.clientCores). */
  clientCores?: number[];
}

export const HIGH_PRIORITY = { runCpuWeight: 10000, runnerNice: -10 } as const;

export function hostCoreIds(): number[] {
  const p = hostPaths();
  const topo = readTopology(new NodeHostFs(), p.sysRoot, p.procRoot);
  return topo.allowedCpus.length ? topo.allowedCpus : [0];
}

export async function startHardwareRun(o: HardwareRunOptions): Promise<HardwareRun> {
  const coreIds = o.coreIds ?? hostCoreIds();
  // Mapping errors (an unsupported kernel) come before anything is started.
  const mapping = hostTasksForScenario(o.scenario, { ...o, hostCoreIds: coreIds, durationNs: o.durationNs });
  const journalDir = o.journalDir ?? defaultJournalDir();
  const lock = await acquireHostLock({ dir: journalDir, timeoutMs: o.lockTimeoutMs, purpose: o.purpose });
  try {
    const prio = o.priority === 'high' ? HIGH_PRIORITY : {};
    const started = await startHostPlatform({ ...prio, ...(o.clientCores ? { clientCores: o.clientCores } : {}), ...o.host, tasks: mapping.tasks, seed: o.seed, coreIds, journalDir });
    return new HardwareRun(started.platform, o.durationNs, mapping, started.runName, () => lock.release(), o.idleCloseMs ?? 10_000);
  } catch (err) {
    lock.release();
    throw err;
  }
}

export class HardwareRun implements Platform {
  private offsetNs: number | null = null;
  private closing: Promise<RestoreReport> | null = null;
  private lastCallMs = Date.now();
  private readonly watchdog: NodeJS.Timeout;
  /** Set when the run was closed because the loop went quiet. */
  idleClosed = false;

  constructor(
    readonly host: HostPlatform,
    readonly durationNs: number,
    readonly mapping: HostMapping,
    readonly runName: string,
    private readonly onClosed: () => void,
    idleCloseMs = 10_000,
  ) {
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastCallMs > idleCloseMs) {
        this.idleClosed = true;
        void this.close();
      }
    }, Math.min(1000, idleCloseMs));
    // never what keeps the process alive
    this.watchdog.unref();
  }

  private touch(): void {
    this.lastCallMs = Date.now();
  }

  capabilities(): Capabilities {
    return this.host.capabilities();
  }

  private offset(): number {
    return (this.offsetNs ??= this.host.now());
  }

  now(): number {
    this.touch();
    const off = this.offset();
    return this.host.now() - off;
  }

  observe(): Snapshot {
    this.touch();
    const off = this.offset();
    const s = this.host.observe();
    const snap: Snapshot = {
      ...s,
      timeNs: s.timeNs - off,
      tasks: s.tasks.map((t) => ({
        ...t,
        allocation: { ...t.allocation, cores: [...t.allocation.cores], bankColours: [...t.allocation.bankColours] },
        reserved: { ...t.reserved, cores: [...t.reserved.cores], bankColours: [...t.reserved.bankColours] },
        ...(t.latency ? { latency: { ...t.latency } } : {}),
      })),
      free: { ...s.free, cores: [...s.free.cores], bankColours: [...s.free.bankColours] },
      echoes: s.echoes.map((e) => ({ ...e, requestedAtNs: e.requestedAtNs - off, measured: { ...e.measured } })),
    };
    if (snap.timeNs >= this.durationNs) void this.close();
    return snap;
  }

  apply(actions: Action[]): ApplyResult {
    this.touch();
    return this.host.apply(actions);
  }

  async advance(untilNs: number): Promise<void> {
    this.touch();
    await this.host.advance(untilNs + this.offset());
    this.touch();
  }

  /** Stop everything, undo every change, release the host. Resolves with the restore report. */
  close(): Promise<RestoreReport> {
    clearInterval(this.watchdog);
    this.closing ??= this.host.close().finally(() => this.onClosed());
    return this.closing;
  }

  get closed(): boolean {
    return this.closing !== null;
  }
}
