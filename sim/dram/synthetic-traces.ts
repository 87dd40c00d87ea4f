// Synthetic request traces: the five reference traces of shared/REFERENCE.md
// and variations (strides, several interleaved streams, random gaps, write
// fractions) for checking the model on patterns it was not compared on.
// All random draws come from util/rng.ts.
import { rngFor } from '../../util/rng.js';
import { InputError } from '../../util/errors.js';
import type { RequestBatch } from './trace-replay.js';

export type AddressPattern = 'stream' | 'random' | 'streams';
export type GapSpec = { kind: 'fixed'; cycles: number } | { kind: 'exp'; meanCycles: number } | { kind: 'uniform'; minCycles: number; maxCycles: number };

export interface SyntheticTraceSpec {
  pattern: AddressPattern;
  n: number;
  /** Inter-arrival gap; fixed 0 = every request ready at cycle 0 (back to back). */
  gap: GapSpec;
  /** Fraction of writes (each request independently). */
  writeFraction: number;
  /** Bytes between consecutive requests of a stream (stream / streams). */
  strideBytes: number;
  /** Number of interleaved streams (streams), each starting at a random 64 B-aligned address. */
  streamCount: number;
  /** Random addresses are uniform and 64 B-aligned in [0, spanBytes). */
  spanBytes: number;
  seed: number | string;
}

export const DEFAULT_SPAN_BYTES = 16 * 2 ** 30;

export function defaultSpec(pattern: AddressPattern): SyntheticTraceSpec {
  return { pattern, n: 100_000, gap: { kind: 'fixed', cycles: 0 }, writeFraction: 0, strideBytes: 64, streamCount: 4, spanBytes: DEFAULT_SPAN_BYTES, seed: 1 };
}

/** The five traces of the REFERENCE.md table, by name. */
export function referenceTraceSpec(name: string, n = 100_000, seed: number | string = 1): SyntheticTraceSpec {
  const specs: Record<string, Partial<SyntheticTraceSpec> & { pattern: AddressPattern }> = {
    stream_b2b: { pattern: 'stream' },
    random_b2b: { pattern: 'random' },
    stream_gap100: { pattern: 'stream', gap: { kind: 'fixed', cycles: 100 } },
    random_gap100: { pattern: 'random', gap: { kind: 'fixed', cycles: 100 } },
    random_rw_b2b: { pattern: 'random', writeFraction: 1 / 3 },
  };
  const s = specs[name];
  if (!s) throw new InputError(`unknown reference trace "${name}" (expected one of ${Object.keys(specs).join(', ')})`, 'trace');
  return { ...defaultSpec(s.pattern), ...s, n, seed };
}

export const REFERENCE_TRACE_NAMES = ['stream_b2b', 'random_b2b', 'stream_gap100', 'random_gap100', 'random_rw_b2b'] as const;

export function generateTrace(spec: SyntheticTraceSpec): RequestBatch {
  const n = spec.n;
  const addr = new Float64Array(n);
  const cycle = new Float64Array(n);
  const isWrite = new Uint8Array(n);
  const seed = spec.seed;
  const addrRng = rngFor(seed, `dram-trace/${spec.pattern}/addr`);
  const gapRng = rngFor(seed, 'dram-trace/gap');
  const writeRng = rngFor(seed, 'dram-trace/write');
  const lines = Math.floor(spec.spanBytes / 64);
  const bases: number[] = [];
  if (spec.pattern === 'streams') for (let k = 0; k < spec.streamCount; k++) bases.push(addrRng.int(lines) * 64);
  let t = 0;
  for (let i = 0; i < n; i++) {
    switch (spec.pattern) {
      case 'stream':
        addr[i] = (i * spec.strideBytes) % spec.spanBytes;
        break;
      case 'random':
        addr[i] = addrRng.int(lines) * 64;
        break;
      case 'streams': {
        const k = i % spec.streamCount;
        addr[i] = (bases[k] + Math.floor(i / spec.streamCount) * spec.strideBytes) % spec.spanBytes;
        break;
      }
    }
    if (i > 0) t += drawGap(spec.gap, gapRng);
    cycle[i] = t;
    if (spec.writeFraction > 0 && writeRng.next() < spec.writeFraction) isWrite[i] = 1;
  }
  return { addr, cycle, isWrite, length: n };
}

function drawGap(g: GapSpec, rng: ReturnType<typeof rngFor>): number {
  switch (g.kind) {
    case 'fixed':
      return g.cycles;
    case 'exp':
      // inverse-CDF draw, one uniform per gap, not rng.exp (Ziggurat): the
      // DRAMsim3 figures in test/dram/fixtures were produced from exactly
      // these traces, so their draws must not change
      return Math.round(-g.meanCycles * Math.log(1 - rng.next()));
    case 'uniform':
      return g.minCycles + rng.int(g.maxCycles - g.minCycles + 1);
  }
}

/**
 * Parse `pattern[,key=value]...`, e.g. `random,gap=100,writes=0.33,n=20000`,
 * `streams,count=8,stride=128,gap=exp:30`, or a reference name `random_gap100`.
 * Keys: n, gap (N | exp:MEAN | uniform:MIN:MAX), writes, stride, count, span, seed.
 */
export function parseTraceSpec(text: string, where = '--synthetic'): SyntheticTraceSpec {
  const parts = text.split(',').map((p) => p.trim());
  const head = parts[0];
  let spec: SyntheticTraceSpec;
  if ((REFERENCE_TRACE_NAMES as readonly string[]).includes(head)) spec = referenceTraceSpec(head);
  else if (head === 'stream' || head === 'random' || head === 'streams') spec = defaultSpec(head);
  else throw new InputError(`unknown pattern "${head}" (expected stream, random, streams or one of ${REFERENCE_TRACE_NAMES.join(', ')})`, where);
  const num = (k: string, v: string, min: number, max = Number.MAX_SAFE_INTEGER, int = true): number => {
    const x = Number(v);
    if (v === '' || !Number.isFinite(x) || (int && !Number.isInteger(x)) || x < min || x > max) throw new InputError(`${k} expects ${int ? 'an integer' : 'a number'} in [${min}, ${max}], got "${v}"`, where);
    return x;
  };
  for (const p of parts.slice(1)) {
    const eq = p.indexOf('=');
    if (eq < 0) throw new InputError(`expected key=value, got "${p}"`, where);
    const k = p.slice(0, eq);
    const v = p.slice(eq + 1);
    switch (k) {
      case 'n':
        spec.n = num(k, v, 1, 1e9);
        break;
      case 'gap': {
        const g = v.split(':');
        if (g[0] === 'exp' && g.length === 2) spec.gap = { kind: 'exp', meanCycles: num('gap exp mean', g[1], 0, 1e9, false) };
        else if (g[0] === 'uniform' && g.length === 3) {
          const a = num('gap uniform min', g[1], 0, 1e9);
          const b = num('gap uniform max', g[2], a, 1e9);
          spec.gap = { kind: 'uniform', minCycles: a, maxCycles: b };
        } else if (g.length === 1) spec.gap = { kind: 'fixed', cycles: num(k, v, 0, 1e9) };
        else throw new InputError(`gap expects N, exp:MEAN or uniform:MIN:MAX, got "${v}"`, where);
        break;
      }
      case 'writes':
        spec.writeFraction = num(k, v, 0, 1, false);
        break;
      case 'stride':
        spec.strideBytes = num(k, v, 1);
        break;
      case 'count':
        spec.streamCount = num(k, v, 1, 1 << 20);
        break;
      case 'span':
        spec.spanBytes = num(k, v, 64);
        break;
      case 'seed':
        spec.seed = v;
        break;
      default:
        throw new InputError(`unknown key "${k}" (expected n, gap, writes, stride, count, span, seed)`, where);
    }
  }
  return spec;
}

/** DRAMsim3 trace text for a batch (`0xADDR READ|WRITE cycle` per line). */
export function* traceLines(b: RequestBatch): Generator<string> {
  for (let i = 0; i < b.length; i++) yield `0x${b.addr[i].toString(16)} ${b.isWrite[i] ? 'WRITE' : 'READ'} ${b.cycle[i]}\n`;
}
