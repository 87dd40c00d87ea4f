// vitest globalSetup: after the whole suite, no process any test started may
// still run. Every test process inherits UMBRA_TEST_SUITE=<id> from here, and
// so does everything they spawn (redis-server, stress-ng, the built-in
// stressors, sleep): at teardown, any live process whose environment carries
// this id, other than vitest's own, is a leak. It is reported (the suite
// fails) and killed, so a leak is seen in CI and never left running on the
// machine. (A stress-ng --cache from a test once ran on here for an hour.)
import { readdirSync, readFileSync } from 'node:fs';

const KEY = 'UMBRA_TEST_SUITE';

function environOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return null;
  }
}

function cmdlineOf(pid: number): string {
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

/** Live (not zombie) processes carrying this suite's id, except the ones named. */
function carriers(id: string, except: Set<number>): number[] {
  const needle = `${KEY}=${id}\0`;
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

export default function setup(): () => Promise<void> {
  if (process.platform !== 'linux') return async () => {};
  const id = `${process.pid}-${Date.now()}`;
  process.env[KEY] = id;
  return async () => {
    // vitest's own processes (this one, its pool workers being torn down) carry the id too.
    const vitest = new Set<number>([process.pid, process.ppid]);
    const isVitest = (pid: number) => /vitest|tinypool/.test(cmdlineOf(pid));
    let left = carriers(id, vitest).filter((p) => !isVitest(p));
    // Give processes that are exiting a moment.
    for (let i = 0; i < 30 && left.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = carriers(id, vitest).filter((p) => !isVitest(p));
    }
    if (!left.length) return;
    const named = left.map((p) => `${p} (${cmdlineOf(p)})`);
    for (const p of left) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    throw new Error(`processes started by the tests were still running after the suite (now killed): ${named.join(', ')}`);
  };
}
