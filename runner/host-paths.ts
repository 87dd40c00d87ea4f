// Every filesystem root the runner reads or writes, so tests can point each
// one at a fake tree in a temp dir (this host has no resctrl and no cgroup v2
// controllers; the code for them is exercised against fakes).

export interface HostPaths {
  /** procfs (per-process stat, status, io, maps, cgroup membership; mountinfo). */
  procRoot: string;
  /** sysfs (CPU topology, caches, block device schedulers). */
  sysRoot: string;
  /** Where cgroup hierarchies are mounted (v1: one dir per controller; v2: unified). */
  cgroupRoot: string;
  /** resctrl mount point (Intel RDT / AMD PQoS). */
  resctrlRoot: string;
}

export const DEFAULT_HOST_PATHS: HostPaths = {
  procRoot: '/proc',
  sysRoot: '/sys',
  cgroupRoot: '/sys/fs/cgroup',
  resctrlRoot: '/sys/fs/resctrl',
};

export function hostPaths(partial: Partial<HostPaths> = {}): HostPaths {
  return { ...DEFAULT_HOST_PATHS, ...partial };
}
