import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { parseIntOption } from '../parse-options.js';
import { UsageError } from '../../../util/errors.js';
import { formatTable, printJson } from '../output.js';

interface CalibrateOpts {
  out?: string;
  machineOut?: string;
  from?: string;
  name?: string;
  llc?: string;
  json?: boolean;
  seed: string;
  maxBytes?: string;
  js?: boolean;
  quick?: boolean;
}

export const calibrateCommand: CliCommand = {
  register(program: Command) {
    program
      .command('calibrate')
      .description(
        'measure this host (pointer-chase latency per working-set size -> cache levels and DRAM latency; streaming bandwidth; per-core compute rate; the compute kernel on pairs of cores at once -> which cores slow each other; the built-in stream stressor alone), write the measurements as JSON and, with --machine-out, a machine description the simulator loads',
      )
      .option('--out <file>', 'write the calibration JSON here (atomically)')
      .option('--machine-out <file>', 'write a machine description (YAML, or JSON if the name ends in .json) mapped from the measurements')
      .option('--from <file>', 'map an earlier calibration JSON (from --out) instead of measuring again')
      .option('--name <name>', 'name of the machine description (default calibrated-<cores>c)')
      .option('--llc <source>', 'LLC size in the machine description: sysfs (default) or measured (the effective size from the latency curve)', 'sysfs')
      .option('--json', 'print the calibration JSON on stdout (with the machine mapping under "machine" when --machine-out is given)')
      .option('--seed <n>', 'seed of the pointer-chase permutations', '1')
      .option('--max-bytes <n>', 'largest pointer-chase working set in bytes (default: 4x the LLC, 64 MiB..512 MiB)')
      .option('--js', 'use the JavaScript kernels even when the native addon loaded')
      .option('--quick', 'fewer points and shorter runs')
      .action(async (opts: CalibrateOpts) => {
        const seed = parseIntOption('--seed', opts.seed, 0);
        if (opts.llc !== 'sysfs' && opts.llc !== 'measured') throw new UsageError(`--llc expects sysfs or measured, got "${opts.llc}"`);
        const maxBytes = opts.maxBytes === undefined ? undefined : parseIntOption('--max-bytes', opts.maxBytes, 8192, 4 * 1024 ** 3);
        const { calibrateHostAll } = await import('../../../runner/calibrate/calibrate-host.js');
        const { parseCalibration, machineFromCalibration, machineDescriptionYaml } = await import('../../../runner/calibrate/machine-from-calibration.js');
        const { writeFileAtomic } = await import('../../../util/atomic-write.js');
        const { readJsonFile } = await import('../../compare/read-json.js');
        let cal: Awaited<ReturnType<typeof calibrateHostAll>>;
        if (opts.from) {
          const raw = readJsonFile(opts.from);
          parseCalibration(raw, opts.from);
          cal = raw as Awaited<ReturnType<typeof calibrateHostAll>>;
        } else {
          cal = await calibrateHostAll({ seed, maxBytes, js: opts.js, quick: opts.quick });
        }
        if (opts.out) writeFileAtomic(opts.out, JSON.stringify(cal, null, 2) + '\n');
        const mapping = opts.machineOut ? machineFromCalibration(parseCalibration(cal, opts.from ?? 'calibration'), { name: opts.name, llcSize: opts.llc }) : null;
        if (opts.machineOut && mapping) {
          const text = /\.json$/i.test(opts.machineOut) ? JSON.stringify(mapping.description, null, 2) + '\n' : machineDescriptionYaml(mapping, cal);
          writeFileAtomic(opts.machineOut, text);
        }
        if (opts.json) {
          return printJson(
            mapping
              ? {
                  ...cal,
                  machine: {
                    file: opts.machineOut,
                    description: mapping.description,
                    notes: mapping.notes,
                    dram: {
                      channels: mapping.dram.channels,
                      tCL: mapping.dram.tCL,
                      simUnloadedLatencyNs: mapping.dram.simUnloadedLatencyNs,
                      simCopyBytesPerSec: mapping.dram.simCopyBytesPerSec,
                      latencyErrorPct: mapping.dram.latencyErrorPct,
                      bandwidthErrorPct: mapping.dram.bandwidthErrorPct,
                    },
                  },
                }
              : cal,
          );
        }
        const kib = (b: number) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : `${(b / 1024).toFixed(0)} KiB`);
        console.log(`cores: ${cal.cores}; kernels: ${cal.method.pointerChase}${opts.from ? ` (read from ${opts.from})` : ''}`);
        console.log(
          formatTable(
            ['level', 'size (measured)', 'latency ns'],
            [...cal.cacheLevels.map((l, i) => [`cache ${i + 1}`, kib(l.sizeBytes), l.latencyNs]), ['DRAM', '', cal.dramLatencyNs]],
          ),
        );
        console.log(`stream bandwidth: ${(cal.streamBandwidthBytesPerSec / 1e9).toFixed(2)} GB/s; compute: ${(cal.computeOpsPerSecPerCore / 1e9).toFixed(2)} Gops/s per core`);
        const ci = cal.coreInterference;
        if (ci && 'pairs' in ci) {
          console.log(
            `core pairs (compute kernel on both at once, CPI increase): ${ci.pairs.map((p) => `${p.cores.join('+')} ${(100 * p.slowdown).toFixed(1)}%`).join(', ')}; ` +
              (ci.groups.length ? `groups ${JSON.stringify(ci.groups)}, computeSlowdown ${ci.computeSlowdown.toFixed(3)}` : `no pair above ${(100 * ci.thresholdSlowdown).toFixed(0)}%: cores independent`),
          );
        } else if (ci) console.log(`core pairs: not measured (${ci.unavailable})`);
        const ll = cal.loadedLatency;
        if (ll && 'inflation' in ll) {
          console.log(
            `DRAM latency under load: chase on core ${ll.chaseCore} ${ll.aloneNs.toFixed(1)} ns alone, ${ll.loadedNs.toFixed(1)} ns (x${ll.inflation.toFixed(3)}) with a copy on core ${ll.copyCore} at ${(ll.copyBytesPerSec / 1e9).toFixed(2)} GB/s` +
              (ll.disturbed ? ` (other processes busy: ${ll.backgroundCores.toFixed(2)} cores; not used)` : ''),
          );
        } else if (ll) console.log(`DRAM latency under load: not measured (${ll.unavailable})`);
        const ss = cal.streamStressor;
        if (ss && 'bytesPerSec' in ss) console.log(`built-in stream stressor alone on core ${ss.core}: ${(ss.bytesPerSec / 1e9).toFixed(2)} GB/s${ss.pinned ? '' : ' (not pinned)'}`);
        else if (ss) console.log(`built-in stream stressor: not measured (${ss.unavailable})`);
        const wc = cal.wakeupCost;
        if (wc && 'costNs' in wc) {
          console.log(
            `a wake-up's cost to the stream stressor on core ${wc.core} (${wc.rateHz}/s${wc.realtime ? ', SCHED_FIFO 1' : ''}; beyond the waker's CPU): ${(wc.costNs / 1e3).toFixed(1)} us, median of ${wc.pairs.length} pairs (` +
              wc.pairs.map((p) => `${(p.withWakerBytesPerSec / p.aloneBytesPerSec).toFixed(3)} of alone, ${(p.costNs / 1e3).toFixed(1)} us`).join('; ') +
              ')',
          );
        } else if (wc) console.log(`a wake-up's cost: not measured (${wc.unavailable})`);
        console.log(`sysfs caches: ${cal.sysfsCaches.map((c) => `L${c.level} ${c.type} ${kib(c.sizeBytes)}`).join(', ')}`);
        if (opts.out) console.log(`wrote ${opts.out}`);
        if (mapping) {
          console.log('machine description:');
          for (const n of mapping.notes) console.log(`  - ${n}`);
          console.log(`wrote ${opts.machineOut}`);
        }
      });
  },
};
