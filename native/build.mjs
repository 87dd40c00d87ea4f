// Builds native/build/umbra.node with g++ and the headers that ship inside npm
// packages (node-api-headers, node-addon-api). node-gyp would try to download
// Node's headers, which fails offline; Node-API only needs these headers because
// the napi_* symbols are resolved from the running node binary at load time.
//
// Run by the root package's `install` script, so `npm ci` builds it. A failed
// build never fails the install: umbra falls back to pure-JS /proc and sysfs
// access and `umbra probe` says why the addon is missing.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync, renameSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, 'build');
const target = join(outDir, 'umbra.node');
const statusFile = join(outDir, 'build-status.json');

function writeStatus(status) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(statusFile, JSON.stringify(status, null, 2) + '\n');
}

function main() {
  if (process.env.UMBRA_SKIP_NATIVE === '1') {
    writeStatus({ built: false, reason: 'UMBRA_SKIP_NATIVE=1 was set' });
    console.log('umbra: native addon build skipped (UMBRA_SKIP_NATIVE=1); the pure-JS fallback will be used');
    return;
  }
  if (process.platform !== 'linux') {
    writeStatus({ built: false, reason: `platform ${process.platform} is not Linux` });
    console.log(`umbra: native addon not built (platform ${process.platform}); the pure-JS fallback will be used`);
    return;
  }
  let addonApiDir, napiHeadersDir;
  try {
    const require = createRequire(import.meta.url);
    addonApiDir = require('node-addon-api').include.replace(/^"|"$/g, '');
    napiHeadersDir = require('node-api-headers').include_dir;
  } catch (err) {
    writeStatus({ built: false, reason: `headers not found: ${err.message}` });
    console.log(`umbra: native addon not built (headers missing: ${err.message}); the pure-JS fallback will be used`);
    return;
  }
  const cxx = process.env.CXX || 'g++';
  const tmp = `${target}.tmp-${process.pid}`;
  const args = [
    '-std=c++17', '-O2', '-fPIC', '-shared', '-Wall', '-pthread',
    '-DNAPI_VERSION=8', '-DNAPI_DISABLE_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
    // A worker thread terminated in the middle of a native call (a sweep stops
    // its other workers when one job fails) must not abort the process: when
    // the call then builds its result in the dying environment, node-addon-api
    // swallows the throw it cannot make instead of a fatal error.
    '-DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS',
    `-I${napiHeadersDir}`, `-I${addonApiDir}`,
    // Every translation unit in src/ (umbra.cc registers what the others define).
    ...readdirSync(join(here, 'src')).filter((f) => f.endsWith('.cc')).sort().map((f) => join(here, 'src', f)),
    '-o', tmp,
  ];
  mkdirSync(outDir, { recursive: true });
  const res = spawnSync(cxx, args, { encoding: 'utf8' });
  if (res.error || res.status !== 0) {
    const reason = res.error ? `${cxx} could not run: ${res.error.message}` : `${cxx} exited ${res.status}: ${(res.stderr || '').split('\n').slice(0, 5).join(' | ')}`;
    if (existsSync(tmp)) rmSync(tmp);
    // An older build left in place would contradict build-status.json: remove it.
    rmSync(target, { force: true });
    writeStatus({ built: false, reason });
    console.log(`umbra: native addon build failed (${reason}); the pure-JS fallback will be used`);
    return;
  }
  renameSync(tmp, target);
  writeStatus({ built: true, compiler: cxx, node: process.version });
  console.log('umbra: native addon built: native/build/umbra.node');
}

try {
  main();
} catch (err) {
  // Never fail `npm ci` because of the addon.
  try { writeStatus({ built: false, reason: String(err && err.message || err) }); } catch {}
  console.log(`umbra: native addon build failed (${err && err.message}); the pure-JS fallback will be used`);
}
