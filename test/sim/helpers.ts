import { parseScenario, resolveScenario } from '../../sim/platform/resolve-scenario.js';
import { SimPlatform, type SimPlatformOptions } from '../../sim/platform/sim-platform.js';

export async function makePlatform(raw: unknown, opts: Partial<SimPlatformOptions> = {}): Promise<SimPlatform> {
  const spec = parseScenario(raw);
  const resolved = await resolveScenario(spec, { baseDir: process.cwd(), seed: opts.seed ?? 1 });
  return new SimPlatform(resolved, { seed: 1, ...opts });
}

/** A small co-location: one key-value service on cores 0-3 and second-class jobs on 4-7 (8-core machine, 8 MiB LLC). */
export function smallScenario(extra: Record<string, unknown> = {}, beCores = '4-7'): Record<string, unknown> {
  return {
    machine: { cores: { count: 8 }, llc: { sizeBytes: '8 MiB', ways: 16 } },
    tasks: [
      { id: 'kv', class: 'first', kernel: 'kv', sloP99Ms: 1.5, load: { constant: 12000 }, cores: '0-3', overrides: { pattern: { kind: 'zipf', workingSetBytes: 6 * 1048576, alpha: 0.9 } } },
      { id: 'thrash', class: 'second', kernel: 'thrash', threads: 2, cores: beCores, overrides: { pattern: { kind: 'uniform', workingSetBytes: 12 * 1048576 } } },
      { id: 'stream', class: 'second', kernel: 'stream', threads: 2, cores: beCores, overrides: { pattern: { kind: 'sequential', workingSetBytes: 64 * 1048576 } } },
    ],
    ...extra,
  };
}

export function runFor(p: SimPlatform, ms: number, periodMs = 10): ReturnType<SimPlatform['observe']>[] {
  const out = [];
  const start = p.now();
  for (let t = periodMs; t <= ms; t += periodMs) {
    p.advance(start + t * 1e6);
    out.push(p.observe());
  }
  return out;
}
