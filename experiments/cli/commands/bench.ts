import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import type { CliCommand } from '../command.js';
import { formatTable, printJson } from '../output.js';
import { shipped } from '../../../util/paths.js';

/** Optional parts of the benchmark live in other components; skip a part whose module is absent. */
async function optional<T>(relPath: string, load: () => Promise<T>): Promise<T | null> {
  return existsSync(shipped(relPath)) || existsSync(shipped(relPath.replace(/\.ts$/, '.js'))) ? load() : null;
}

export const benchCommand: CliCommand = {
  register(program: Command) {
    program
      .command('bench')
      .description("measure umbra's speed: exact LLC accesses/s, fast-mode simulated seconds per wall second (16 cores, 32 tasks), forecaster and policy costs")
      .option('--quick', 'shorter runs (noisier figures)')
      .option('--host', 'also run the real-host 10 ms control loop for 16 tasks (starts processes; Linux, needs root for cgroups)')
      .option('--json', 'print JSON')
      .action(async (opts: { quick?: boolean; host?: boolean; json?: boolean }) => {
        const progress = (msg: string) => {
          if (!opts.json || process.stderr.isTTY) process.stderr.write(`umbra bench: ${msg}\n`);
        };
        const { benchLlcExact, benchFastMode } = await import('../../../sim/bench/sim-bench.js');
        const out: Record<string, unknown> = {};
        progress('exact LLC (2 MiB, 16-way, ~half hits)');
        const llc = benchLlcExact(opts.quick ? 5_000_000 : 20_000_000, opts.quick ? 3 : 5);
        out.llcExactAccessesPerSec = Math.round(llc.accessesPerSec);
        out.llcExactImplementation = llc.implementation;
        out.llcExactHitRatio = Number(llc.hitRatio.toFixed(4));
        if (llc.implementation === 'native') {
          // the pure-JS loop too, for hosts where the addon does not build
          out.llcExactJsAccessesPerSec = Math.round(benchLlcExact(opts.quick ? 5_000_000 : 20_000_000, opts.quick ? 3 : 5, 'js').accessesPerSec);
        }
        const windows = opts.quick ? 3 : 5;
        progress(`fast mode (default machine, 32 tasks, 10 ms observe loop, median of ${windows} windows of ${opts.quick ? 2 : 10} simulated s after 10 s of warm-up)`);
        const fast = await benchFastMode(opts.quick ? 2 : 10, 10, windows);
        out.fastModeSpeedupVsRealtime = Number(fast.speedupVsRealtime.toFixed(1));
        out.fastModeSpeedupRuns = fast.speedupRuns.map((x) => Number(x.toFixed(1)));
        out.fastModeReferenceMopsRuns = fast.referenceMopsRuns.map((x) => Number(x.toFixed(1)));
        out.fastModeWarmupSpeedupVsRealtime = Number(fast.warmupSpeedupVsRealtime.toFixed(1));
        out.fastModeSimulatedSeconds = fast.simulatedSeconds;
        out.fastModeWallSeconds = Number(fast.wallSeconds.toFixed(3));
        out.fastModeContentionSolves = fast.solves;
        out.fastModeSolveShare = Number(fast.solveShare.toFixed(3));
        out.fastModeUsPerSolve = fast.solves > 0 ? Number(((fast.solveShare * fast.wallSeconds * 1e6) / fast.solves).toFixed(1)) : 0;
        out.fastModeOtherMsPerSimSecond = Number((((1 - fast.solveShare) * fast.wallSeconds * 1e3) / fast.simulatedSeconds).toFixed(2));
        out.fastModeRequestsPerSimSecond = Math.round(fast.requestsPerSimSecond);
        out.fastModeSetupSeconds = Number(fast.setupSeconds.toFixed(3));
        progress('forecasters');
        const { benchForecasters } = await import('../../../policies/forecast/bench.js');
        out.forecasterUsPerPrediction = Object.fromEntries(Object.entries(benchForecasters()).map(([k, v]) => [k, Number(v.usPerPrediction.toFixed(2))]));
        const policies = await optional('policies/bench.ts', () => import('../../../policies/bench.js' as string) as Promise<{ benchPolicies: () => Record<string, { decideUsPerTick: number }> }>);
        if (policies) {
          progress('policies (64 tasks)');
          out.policyDecideUsPerTick64Tasks = Object.fromEntries(Object.entries(policies.benchPolicies()).map(([k, v]) => [k, Number(v.decideUsPerTick.toFixed(1))]));
        }
        if (opts.host) {
          progress('real-host control loop (16 tasks, 10 ms)');
          const { benchHostLoop } = await import('../../../runner/bench-host-loop.js');
          out.hostLoop = await benchHostLoop();
        }
        out.peakRssBytes = process.resourceUsage().maxRSS * 1024;
        if (opts.json) return printJson(out);
        const rows: (string | number)[][] = [
          [`exact LLC accesses/s (${out.llcExactImplementation})`, out.llcExactAccessesPerSec as number, 'target >= 50 M/s'],
          ...(out.llcExactJsAccessesPerSec ? [['exact LLC accesses/s (pure JS fallback)', out.llcExactJsAccessesPerSec as number, '']] : []),
          ['fast mode x real time (32 tasks), median window', out.fastModeSpeedupVsRealtime as number, 'target >= 200x'],
          ['  each window', (out.fastModeSpeedupRuns as number[]).join(', '), ''],
          ['  machine reference loop before each window, M steps/s', (out.fastModeReferenceMopsRuns as number[]).join(', '), 'moves with the machine only'],
          ['  over its first 10 simulated s (code still compiling)', out.fastModeWarmupSpeedupVsRealtime as number, ''],
          ['  of its wall time: contention solves (%)', Math.round((out.fastModeSolveShare as number) * 100), `${fast.solves} solves, ${out.fastModeUsPerSolve} us each`],
          ['  the rest (requests, events, observe), ms per simulated s', out.fastModeOtherMsPerSimSecond as number, ''],
          ['  first-class requests per simulated s', out.fastModeRequestsPerSimSecond as number, ''],
          ['peak RSS (MiB)', Math.round((out.peakRssBytes as number) / 1048576), ''],
        ];
        for (const [k, v] of Object.entries(out.forecasterUsPerPrediction as Record<string, number>)) rows.push([`forecaster ${k} us/prediction`, v, 'target <= 50']);
        for (const [k, v] of Object.entries((out.policyDecideUsPerTick64Tasks as Record<string, number>) ?? {})) rows.push([`policy ${k} decide() us/tick, 64 tasks`, v, '']);
        console.log(formatTable(['measure', 'value', ''], rows));
        if (out.hostLoop) console.log('\nhost loop:', JSON.stringify(out.hostLoop));
      });
  },
};
