import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { parseIntOption } from '../parse-options.js';
import { InputError, UsageError } from '../../../util/errors.js';
import { formatNumber, formatTable, printJson } from '../output.js';
import { writeFileAtomic } from '../../../util/atomic-write.js';

interface DramSimOptions {
  trace?: string;
  format: string;
  synthetic?: string;
  emitTrace?: string;
  config?: string;
  channels?: string;
  ranks?: string;
  reference?: boolean;
  n?: string;
  seed?: string;
  cycles?: string;
  randomMixes?: string;
  validateAnalytic?: boolean;
  benchAnalytic?: boolean;
  json?: boolean;
  timing?: boolean;
}

export const dramSimCommand: CliCommand = {
  register(program: Command) {
    program
      .command('dram-sim')
      .description(
        'replay a memory request trace through the cycle-level DDR4 model (DRAMsim3-style controller: FR-FCFS, per-bank ' +
          'command queues, write drain, staggered refresh; default DDR4-3200 8Gb x8, 1 channel, 2 ranks); figures in DRAM clocks',
      )
      .option('--trace <file>', 'DRAMsim3 trace: one "0xADDR READ|WRITE CYCLE" per line')
      .option('--format <format>', 'trace format (only "dramsim3")', 'dramsim3')
      .option('--synthetic <spec>', 'replay a generated trace instead: PATTERN[,key=value...], PATTERN = stream | random | streams | a reference name (stream_b2b ...); keys n, gap (N | exp:MEAN | uniform:MIN:MAX), writes, stride, count, span, seed')
      .option('--emit-trace <file>', 'with --synthetic: write the generated trace (DRAMsim3 format) instead of replaying it')
      .option('--config <file>', 'DRAM configuration (JSON or YAML; missing fields from the DDR4-3200 preset)')
      .option('--channels <n>', 'channels (power of two)')
      .option('--ranks <n>', 'ranks per channel (power of two)')
      .option('--reference', 'generate the five REFERENCE.md traces, replay them and print the comparison with the DRAMsim3 figures')
      .option('--n <requests>', 'requests per generated trace for --reference (default 100000)')
      .option('--seed <seed>', 'seed for generated traces (default 1)')
      .option('--cycles <n>', 'measured DRAM cycles per mix for --validate-analytic (default 200000)')
      .option('--validate-analytic', 'compare the analytical model (solveDram) with this cycle-level model on a grid of multi-stream mixes')
      .option('--random-mixes <n>', 'with --validate-analytic: n random mixes (1-16 streams, random load, locality, writes, colour runs) instead of the fixed grid')
      .option('--bench-analytic', 'time solveDram with 32 streams (µs per call)')
      .option('--json', 'print JSON ({"completionCycle","avgReadLatencyCycles","activates","readRowHits","writeRowHits","reads","writes"} for a replay)')
      .option('--timing', 'print requests replayed and requests/second on stderr')
      .action(async (opts: DramSimOptions) => {
        const { DDR4_3200_8GB_X8, parseDramConfig } = await import('../../../sim/dram/dram-config.js');
        let config = opts.config ? parseDramConfig(await readConfigFile(opts.config), `${opts.config}: dram`) : DDR4_3200_8GB_X8;
        const powerOfTwo = (name: string, raw: string, max: number) => {
          const v = parseIntOption(name, raw, 1, max);
          if ((v & (v - 1)) !== 0) throw new UsageError(`${name} must be a power of two, got ${v}`);
          return v;
        };
        if (opts.channels !== undefined) config = parseDramConfig({ ...config, channels: powerOfTwo('--channels', opts.channels, 64) }, '--channels');
        if (opts.ranks !== undefined) config = parseDramConfig({ ...config, ranks: powerOfTwo('--ranks', opts.ranks, 16) }, '--ranks');
        const seed = opts.seed ?? '1';

        const modes = [opts.trace !== undefined, opts.synthetic !== undefined, !!opts.reference, !!opts.validateAnalytic, !!opts.benchAnalytic].filter(Boolean).length;
        if (modes !== 1) throw new UsageError('give exactly one of --trace FILE, --synthetic SPEC, --reference, --validate-analytic, --bench-analytic');
        if (opts.emitTrace !== undefined && opts.synthetic === undefined) throw new UsageError('--emit-trace needs --synthetic SPEC');
        if (opts.format !== 'dramsim3') throw new UsageError(`--format: unknown trace format "${opts.format}" (supported: dramsim3)`);

        if (opts.reference) return runReference(opts, seed);
        if (opts.validateAnalytic) return runValidateAnalytic(opts, config, seed);
        if (opts.benchAnalytic) return runBenchAnalytic(opts, config);

        const { replayRequests, replayStream } = await import('../../../sim/dram/trace-replay.js');
        let result;
        let requests: number;
        const t0 = process.hrtime.bigint();
        if (opts.synthetic !== undefined) {
          const { generateTrace, parseTraceSpec, traceLines } = await import('../../../sim/dram/synthetic-traces.js');
          const spec = parseTraceSpec(opts.synthetic, '--synthetic');
          if (opts.seed !== undefined) spec.seed = opts.seed;
          const batch = generateTrace(spec);
          if (opts.emitTrace !== undefined) {
            writeFileAtomic(opts.emitTrace, [...traceLines(batch)].join(''));
            if (opts.json) printJson({ wrote: opts.emitTrace, requests: batch.length });
            else process.stdout.write(`wrote ${batch.length} requests to ${opts.emitTrace}\n`);
            return;
          }
          requests = batch.length;
          result = replayRequests(config, batch);
        } else {
          const { readTraceFile } = await import('../../../sim/dram/trace-file.js');
          let count = 0;
          const counted = async function* () {
            for await (const b of readTraceFile(opts.trace!, 'dramsim3')) {
              count += b.length;
              yield b;
            }
          };
          result = await replayStream(config, counted());
          requests = count;
        }
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        if (opts.timing) process.stderr.write(`dram-sim: ${requests} requests in ${seconds.toFixed(3)} s = ${Math.round(requests / seconds)} requests/s\n`);
        if (opts.json) {
          printJson({
            completionCycle: result.completionCycle,
            avgReadLatencyCycles: result.avgReadLatencyCycles,
            activates: result.activates,
            readRowHits: result.readRowHits,
            writeRowHits: result.writeRowHits,
            reads: result.reads,
            writes: result.writes,
          });
          return;
        }
        const tCk = config.tCkNs;
        process.stdout.write(`${config.name ?? 'DRAM'}: ${config.channels} channel(s), ${config.ranks} rank(s), mapping ${config.addressMapping}\n`);
        process.stdout.write(
          formatTable(
            ['metric', 'value', 'note'],
            [
              ['requests', requests, `${result.reads} reads, ${result.writes} writes`],
              ['completion cycle', result.completionCycle, `${formatNumber((result.completionCycle * tCk) / 1000)} µs`],
              ['avg read latency (cycles)', Number(result.avgReadLatencyCycles.toFixed(2)), `${formatNumber(result.avgReadLatencyCycles * tCk)} ns`],
              ['activates', result.activates, ''],
              ['read row hits', result.readRowHits, ''],
              ['write row hits', result.writeRowHits, ''],
              ['replay speed', Math.round(requests / seconds), 'requests/s'],
            ],
          ) + '\n',
        );
      });
  },
};

async function readConfigFile(path: string): Promise<unknown> {
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'config file not found' : `cannot read config file (${code ?? String(err)})`, path);
  }
  const { parse, YAMLParseError } = await import('yaml');
  try {
    return parse(text) as unknown;
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const pos = err.linePos?.[0];
      throw new InputError(err.message.split('\n')[0], pos ? `${path}:${pos.line}:${pos.col}` : path);
    }
    throw err;
  }
}

async function runReference(opts: DramSimOptions, seed: string): Promise<void> {
  const { runReferenceTrace, compareWithReference } = await import('../../../sim/dram/reference-figures.js');
  const { REFERENCE_TRACE_NAMES } = await import('../../../sim/dram/synthetic-traces.js');
  const n = opts.n === undefined ? 100_000 : parseIntOption('--n', opts.n, 1, 100_000_000);
  const runs = REFERENCE_TRACE_NAMES.map((name) => runReferenceTrace(name, n, seed));
  const rows = runs.flatMap((r) => compareWithReference(r, n));
  if (opts.json) {
    printJson({ requests: n, seed, rows, speed: runs.map((r) => ({ trace: r.trace, seconds: r.seconds, requestsPerSec: r.requestsPerSec })) });
    return;
  }
  process.stdout.write(`DRAMsim3 reference (REFERENCE.md) vs this model, ${n} requests per trace, seed ${seed}\n`);
  process.stdout.write(
    formatTable(
      ['trace', 'metric', 'reference', 'model', 'error %', 'target %'],
      rows.map((r) => [r.trace, r.metric, r.reference, Number(r.model.toFixed(1)), r.errorPct.toFixed(2), r.tolerancePct === null ? 'report' : `±${r.tolerancePct}`]),
    ) + '\n',
  );
  process.stdout.write('(readRowHits error is relative to max(reference, 1% of requests): random traces have a handful of hits)\n');
  process.stdout.write(formatTable(['trace', 'seconds', 'requests/s'], runs.map((r) => [r.trace, r.seconds.toFixed(3), Math.round(r.requestsPerSec)])) + '\n');
}

async function runValidateAnalytic(opts: DramSimOptions, config: import('../../../sim/dram/dram-config.js').DramConfig, seed: string): Promise<void> {
  const { validateAnalyticModel, summariseValidation, randomValidationMixes } = await import('../../../sim/dram/analytic-validation.js');
  const mixes = opts.randomMixes === undefined ? undefined : randomValidationMixes(config, parseIntOption('--random-mixes', opts.randomMixes, 1, 10_000), seed);
  const rows = validateAnalyticModel(config, { seed, mixes, measureCycles: opts.cycles === undefined ? undefined : parseIntOption('--cycles', opts.cycles, 1000, 1_000_000_000) });
  const summary = summariseValidation(rows);
  if (opts.json) {
    printJson({ rows, summary });
    return;
  }
  process.stdout.write(
    formatTable(
      ['mix', 'stream', 'offered MB/s', 'sim MB/s', 'model MB/s', 'bw err %', 'sim lat ns', 'model lat ns', 'lat err %', 'sim hit', 'model hit'],
      rows.map((r) => [
        r.mix,
        r.stream,
        formatNumber(r.offeredBytesPerSec / 1e6),
        formatNumber(r.simBytesPerSec / 1e6),
        formatNumber(r.modelBytesPerSec / 1e6),
        r.bandwidthErrorPct.toFixed(1),
        formatNumber(r.simLatencyNs),
        formatNumber(r.modelLatencyNs),
        r.latencyErrorPct.toFixed(1),
        r.simRowHitRate.toFixed(2),
        r.modelRowHitRate.toFixed(2),
      ]),
    ) + '\n',
  );
  process.stdout.write(
    `streams: ${summary.streams}; bandwidth error mean |e| ${summary.meanAbsBandwidthErrorPct.toFixed(1)}%, max ${summary.maxAbsBandwidthErrorPct.toFixed(1)}%; ` +
      `latency error mean |e| ${summary.meanAbsLatencyErrorPct.toFixed(1)}%, median ${summary.medianAbsLatencyErrorPct.toFixed(1)}%, max ${summary.maxAbsLatencyErrorPct.toFixed(1)}%\n`,
  );
}

async function runBenchAnalytic(opts: DramSimOptions, config: import('../../../sim/dram/dram-config.js').DramConfig): Promise<void> {
  const { benchSolveDram } = await import('../../../sim/dram/analytic-validation.js');
  const r = benchSolveDram(config, 32);
  if (opts.json) return printJson(r);
  process.stdout.write(`solveDram, ${config.channels} channel(s), ${r[0]?.streams ?? 0} streams\n`);
  process.stdout.write(formatTable(['scenario', 'µs per call', 'rounds'], r.map((x) => [x.scenario, x.microsPerCall.toFixed(1), x.rounds.toFixed(1)])) + '\n');
}
