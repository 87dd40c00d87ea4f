import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { UsageError } from '../../../util/errors.js';
import { formatTable } from '../output.js';
import { CACHEGRIND_FALLBACK_CONFIGS, formatCacheConfig, parseCacheSpec, type CacheConfig } from '../../../sim/cache/cache-config.js';
import type { CacheSimSummary } from '../../../sim/cache/cachegrind-hierarchy.js';
import { replayLackeyTrace } from '../../../sim/cache/replay.js';

interface CacheSimOptions {
  trace: string;
  format: string;
  I1?: string;
  D1?: string;
  LL?: string;
  json?: boolean;
  timing?: boolean;
}

const spec = (c: CacheConfig) => `${c.sizeBytes},${c.ways},${c.lineBytes}`;

export const cacheSimCommand: CliCommand = {
  register(program: Command) {
    const d = CACHEGRIND_FALLBACK_CONFIGS;
    program
      .command('cache-sim')
      .description(
        "replay a valgrind lackey trace through cachegrind's exact I1/D1/LL model (valgrind 3.19 cg_sim.c): " +
          'true LRU, write-allocate, LL looked up only on an L1 miss',
      )
      .requiredOption('--trace <file>', 'lackey trace (valgrind --tool=lackey --trace-mem=yes --log-fd=9 PROG 9>FILE); gzip detected by its magic bytes; "-" reads stdin')
      .option('--format <format>', 'trace format (only "lackey")', 'lackey')
      .option('--I1 <size,assoc,line>', `L1 instruction cache, as cachegrind's --I1 (default ${spec(d.I1)}, cachegrind's built-in x86/amd64 fallback)`)
      .option('--D1 <size,assoc,line>', `L1 data cache, as cachegrind's --D1 (default ${spec(d.D1)})`)
      .option('--LL <size,assoc,line>', `last-level cache, as cachegrind's --LL (default ${spec(d.LL)})`)
      .option('--json', 'print {"I1":{"refs":N,"misses":N},"D1":{...},"LL":{...}}')
      .option('--timing', 'print lines replayed and lines/second on stderr')
      .addHelpText(
        'after',
        '\nDefaults are cachegrind\'s fallback configuration, not this machine\'s caches (cachegrind auto-detects\n' +
          'those; pass the same --I1/--D1/--LL to both tools to compare). Configurations cachegrind rejects are\n' +
          'rejected the same way (set count a power of two, line size a power of two and >= 16, size > line).\n' +
          'Data accesses larger than the smallest line size are capped to it, as cachegrind does for\n' +
          'multi-line dirty-helper accesses (fxsave etc.). Note cachegrind also refuses to run when the smallest\n' +
          'line is below the largest guest register (32 B on AVX amd64); an access spanning three lines is an error.',
      )
      .action(async (opts: CacheSimOptions) => {
        if (opts.format !== 'lackey') throw new UsageError(`--format: unknown trace format "${opts.format}" (supported: lackey)`);
        const config = {
          I1: opts.I1 === undefined ? d.I1 : parseCacheSpec(opts.I1, '--I1'),
          D1: opts.D1 === undefined ? d.D1 : parseCacheSpec(opts.D1, '--D1'),
          LL: opts.LL === undefined ? d.LL : parseCacheSpec(opts.LL, '--LL'),
        };
        const t0 = process.hrtime.bigint();
        const result = await replayLackeyTrace(opts.trace, config);
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        if (opts.timing) {
          process.stderr.write(
            `cache-sim: ${result.lines} lines (${result.accesses} accesses) in ${seconds.toFixed(3)} s = ` +
              `${Math.round(result.lines / seconds)} lines/s\n`,
          );
        }
        const s = result.summary;
        if (opts.json) {
          process.stdout.write(JSON.stringify(jsonShape(s)) + '\n');
          return;
        }
        const rate = (r: { refs: number; misses: number }) => (r.refs === 0 ? '-' : `${((100 * r.misses) / r.refs).toFixed(2)}%`);
        const rows = (['I1', 'D1', 'LL'] as const).map((k) => [k, formatCacheConfig(config[k]), s[k].refs, s[k].misses, rate(s[k])]);
        process.stdout.write(`trace: ${opts.trace} (${result.lines} lines, ${result.accesses} accesses)\n`);
        process.stdout.write(formatTable(['cache', 'geometry', 'refs', 'misses', 'miss rate'], rows) + '\n');
      });
  },
};

/** Exactly the documented --json shape, keys in this order. */
function jsonShape(s: CacheSimSummary) {
  return {
    I1: { refs: s.I1.refs, misses: s.I1.misses },
    D1: { refs: s.D1.refs, misses: s.D1.misses },
    LL: { refs: s.LL.refs, misses: s.LL.misses },
  };
}
