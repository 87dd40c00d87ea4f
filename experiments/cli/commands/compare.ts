import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { UsageError } from '../../../util/errors.js';
import { parseFloatOption, parseIntOption } from '../parse-options.js';
import { printJson } from '../output.js';

interface CompareFlags {
  out: string;
  machine?: string;
  calibrate?: boolean;
  seeds?: string;
  duration?: string;
  point?: string;
  fitService?: boolean;
  fitFootprint?: boolean;
  fitMemory?: boolean;
  fitPath?: boolean;
  fitRunner?: boolean;
  simKnobs?: string;
  stressors?: string;
  quiet?: boolean;
  json?: boolean;
}

export const compareCommand: CliCommand = {
  register(program: Command) {
    program
      .command('compare')
      .description(
        'run a spec\'s scenario on the calibrated simulator and on this host with the same policies and seeds; write compare.md and compare.json: first-class p99 alone and co-located, slowdown, SLO violations, second-class throughput, and the simulator\'s error per figure',
      )
      .argument('<spec>', 'experiment spec (YAML or JSON); platform sim or hardware')
      .option('--out <dir>', 'output folder', 'umbra-compare')
      .option('--machine <file>', "machine description for the simulator (default: the spec's machine, else calibrate this host now)")
      .option('--calibrate', "calibrate this host now even if the spec names a machine")
      .option('--seeds <n>', "seeds 1..n instead of the spec's")
      .option('--duration <ms>', "milliseconds per run instead of the spec's (the warm-up keeps its share)")
      .option('--point <i>', 'sweep point to compare', '0')
      .option('--no-fit-service', "keep the kernel's preset instructions per request (default: scaled to the host's CPU per request, from the first seed's alone runs)")
      .option('--no-fit-footprint', "keep a service kernel's preset LLC accesses per instruction (default: its accesses per request measured with cachegrind on the host's own service, when valgrind is installed, and kept as the instructions per request are fitted)")
      .option('--no-fit-memory', "keep second-class kernels' preset memory intensity (default: apki and mlp scaled together so the simulated alone memory bandwidth matches the host stressor's, from the first seed's alone runs)")
      .option('--no-fit-runner', "with the runner's threads pinned (hardware.clientCores), leave their CPU out of the simulated runs (default: the CPU they used in the host's alone runs is added on the same simulated cores)")
      .option('--no-fit-path', "leave simulated latencies without the host's measurement path (default: each seed's alone difference in window p99 and mean, host - simulated, is added to that seed's simulated windows)")
      .option('--sim-knobs <which>', "knobs the simulated platform offers the policies: host (the ones the host has, the default) or all", 'host')
      .option('--stressors <impl>', "second-class work on the host: builtin (reports progress, the default), stress-ng, or auto")
      .option('--quiet', 'no progress lines')
      .option('--json', 'print compare.json on stdout')
      .action(async (specPath: string, opts: CompareFlags) => {
        const seeds = opts.seeds === undefined ? undefined : parseIntOption('--seeds', opts.seeds, 1, 1000);
        const durationMs = opts.duration === undefined ? undefined : parseFloatOption('--duration', opts.duration, 1);
        const point = parseIntOption('--point', opts.point ?? '0', 0);
        if (opts.simKnobs !== 'host' && opts.simKnobs !== 'all') throw new UsageError(`--sim-knobs expects host or all, got "${opts.simKnobs}"`);
        if (opts.stressors !== undefined && !['builtin', 'stress-ng', 'auto'].includes(opts.stressors)) throw new UsageError(`--stressors expects builtin, stress-ng or auto, got "${opts.stressors}"`);
        const { readSpecFile } = await import('../../spec/spec-source.js');
        const { runCompare } = await import('../../compare/compare-run.js');
        const { comparisonMarkdown } = await import('../../compare/compare-report.js');
        const { writeFileAtomic } = await import('../../../util/atomic-write.js');
        const { umbraVersion } = await import('../main.js');
        const { join } = await import('node:path');
        const src = readSpecFile(specPath);
        const quiet = opts.quiet || opts.json;
        const cmp = await runCompare(src, {
          outDir: opts.out,
          machine: opts.machine,
          calibrate: opts.calibrate,
          seeds,
          durationMs,
          point,
          fitService: opts.fitService,
          fitFootprint: opts.fitFootprint,
          fitMemory: opts.fitMemory,
          fitPath: opts.fitPath,
          fitRunner: opts.fitRunner,
          simKnobs: opts.simKnobs,
          stressors: opts.stressors as 'builtin' | 'stress-ng' | 'auto' | undefined,
          version: umbraVersion(),
          log: quiet ? undefined : (line) => process.stderr.write(line + '\n'),
        });
        const md = comparisonMarkdown(cmp);
        writeFileAtomic(join(opts.out, 'compare.json'), JSON.stringify(cmp, null, 2) + '\n');
        writeFileAtomic(join(opts.out, 'compare.md'), md);
        if (opts.json) return printJson(cmp);
        console.log(md);
        console.log(`wrote ${join(opts.out, 'compare.md')} and compare.json`);
      });
  },
};
