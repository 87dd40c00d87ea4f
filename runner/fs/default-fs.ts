// The HostFs to use on this host: native when the addon loaded, node:fs otherwise.
import { nativeAddon } from '../../native/addon.js';
import type { HostFs } from './host-fs.js';
import { NativeHostFs } from './impl/native-fs.js';
import { NodeHostFs } from './impl/node-fs.js';

export function defaultHostFs(): HostFs {
  const addon = nativeAddon();
  return addon ? new NativeHostFs(addon) : new NodeHostFs();
}
