// `umbra probe`: what this host offers the runner, one entry per capability,
// each with the reason when it is not available. cgroup knobs are tested for
// real when running as root (a throw-away umbra-probe-<pid> group, journaled
// and removed like any run's), not just looked up.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { nativeAddon, nativeStatus, type UmbraNative } from '../../native/addon.js';
import { CGROUP_KNOBS, type CgroupBackend, type CgroupKnob, type KnobStatus } from '../cgroup/cgroup-backend.js';
import { CgroupV1Backend } from '../cgroup/impl/v1.js';
import { CgroupV2Backend } from '../cgroup/impl/v2.js';
import { blockDevices } from '../cgroup/io-scheduler.js';
import { discoverCgroupMounts } from '../cgroup/mounts.js';
import type { HostFs } from '../fs/host-fs.js';
import { tryReadText } from '../fs/host-fs.js';
import { errnoName, NativeHostFs } from '../fs/impl/native-fs.js';
import { NodeHostFs } from '../fs/impl/node-fs.js';
import { hostPaths, type HostPaths } from '../host-paths.js';
import { defaultJournalDir } from '../journal/default-dir.js';
import { Journal } from '../journal/journal.js';
import { JournaledHost } from '../journal/journaled-host.js';
import type { RestoreReport } from '../journal/restore.js';
import { HARDWARE_EVENTS, SOFTWARE_EVENTS, type PerfEventId } from '../perf/perf-events.js';
import { findExecutable } from '../process/find-executable.js';
import { readProcMaps } from '../process/procfs.js';
import { probeResctrl } from '../resctrl/resctrl-info.js';
import { readTopology, type CpuTopology } from './topology.js';

export interface Capability {
  available: boolean;
  reason?: string;
}

export interface KnobReport extends Capability {
  /** true when the knob was exercised with a real write (as root). */
  tested: boolean;
  file?: string;
}

export interface CgroupReport extends Capability {
  mounts: Record<string, string>;
  knobs: Record<CgroupKnob, KnobReport>;
}

export interface HostProbeReport {
  nativeAddon: Capability & { path: string };
  perfHardware: Capability & { paranoid?: number; events: Record<string, Capability> };
  perfSoftware: Capability & { events: Record<string, Capability> };
  resctrl: Capability & {
    root: string;
    cat: Capability & { totalWays?: number; minWays?: number; numClosids?: number; cbmMask?: string };
    mba: Capability & { granularityPct?: number; minPct?: number; numClosids?: number };
    monitoring: Capability & { features?: string[]; numRmids?: number };
  };
  cgroupV1: CgroupReport;
  cgroupV2: CgroupReport;
  blockDevices: Capability & { devices: { name: string; scheduler: string }[] };
  schedSetaffinity: Capability & { allowedCpus?: number[] };
  processMadvise: Capability;
  topology: Capability & CpuTopology;
  redisServer: Capability & { path?: string; version?: string };
  stressNg: Capability & { path?: string; version?: string };
}

export interface ProbeOptions {
  paths?: Partial<HostPaths>;
  fs?: HostFs;
  /** false = report as if the addon had not loaded. */
  native?: boolean;
  /** Exercise cgroup knobs with real writes (default: when running as root). */
  writeTest?: boolean;
  journalDir?: string;
  /** PATH used to look for redis-server and stress-ng. */
  pathEnv?: string;
}

const PERF_NO_ADDON = 'the native addon is not loaded, and perf_event_open needs it';

function perfEvents(addon: UmbraNative | null, events: Record<string, PerfEventId>, hardware: boolean): Record<string, Capability> {
  const out: Record<string, Capability> = {};
  for (const [name, id] of Object.entries(events)) {
    if (!addon) {
      out[name] = { available: false, reason: PERF_NO_ADDON };
      continue;
    }
    const r = addon.probePerfEvent(id.type, id.config);
    out[name] = r.ok
      ? { available: true }
      : { available: false, reason: `perf_event_open: ${errnoName(r.errno)}${r.errno === 2 && hardware ? ' (no hardware PMU: e.g. a virtual machine without PMU passthrough)' : ''}` };
  }
  return out;
}

function summary(events: Record<string, Capability>): Capability {
  const bad = Object.entries(events).filter(([, c]) => !c.available);
  if (bad.length === 0) return { available: true };
  const reasons = [...new Set(bad.map(([, c]) => c.reason))];
  return { available: bad.length < Object.keys(events).length, reason: `${bad.map(([n]) => n).join(', ')}: ${reasons.join('; ')}` };
}

function toolVersion(path: string, args: string[]): string | undefined {
  const r = spawnSync(path, args, { encoding: 'utf8', timeout: 3000, shell: false });
  const line = (r.stdout || r.stderr || '').split('\n')[0]?.trim();
  return line || undefined;
}

function tool(name: string, pathEnv: string | undefined, versionArgs: string[], install: string): Capability & { path?: string; version?: string } {
  const path = findExecutable(name, pathEnv);
  if (!path) return { available: false, reason: `${name} not found on PATH (${install})` };
  return { available: true, path, version: toolVersion(path, versionArgs) };
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function isRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

/** Create a throw-away group, exercise each knob with a neutral value, and remove it again. */
function testKnobs(backend: CgroupBackend, fs: HostFs, paths: HostPaths, journalDir: string, cpus: number[]): { knobs: Record<CgroupKnob, KnobReport>; restore: RestoreReport; error?: string } {
  const static_ = backend.knobs();
  const knobs = Object.fromEntries(CGROUP_KNOBS.map((k) => [k, { ...static_[k], tested: false }])) as Record<CgroupKnob, KnobReport>;
  const runId = `probe-${process.pid}-v${backend.version}`;
  const journal = Journal.create(journalDir, runId, paths.procRoot);
  const host = new JournaledHost(journal, fs, paths.procRoot);
  let error: string | undefined;
  try {
    backend.open(`umbra-${runId}`, host);
    // Knobs as the backend sees them with its own group in place (v2 confirms cgroup.freeze then).
    const opened = backend.knobs();
    for (const k of CGROUP_KNOBS) knobs[k] = { ...opened[k], tested: false };
    const g = backend.createTaskGroup('probe', { memory: opened.memory.available });
    const attempt = (k: CgroupKnob, f: () => void) => {
      if (!knobs[k].available) return;
      try {
        f();
        const { reason: _assumption, ...rest } = knobs[k];
        knobs[k] = { ...rest, tested: true };
      } catch (err) {
        knobs[k] = { ...knobs[k], available: false, tested: true, reason: `write test failed: ${(err as Error).message}` };
      }
    };
    attempt('cpuset', () => g.setCpus(cpus));
    attempt('cpuQuota', () => {
      g.setCpuQuota(50, 1);
      g.setCpuQuota(100, 1);
    });
    attempt('freezer', () => {
      g.setFrozen(true);
      g.setFrozen(false);
    });
    attempt('ioWeight', () => g.setIoWeight(backend.ioWeightRange.default));
    attempt('memory', () => g.setMemoryLimit(null));
    attempt('cpuStats', () => {
      if (g.stats().cpuUsageNs === undefined) throw new Error('no CPU usage counter in the new group');
    });
  } catch (err) {
    error = (err as Error).message;
  }
  const restore = journal.restore({ fs, procRoot: paths.procRoot });
  return { knobs, restore, error };
}

function cgroupReport(
  backend: CgroupBackend | null,
  mounts: Record<string, string>,
  missingReason: string,
  test: boolean,
  fs: HostFs,
  paths: HostPaths,
  journalDir: string,
  cpus: number[],
): CgroupReport {
  if (!backend) {
    const knobs = Object.fromEntries(CGROUP_KNOBS.map((k) => [k, { available: false, reason: missingReason, tested: false }])) as Record<CgroupKnob, KnobReport>;
    return { available: false, reason: missingReason, mounts, knobs };
  }
  let knobs: Record<CgroupKnob, KnobReport>;
  let reason: string | undefined;
  if (test) {
    const r = testKnobs(backend, fs, paths, journalDir, cpus);
    knobs = r.knobs;
    if (r.error) {
      reason = `creating a test group failed: ${r.error}`;
      for (const k of CGROUP_KNOBS) if (!knobs[k].tested) knobs[k] = { ...knobs[k], available: false, reason };
    }
    if (!r.restore.complete) reason = `${reason ? reason + '; ' : ''}removing the test group failed: ${r.restore.failures.map((f) => f.error).join('; ')}`;
  } else {
    const k = backend.knobs();
    // Without a write test, a hierarchy we may not create groups in is not usable.
    const denied = Object.values(mounts).filter((m) => !writable(m));
    const why = denied.length
      ? `no permission to create groups in ${denied[0]}${denied.length > 1 ? ` (and ${denied.length - 1} other hierarch${denied.length > 2 ? 'ies' : 'y'})` : ''}: run as root`
      : 'not write-tested (not root or --no-write-test)';
    knobs = Object.fromEntries(
      CGROUP_KNOBS.map((n) => [n, { ...k[n], tested: false, ...(k[n].available ? { reason: why, ...(denied.length ? { available: false } : {}) } : {}) }]),
    ) as Record<CgroupKnob, KnobReport>;
  }
  const usable = CGROUP_KNOBS.filter((k) => knobs[k].available);
  return { available: usable.length > 0, ...(reason ? { reason } : usable.length === 0 ? { reason: 'no knob is usable' } : {}), mounts, knobs };
}

export function probeHost(o: ProbeOptions = {}): HostProbeReport {
  const paths = hostPaths(o.paths);
  const status = nativeStatus();
  const addon = o.native === false ? null : nativeAddon();
  const fs = o.fs ?? (addon ? new NativeHostFs(addon) : new NodeHostFs());
  const writeTest = o.writeTest ?? isRoot();
  const journalDir = o.journalDir ?? defaultJournalDir();

  const hw = perfEvents(addon, { cycles: HARDWARE_EVENTS.cycles, instructions: HARDWARE_EVENTS.instructions, llcMisses: HARDWARE_EVENTS.llcMisses }, true);
  const sw = perfEvents(addon, { taskClock: SOFTWARE_EVENTS.taskClock, contextSwitches: SOFTWARE_EVENTS.contextSwitches, pageFaults: SOFTWARE_EVENTS.pageFaults }, false);
  const paranoidText = tryReadText(fs, join(paths.procRoot, 'sys', 'kernel', 'perf_event_paranoid'));

  const rc = probeResctrl(fs, paths.resctrlRoot);
  const topo = readTopology(fs, paths.sysRoot, paths.procRoot);
  const mounts = discoverCgroupMounts(fs, paths);
  const v1 = mounts.v1.size ? new CgroupV1Backend({ fs, mounts: mounts.v1, sysRoot: paths.sysRoot, procRoot: paths.procRoot }) : null;
  const v2 = mounts.v2 ? new CgroupV2Backend({ fs, mount: mounts.v2, sysRoot: paths.sysRoot, procRoot: paths.procRoot }) : null;
  const cpus = topo.allowedCpus.length ? topo.allowedCpus : [0];

  let affinity: HostProbeReport['schedSetaffinity'];
  if (!addon) affinity = { available: false, reason: 'the native addon is not loaded (sched_setaffinity needs it; cgroup cpusets still work)' };
  else {
    const g = addon.getAffinity(0);
    const s = g.ok ? addon.setAffinity(0, g.cpus ?? []) : g;
    affinity = s.ok ? { available: true, allowedCpus: g.cpus } : { available: false, reason: `sched_setaffinity: ${errnoName(s.errno)}` };
  }

  let madvise: Capability;
  if (!addon) madvise = { available: false, reason: 'the native addon is not loaded (process_madvise needs it)' };
  else {
    const anon = readProcMaps(paths.procRoot, process.pid).find((m) => m.perms.startsWith('rw') && m.path === '');
    if (!anon) madvise = { available: false, reason: 'no anonymous mapping to test on' };
    else {
      const r = addon.processMadvise(process.pid, Float64Array.from([anon.start, 4096]), addon.MADV_WILLNEED);
      madvise = r.ok
        ? { available: true }
        : { available: false, reason: `process_madvise(MADV_WILLNEED): ${errnoName(r.errno)}${r.errno === 38 ? ' (kernel older than 5.10)' : r.errno === 22 ? ' (kernel does not accept this advice remotely)' : ''}` };
    }
  }

  const devs = blockDevices(fs, paths.sysRoot);
  return {
    nativeAddon: { available: o.native === false ? false : status.available, ...(o.native === false ? { reason: 'disabled by option' } : status.reason ? { reason: status.reason } : {}), path: status.path },
    perfHardware: { ...summary(hw), ...(paranoidText ? { paranoid: Number(paranoidText.trim()) } : {}), events: hw },
    perfSoftware: { ...summary(sw), events: sw },
    resctrl: {
      available: rc.mounted,
      ...(rc.reason ? { reason: rc.reason } : {}),
      root: rc.root,
      cat: rc.cat
        ? { available: true, totalWays: rc.cat.totalWays, minWays: rc.cat.minWays, numClosids: rc.cat.numClosids, cbmMask: rc.cat.cbmMaskHex }
        : { available: false, reason: rc.catReason ?? rc.reason },
      mba: rc.mba
        ? { available: true, granularityPct: rc.mba.granularityPct, minPct: rc.mba.minPct, numClosids: rc.mba.numClosids }
        : { available: false, reason: rc.mbaReason ?? rc.reason },
      monitoring: rc.mon ? { available: true, features: rc.mon.features, numRmids: rc.mon.numRmids } : { available: false, reason: rc.monReason ?? rc.reason },
    },
    cgroupV1: cgroupReport(v1, Object.fromEntries(mounts.v1), `no cgroup v1 hierarchy mounted under ${paths.cgroupRoot}`, writeTest, fs, paths, journalDir, cpus),
    cgroupV2: cgroupReport(v2, mounts.v2 ? { unified: mounts.v2 } : {}, `no cgroup2 mount under ${paths.cgroupRoot}`, writeTest, fs, paths, journalDir, cpus),
    blockDevices: { available: devs.length > 0, ...(devs.length ? {} : { reason: 'no block devices found' }), devices: devs },
    schedSetaffinity: affinity,
    processMadvise: madvise,
    topology: { available: topo.onlineCpus.length > 0, ...(topo.onlineCpus.length ? {} : { reason: `no ${join(paths.sysRoot, 'devices/system/cpu/online')}` }), ...topo },
    redisServer: tool('redis-server', o.pathEnv, ['--version'], 'apt-get install redis-server'),
    stressNg: tool('stress-ng', o.pathEnv, ['--version'], 'apt-get install stress-ng'),
  };
}
