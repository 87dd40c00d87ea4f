// TypeScript handle on experiments/slurm/local-cluster.sh (a single-node Slurm
// cluster in a private folder, see that script for what it touches): bring it
// up, hand out the environment Slurm's commands need (SLURM_CONF), and take it
// down again. Used by the integration test; a user runs the script directly.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UnsupportedError } from '../../util/errors.js';
import { packageRoot } from '../../util/paths.js';

export interface DaemonRecord {
  name: 'munged' | 'slurmctld' | 'slurmd' | 'watchdog';
  pid: number;
  /** Start time in clock ticks since boot (/proc/PID/stat field 22): tells a reused PID apart. */
  startTicks: string;
}

export interface LocalSlurmCluster {
  dir: string;
  /** SLURM_CONF for sbatch, squeue, scancel, scontrol. */
  conf: string;
  /** process.env plus SLURM_CONF. */
  env: NodeJS.ProcessEnv;
  node: string;
  daemons: DaemonRecord[];
  /** Cancels every job, stops the daemons (by PID) and removes the folder. Safe to call twice. */
  down(): void;
}

export function localClusterScript(): string {
  return join(packageRoot(), 'experiments', 'slurm', 'local-cluster.sh');
}

function onPath(cmd: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin'];
  return dirs.some((d) => {
    if (!d) return false;
    try {
      accessSync(join(d, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Why a local cluster cannot run here, or null when it can (root, Slurm and MUNGE installed). */
export function localClusterUnavailable(): string | null {
  if (process.platform !== 'linux') return `needs Linux (this is ${process.platform})`;
  if (typeof process.geteuid !== 'function' || process.geteuid() !== 0) return 'needs root (slurmd starts jobs as their users, munged runs as the munge user)';
  const missing = ['sbatch', 'slurmctld', 'slurmd', 'munged', 'setpriv', 'setsid'].filter((c) => !onPath(c));
  if (missing.length > 0) return `${missing.join(', ')} not installed (apt-get install slurm-wlm munge, or experiments/slurm/local-cluster.sh install)`;
  return null;
}

function readState(dir: string): Record<string, string> {
  const p = join(dir, 'cluster.env');
  if (!existsSync(p)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(p, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

function daemonsOf(state: Record<string, string>): DaemonRecord[] {
  const names: [DaemonRecord['name'], string][] = [
    ['munged', 'MUNGED'],
    ['slurmctld', 'SLURMCTLD'],
    ['slurmd', 'SLURMD'],
    ['watchdog', 'WATCHDOG'],
  ];
  return names.filter(([, k]) => state[`${k}_PID`]).map(([name, k]) => ({ name, pid: Number(state[`${k}_PID`]), startTicks: state[`${k}_START`] ?? '' }));
}

/** Whether the recorded process still runs (a zombie or a reused PID does not count). */
export function daemonRunning(d: DaemonRecord): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${d.pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[0] !== 'Z' && fields[19] === d.startTicks;
}

function runScript(args: string[], timeoutMs: number): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', [localClusterScript(), ...args], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? `\n${r.error.message}` : '') };
}

export function stopLocalCluster(dir: string, timeoutMs = 120_000): void {
  const r = runScript(['down', '--dir', dir], timeoutMs);
  if (r.status !== 0) throw new Error(`local-cluster.sh down failed (exit ${r.status}): ${r.stderr.trim()}`);
}

export interface StartOptions {
  /** Private folder for the cluster (created; removed by down). */
  dir: string;
  cpus?: number;
  /** Bring the cluster down when this process ends (a crashed test leaves nothing behind). */
  ownerPid?: number;
  timeoutMs?: number;
}

export function startLocalCluster(o: StartOptions): LocalSlurmCluster {
  const args = ['up', '--dir', o.dir, ...(o.cpus !== undefined ? ['--cpus', String(o.cpus)] : []), ...(o.ownerPid !== undefined ? ['--owner-pid', String(o.ownerPid)] : [])];
  const r = runScript(args, o.timeoutMs ?? 120_000);
  if (r.status === 3) throw new UnsupportedError(`local Slurm cluster: ${r.stderr.trim().split('\n').pop()}`);
  if (r.status !== 0) {
    // the script takes itself down on failure; make sure, then report its logs
    try {
      stopLocalCluster(o.dir);
    } catch {
      // already down
    }
    throw new Error(`local-cluster.sh up failed (exit ${r.status}):\n${r.stderr.trim()}`);
  }
  const state = readState(o.dir);
  const conf = state.SLURM_CONF ?? join(o.dir, 'slurm.conf');
  let stopped = false;
  return {
    dir: o.dir,
    conf,
    env: { ...process.env, SLURM_CONF: conf },
    node: state.NODE ?? '',
    daemons: daemonsOf(state),
    down() {
      if (stopped) return;
      stopLocalCluster(o.dir);
      stopped = true;
    },
  };
}
