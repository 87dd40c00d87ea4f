// Starting redis-server as a first-class service: no persistence, listening
// only on a Unix socket inside the run's scratch directory (no TCP port to
// collide with anything else on the host).
import { join } from 'node:path';
import { connectRedis, redisCommands } from './redis-load-generator.js';

export interface RedisLaunch {
  argv: string[];
  socketPath: string;
}

export function redisServerArgv(binary: string, scratchDir: string, maxMemoryBytes?: number): RedisLaunch {
  const socketPath = join(scratchDir, 'redis.sock');
  const argv = [
    binary,
    '--port', '0',
    '--unixsocket', socketPath,
    '--unixsocketperm', '700',
    '--save', '',
    '--appendonly', 'no',
    '--dir', scratchDir,
    '--daemonize', 'no',
    '--logfile', '',
    '--loglevel', 'warning',
  ];
  if (maxMemoryBytes) argv.push('--maxmemory', String(maxMemoryBytes));
  return { argv, socketPath };
}

/** Wait until redis answers PING, or fail when it exits or the timeout passes. */
export async function waitForRedis(socketPath: string, timeoutMs: number, exited: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    const why = exited();
    if (why) throw new Error(`redis-server exited before it was ready: ${why}`);
    try {
      const s = await connectRedis({ socketPath }, 500);
      try {
        const [reply] = await redisCommands(s, [['PING']]);
        if (reply === 'PONG') return;
        last = `PING answered ${String(reply)}`;
      } finally {
        s.destroy();
      }
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`redis-server not ready after ${timeoutMs} ms (${last})`);
}
