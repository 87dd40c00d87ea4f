// Live processes found by an environment variable they inherited: the leak
// guard's suite id, or a single test's own mark on the processes a run starts.
import { readdirSync, readFileSync } from 'node:fs';

function environOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return null;
  }
}

export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ');
  } catch {
    return '?';
  }
}

function stateOf(pid: number): string | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

/** Live (not zombie) processes whose environment holds key=value, except the ones named. */
export function processesCarrying(key: string, value: string, except: Set<number> = new Set([process.pid])): number[] {
  const needle = `${key}=${value}\0`;
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || except.has(pid)) continue;
    const env = environOf(pid);
    if (!env || !env.includes(needle)) continue;
    const st = stateOf(pid);
    if (st === null || st === 'Z' || st === 'X') continue;
    out.push(pid);
  }
  return out;
}
