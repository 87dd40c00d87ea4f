// Choosing the cgroup backend: v2 when the unified hierarchy offers the CPU
// controllers (a pure-v2 host), otherwise v1 when its controllers are mounted
// (this host: hybrid, with v2 offering only freeze/kill/PSI), otherwise none.
import type { HostFs } from '../fs/host-fs.js';
import { tryReadText } from '../fs/host-fs.js';
import type { HostPaths } from '../host-paths.js';
import { join } from 'node:path';
import type { CgroupBackend } from './cgroup-backend.js';
import { CgroupV1Backend } from './impl/v1.js';
import { CgroupV2Backend } from './impl/v2.js';
import { discoverCgroupMounts, type CgroupMounts } from './mounts.js';

export type CgroupChoice = 'auto' | 'v1' | 'v2' | 'none';

export interface BackendSelection {
  backend: CgroupBackend | null;
  mounts: CgroupMounts;
  reason: string;
}

export function selectCgroupBackend(fs: HostFs, paths: HostPaths, choice: CgroupChoice = 'auto', cpuPeriodUs?: number): BackendSelection {
  const mounts = discoverCgroupMounts(fs, paths);
  const v1 = () => new CgroupV1Backend({ fs, mounts: mounts.v1, sysRoot: paths.sysRoot, procRoot: paths.procRoot, cpuPeriodUs });
  const v2 = () => new CgroupV2Backend({ fs, mount: mounts.v2 as string, sysRoot: paths.sysRoot, procRoot: paths.procRoot, cpuPeriodUs });
  if (choice === 'none') return { backend: null, mounts, reason: 'cgroups disabled by option' };
  if (choice === 'v2') {
    if (!mounts.v2) return { backend: null, mounts, reason: `no cgroup2 mount under ${paths.cgroupRoot}` };
    return { backend: v2(), mounts, reason: 'cgroup v2 requested' };
  }
  if (choice === 'v1') {
    if (mounts.v1.size === 0) return { backend: null, mounts, reason: `no cgroup v1 hierarchies under ${paths.cgroupRoot}` };
    return { backend: v1(), mounts, reason: 'cgroup v1 requested' };
  }
  if (mounts.v2) {
    const offered = (tryReadText(fs, join(mounts.v2, 'cgroup.controllers')) ?? '').split(/\s+/);
    if (offered.includes('cpu') || offered.includes('cpuset')) return { backend: v2(), mounts, reason: `cgroup v2 at ${mounts.v2} offers ${offered.filter(Boolean).join(' ')}` };
  }
  if (mounts.v1.size > 0) return { backend: v1(), mounts, reason: `cgroup v1 hierarchies: ${[...mounts.v1.keys()].join(', ')}` };
  if (mounts.v2) return { backend: v2(), mounts, reason: `cgroup v2 at ${mounts.v2} (no cpu/cpuset controller: freezer only)` };
  return { backend: null, mounts, reason: `no cgroup hierarchy found under ${paths.cgroupRoot}` };
}
