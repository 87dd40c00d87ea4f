// CPU topology and caches from sysfs, and the cores this process may use.
import { join } from 'node:path';
import type { HostFs } from '../fs/host-fs.js';
import { tryReadText } from '../fs/host-fs.js';
import { parseCpuList } from '../cgroup/cgroup-backend.js';

export interface CacheInfo {
  level: number;
  type: string;
  sizeBytes: number;
  ways: number;
  lineBytes: number;
  sharedCpus: number[];
}

export interface CpuTopology {
  onlineCpus: number[];
  /** Cores this process may run on (its affinity mask). */
  allowedCpus: number[];
  packages: number;
  coresPerPackage: number;
  threadsPerCore: number;
  caches: CacheInfo[];
}

export function parseSize(text: string): number {
  const m = /^\s*(\d+)\s*([KMG]?)/i.exec(text);
  if (!m) return 0;
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(m[1]) * mult;
}

export function readTopology(fs: HostFs, sysRoot: string, procRoot: string): CpuTopology {
  const cpuDir = join(sysRoot, 'devices', 'system', 'cpu');
  const online = parseCpuList(tryReadText(fs, join(cpuDir, 'online')) ?? '');
  const status = tryReadText(fs, join(procRoot, 'self', 'status')) ?? '';
  const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(status);
  const allowed = m ? parseCpuList(m[1]) : online;
  const pkgs = new Set<string>();
  const cores = new Set<string>();
  for (const c of online) {
    const t = join(cpuDir, `cpu${c}`, 'topology');
    const pkg = tryReadText(fs, join(t, 'physical_package_id'))?.trim() ?? '0';
    const core = tryReadText(fs, join(t, 'core_id'))?.trim() ?? String(c);
    pkgs.add(pkg);
    cores.add(`${pkg}/${core}`);
  }
  const caches: CacheInfo[] = [];
  const seen = new Set<string>();
  for (const c of online) {
    const cacheDir = join(cpuDir, `cpu${c}`, 'cache');
    let idx: string[] = [];
    try {
      idx = fs.list(cacheDir).filter((n) => n.startsWith('index'));
    } catch {
      continue;
    }
    for (const i of idx) {
      const d = join(cacheDir, i);
      const level = Number(tryReadText(fs, join(d, 'level'))?.trim() ?? 0);
      const type = tryReadText(fs, join(d, 'type'))?.trim() ?? 'Unified';
      const shared = parseCpuList(tryReadText(fs, join(d, 'shared_cpu_list')) ?? String(c));
      const key = `${level}/${type}/${shared.join(',')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      caches.push({
        level,
        type,
        sizeBytes: parseSize(tryReadText(fs, join(d, 'size')) ?? '0'),
        ways: Number(tryReadText(fs, join(d, 'ways_of_associativity'))?.trim() ?? 0),
        lineBytes: Number(tryReadText(fs, join(d, 'coherency_line_size'))?.trim() ?? 64),
        sharedCpus: shared,
      });
    }
  }
  caches.sort((a, b) => a.level - b.level || a.type.localeCompare(b.type) || a.sharedCpus[0] - b.sharedCpus[0]);
  return {
    onlineCpus: online,
    allowedCpus: allowed.filter((c) => online.length === 0 || online.includes(c)),
    packages: Math.max(1, pkgs.size),
    coresPerPackage: Math.max(1, Math.round(cores.size / Math.max(1, pkgs.size))),
    threadsPerCore: Math.max(1, Math.round(online.length / Math.max(1, cores.size))),
    caches,
  };
}

/** The last-level cache (largest level; first instance). */
export function lastLevelCache(t: CpuTopology): CacheInfo | undefined {
  const data = t.caches.filter((c) => c.type !== 'Instruction');
  if (data.length === 0) return undefined;
  const top = Math.max(...data.map((c) => c.level));
  return data.find((c) => c.level === top);
}
