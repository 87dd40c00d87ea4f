// Registry of kernel presets, by name.
import type { Kernel } from '../kernel.js';
import { kv } from './kv.js';
import { search } from './search.js';
import { stream } from './stream.js';
import { chase } from './chase.js';
import { thrash } from './thrash.js';
import { compute } from './compute.js';
import { io } from './io.js';

export const KERNELS: Record<string, Kernel> = { kv, search, stream, chase, thrash, compute, io };

export function kernelNames(): string[] {
  return Object.keys(KERNELS);
}
