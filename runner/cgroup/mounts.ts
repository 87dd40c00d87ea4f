// Where the cgroup hierarchies are. On a real host /proc/self/mountinfo says;
// in a fake tree (tests) there is no mountinfo, so the tree under cgroupRoot is
// scanned: a dir with cgroup.controllers is a v2 mount, one with a `tasks` file
// is a v1 hierarchy whose controllers are named by the dir ("cpu,cpuacct").
import { join } from 'node:path';
import type { HostFs } from '../fs/host-fs.js';
import { tryReadText } from '../fs/host-fs.js';
import type { HostPaths } from '../host-paths.js';

export const V1_CONTROLLERS = ['cpuset', 'cpu', 'cpuacct', 'freezer', 'blkio', 'memory', 'pids', 'devices', 'perf_event', 'hugetlb', 'net_cls', 'net_prio', 'rdma', 'misc'] as const;

export interface CgroupMounts {
  /** v1 controller name -> hierarchy mount point. */
  v1: Map<string, string>;
  /** The cgroup2 mount point, or null. */
  v2: string | null;
}

function underRoot(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith('/') ? root : root + '/');
}

/** Parse mountinfo lines into cgroup mounts under cgroupRoot. */
export function parseMountinfo(text: string, cgroupRoot: string): CgroupMounts {
  const out: CgroupMounts = { v1: new Map(), v2: null };
  for (const line of text.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(' ');
    const right = line.slice(dash + 3).split(' ');
    const mountPoint = left[4]?.replace(/\\040/g, ' ');
    const fsType = right[0];
    const superOpts = (right[2] ?? '').split(',');
    if (!mountPoint || !underRoot(mountPoint, cgroupRoot)) continue;
    if (fsType === 'cgroup2') {
      if (!out.v2) out.v2 = mountPoint;
    } else if (fsType === 'cgroup') {
      for (const opt of superOpts) if ((V1_CONTROLLERS as readonly string[]).includes(opt) && !out.v1.has(opt)) out.v1.set(opt, mountPoint);
    }
  }
  return out;
}

export function scanCgroupTree(fs: HostFs, cgroupRoot: string): CgroupMounts {
  const out: CgroupMounts = { v1: new Map(), v2: null };
  if (!fs.isDirectory(cgroupRoot)) return out;
  if (fs.exists(join(cgroupRoot, 'cgroup.controllers'))) {
    out.v2 = cgroupRoot;
    return out;
  }
  for (const name of fs.list(cgroupRoot)) {
    const dir = join(cgroupRoot, name);
    if (!fs.isDirectory(dir)) continue;
    if (fs.exists(join(dir, 'cgroup.controllers'))) {
      if (!out.v2) out.v2 = dir;
      continue;
    }
    if (!fs.exists(join(dir, 'tasks'))) continue;
    for (const c of name.split(',')) if ((V1_CONTROLLERS as readonly string[]).includes(c) && !out.v1.has(c)) out.v1.set(c, dir);
  }
  return out;
}

export function discoverCgroupMounts(fs: HostFs, paths: HostPaths): CgroupMounts {
  const mountinfo = tryReadText(fs, join(paths.procRoot, 'self', 'mountinfo'));
  if (mountinfo) {
    const m = parseMountinfo(mountinfo, paths.cgroupRoot);
    if (m.v2 || m.v1.size > 0) return m;
  }
  return scanCgroupTree(fs, paths.cgroupRoot);
}
