// Whether IO weights can have any effect: cgroup IO weights are enforced only
// by the BFQ scheduler (blkio.bfq.weight / io.weight) or by blk-iocost
// (io.weight with io.cost.qos enabled). With mq-deadline, kyber or none a
// weight is accepted by cgroupfs and ignored, so umbra reports it instead of
// pretending.
import { join } from 'node:path';
import type { HostFs } from '../fs/host-fs.js';
import { tryReadText } from '../fs/host-fs.js';

export interface BlockDevice {
  name: string;
  /** Active scheduler (the bracketed one). */
  scheduler: string;
}

/** Real block devices (non-zero size, not loop/ram/zram) and their active schedulers. */
export function blockDevices(fs: HostFs, sysRoot: string): BlockDevice[] {
  const dir = join(sysRoot, 'block');
  let names: string[] = [];
  try {
    names = fs.list(dir);
  } catch {
    return [];
  }
  const out: BlockDevice[] = [];
  for (const name of names) {
    if (/^(loop|ram|zram)\d*/.test(name)) continue;
    const size = Number(tryReadText(fs, join(dir, name, 'size'))?.trim() ?? '0');
    if (!(size > 0)) continue;
    const sched = tryReadText(fs, join(dir, name, 'queue', 'scheduler'));
    if (sched === undefined) continue;
    const m = /\[([^\]]+)\]/.exec(sched);
    out.push({ name, scheduler: m ? m[1] : sched.trim() || 'none' });
  }
  return out;
}

export interface IoWeightEffect {
  effective: boolean;
  reason?: string;
  devices: BlockDevice[];
}

/** Does an IO weight have an effect on any real block device? */
export function ioWeightEffect(fs: HostFs, sysRoot: string, iocostEnabled = false): IoWeightEffect {
  const devices = blockDevices(fs, sysRoot);
  if (devices.length === 0) return { effective: false, reason: `no block devices found under ${join(sysRoot, 'block')}`, devices };
  if (iocostEnabled) return { effective: true, devices };
  if (devices.some((d) => d.scheduler === 'bfq' || d.scheduler === 'cfq')) return { effective: true, devices };
  const list = devices.map((d) => `${d.name}: ${d.scheduler}`).join(', ');
  return {
    effective: false,
    reason: `IO weights have no effect: no block device uses the bfq scheduler (${list}) and blk-iocost is not enabled`,
    devices,
  };
}
