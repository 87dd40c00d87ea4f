// Where the measuring client runs. The runner's own process holds the load
// generators (the sender thread and the thread that reads the replies) and
// the control loop; left to the scheduler, it runs on whatever core is idle.
// On a small host that moves with the experiment: with a service alone the
// client has an idle core to itself, next to a co-located job it shares a
// busy one, so the measured slowdown carries the client's own slowdown
// (runner/README.md, "Simulator vs hardware"). Pinning this process's
// threads to chosen cores for the run keeps the client in the same place in
// every run being compared, ideally on a core no task uses. (On the 2-vCPU
// VM, pinned to the service's core, the path still grew next to a streaming
// job: placement is not all of it.)
//
// Only this process is touched. It needs no journal: the affinity dies with
// the process, and a live process gets its masks back at close.
import type { UmbraNative } from '../native/addon.js';
import { errnoName } from './fs/impl/native-fs.js';
import { threadIds } from './process/procfs.js';

/** This process's threads (always the real /proc: a fake tree in tests stands for other processes). */
const ownThreads = () => threadIds('/proc', process.pid);

/**
 * Pin every thread of this process to `cores` (threads created later inherit
 * the pinning from the thread that creates them). Returns what gives every
 * thread its mask from before. Throws (having restored what it changed) when
 * a thread's mask cannot be read or set.
 */
export function pinClientThreads(addon: UmbraNative, cores: readonly number[]): () => void {
  const saved = new Map<number, number[]>();
  const tids = ownThreads();
  const mainBefore = addon.getAffinity(process.pid);
  if (!mainBefore.ok || !mainBefore.cpus) throw new Error(`cannot read this process's CPU affinity (${errnoName(mainBefore.errno)})`);
  const restore = () => {
    // Threads created during the run (a worker, the libuv pool) inherited the
    // pinned mask and are not in `saved`: they get the main thread's old mask.
    for (const tid of ownThreads()) addon.setAffinity(tid, saved.get(tid) ?? mainBefore.cpus!);
  };
  for (const tid of tids) {
    const before = addon.getAffinity(tid);
    if (!before.ok || !before.cpus) continue; // the thread exited meanwhile
    saved.set(tid, before.cpus);
    const r = addon.setAffinity(tid, [...cores]);
    if (!r.ok) {
      restore();
      throw new Error(`cannot pin this process's thread ${tid} to cores ${cores.join(',')} (${errnoName(r.errno)})`);
    }
  }
  return restore;
}
