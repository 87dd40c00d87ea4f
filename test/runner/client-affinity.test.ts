// The measuring client's placement: with clientCores, every thread of the
// runner's process (and a thread it creates during the run) runs on those
// cores while the run lasts, and each gets its mask back at close.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { startHostPlatform } from '../../runner/host-setup.js';
import { nativeAddon } from '../../native/addon.js';
import { onFakeTrees, makeFakeCgroupV2, makeFakeSysfs, makeLayout } from './helpers/fake-kernel.js';

const addon = nativeAddon();
const masks = () => new Map(readdirSync('/proc/self/task').map((t) => [Number(t), addon!.getAffinity(Number(t)).cpus?.join(',')]));
const before = addon ? addon.getAffinity(process.pid).cpus ?? [] : [];

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

function start(clientCores: number[]) {
  dir = mkdtempSync(join(tmpdir(), 'umbra-client-affinity-'));
  const l = makeLayout(join(dir, 'host'));
  makeFakeSysfs(l, { cpus: Math.max(...before) + 1 });
  makeFakeCgroupV2(l);
  return startHostPlatform({
    tasks: [{ id: 'nap', class: 'second', workload: { kind: 'command', argv: ['sleep', '30'] } }],
    ...onFakeTrees(dir, l),
    clientCores,
  });
}

describe('clientCores', () => {
  it.skipIf(!addon || before.length < 2)('pins every thread of the runner for the run, threads it creates too, and restores each mask at close', async () => {
    const target = before[before.length - 1];
    const was = masks();
    const { platform } = await start([target]);
    const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
    try {
      await new Promise((r) => worker.once('online', r));
      const during = masks();
      expect(during.size).toBeGreaterThan(was.size); // the worker's thread is there
      for (const [tid, m] of during) expect(m, `thread ${tid}`).toBe(String(target));
      await platform.close();
      const after = masks();
      for (const [tid, m] of after) expect(m, `thread ${tid}`).toBe(was.get(tid) ?? before.join(','));
    } finally {
      await worker.terminate();
      await platform.close();
    }
  });

  it.skipIf(!addon)('refuses cores this process may not run on, before starting anything, and changes no mask', async () => {
    const was = masks();
    await expect(start([Math.max(...before) + 7])).rejects.toThrow(/clientCores .*not all within this process's cores/);
    expect(masks()).toEqual(was);
  });
});
