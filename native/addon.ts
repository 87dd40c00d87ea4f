// Loads the native module built by native/build.mjs, or explains why it is not
// there. Callers use nativeAddon() and must handle null with a pure-JS path.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export interface PerfProbeResult {
  ok: boolean;
  errno: number;
  error?: string;
  value?: number;
}

export interface UmbraNative {
  abiVersion: number;
  probePerfEvent(type: number, config: number): PerfProbeResult;
}

export interface NativeStatus {
  available: boolean;
  reason?: string;
  path: string;
}

// dist/native/addon.js and native/addon.ts both resolve to <repo>/native/build.
function buildDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const repo = here.includes(`${'/'}dist${'/'}`) || here.endsWith('/dist/native') ? join(here, '..', '..') : join(here, '..');
  return join(repo, 'native', 'build');
}

let cached: { addon: UmbraNative | null; status: NativeStatus } | undefined;

function load(): { addon: UmbraNative | null; status: NativeStatus } {
  if (cached) return cached;
  const dir = buildDir();
  const path = join(dir, 'umbra.node');
  if (process.env.UMBRA_NO_NATIVE === '1') {
    cached = { addon: null, status: { available: false, reason: 'disabled by UMBRA_NO_NATIVE=1', path } };
    return cached;
  }
  if (!existsSync(path)) {
    let reason = 'native/build/umbra.node was not built';
    try {
      const st = JSON.parse(readFileSync(join(dir, 'build-status.json'), 'utf8')) as { reason?: string };
      if (st.reason) reason += `: ${st.reason}`;
    } catch {
      reason += ' (no build-status.json: the install script did not run; run `node native/build.mjs`)';
    }
    cached = { addon: null, status: { available: false, reason, path } };
    return cached;
  }
  try {
    const require = createRequire(import.meta.url);
    const addon = require(path) as UmbraNative;
    cached = { addon, status: { available: true, path } };
  } catch (err) {
    cached = { addon: null, status: { available: false, reason: `failed to load: ${(err as Error).message.split('\n')[0]}`, path } };
  }
  return cached;
}

export function nativeAddon(): UmbraNative | null {
  return load().addon;
}

export function nativeStatus(): NativeStatus {
  return load().status;
}
