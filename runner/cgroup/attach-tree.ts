// Putting a task's whole process tree into its cgroups, race-free enough for
// processes that fork while they are being moved.
import { processTree } from '../process/procfs.js';
import type { TaskCgroup } from './cgroup-backend.js';

/**
 * Move a process and everything it has forked into the group. A child forked
 * before its parent moved stays behind; one forked *while* its parent was
 * being moved (v1 writes one hierarchy after another) lands in some of our
 * hierarchies and not others. So every process of the tree, and every member
 * the group already shows, that was not itself attached is attached, and
 * this repeats until a pass finds nothing new (a child of a fully attached
 * parent is in all our groups by itself). `attached` remembers who was done;
 * observe() calls this again now and then to catch stragglers.
 */
export function attachTree(cgroup: TaskCgroup, procRoot: string, pid: number, attached: Set<number>): void {
  for (let pass = 0; pass < 8; pass++) {
    const candidates = new Set([...processTree(procRoot, pid), ...cgroup.pids()]);
    let fresh = 0;
    for (const p of candidates) {
      if (attached.has(p)) continue;
      try {
        cgroup.attach(p);
        attached.add(p);
        fresh++;
      } catch {
        // exited meanwhile
      }
    }
    if (fresh === 0) return;
  }
}
