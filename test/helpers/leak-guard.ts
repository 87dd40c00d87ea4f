// vitest globalSetup: after the whole suite, no process any test started may
// still run. Every test process inherits UMBRA_TEST_SUITE=<id> from here, and
// so does everything they spawn (redis-server, stress-ng, the built-in
// stressors, sleep): at teardown, any live process whose environment carries
// this id, other than vitest's own, is a leak. It is reported (the suite
// fails) and killed, so a leak is seen in CI and never left running on the
// machine. (A stress-ng --cache from a test once ran on here for an hour.)
import { cmdlineOf, processesCarrying } from './processes.js';

const KEY = 'UMBRA_TEST_SUITE';

export default function setup(): () => Promise<void> {
  if (process.platform !== 'linux') return async () => {};
  const id = `${process.pid}-${Date.now()}`;
  process.env[KEY] = id;
  return async () => {
    // vitest's own processes (this one, its pool workers being torn down) carry the id too.
    const vitest = new Set<number>([process.pid, process.ppid]);
    const isVitest = (pid: number) => /vitest|tinypool/.test(cmdlineOf(pid));
    let left = processesCarrying(KEY, id, vitest).filter((p) => !isVitest(p));
    // Give processes that are exiting a moment.
    for (let i = 0; i < 30 && left.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = processesCarrying(KEY, id, vitest).filter((p) => !isVitest(p));
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
