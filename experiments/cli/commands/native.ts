import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { nativeAddon, nativeStatus } from '../../../native/addon.js';
import { formatTable, printJson } from '../output.js';
import { parseFloatOption, parseIntOption } from '../parse-options.js';

// perf_event_open(2) constants for the probe.
const PERF_TYPE_HARDWARE = 0;
const PERF_TYPE_SOFTWARE = 1;
const PERF_COUNT_HW_CPU_CYCLES = 0;
const PERF_COUNT_SW_TASK_CLOCK = 1;

interface NativeOpts {
  json?: boolean;
  benchLoop?: boolean;
  seconds: string;
  tasks: string;
  js?: boolean;
  sleep: string;
}

export const nativeCommand: CliCommand = {
  register(program: Command) {
    program
      .command('native')
      .description('report whether the native addon loaded and whether perf_event_open works; --bench-loop measures the real-host 10 ms control loop (16 tasks) with it or without it (--js)')
      .option('--json', 'print JSON')
      .option('--bench-loop', 'run the 10 ms observe/decide/apply loop over started tasks and report its CPU cost and tick latency (needs root for cgroups)')
      .option('--seconds <s>', 'how long to measure the loop', '5')
      .option('--tasks <n>', 'how many tasks the loop manages', '16')
      .option('--js', 'measure the pure-JS fallback (as if the addon had not loaded)')
      .option('--sleep <mode>', 'how the loop sleeps: timer | native | auto', 'timer')
      .action(async (opts: NativeOpts) => {
        if (opts.benchLoop) return benchLoop(opts);
        const status = nativeStatus();
        const addon = nativeAddon();
        const out: Record<string, unknown> = { nativeAddon: status };
        if (addon) {
          out.perfSoftwareTaskClock = addon.probePerfEvent(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK);
          out.perfHardwareCycles = addon.probePerfEvent(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES);
        } else {
          out.fallback = 'pure-JS /proc and sysfs access (perf_event_open needs the native addon)';
        }
        if (opts.json) return printJson(out);
        console.log(`native addon: ${status.available ? 'loaded' : `not available (${status.reason})`}`);
        if (addon) {
          const sw = out.perfSoftwareTaskClock as { ok: boolean; error?: string };
          const hw = out.perfHardwareCycles as { ok: boolean; error?: string };
          console.log(`perf_event_open software task-clock: ${sw.ok ? 'works' : `fails (${sw.error})`}`);
          console.log(`perf_event_open hardware cycles: ${hw.ok ? 'works' : `fails (${hw.error})`}`);
        } else {
          console.log('falling back to pure-JS /proc and sysfs access');
        }
      });
  },
};

async function benchLoop(opts: NativeOpts): Promise<void> {
  const seconds = parseFloatOption('--seconds', opts.seconds, 0.5, 600);
  const tasks = parseIntOption('--tasks', opts.tasks, 1, 256);
  if (!['timer', 'native', 'auto'].includes(opts.sleep)) {
    const { UsageError } = await import('../../../util/errors.js');
    throw new UsageError(`--sleep must be timer, native or auto, got "${opts.sleep}"`);
  }
  const { benchHostLoop } = await import('../../../runner/bench-host-loop.js');
  const r = await benchHostLoop({ seconds, tasks, native: opts.js ? false : undefined, sleepMode: opts.sleep as 'timer' | 'native' | 'auto' });
  if (opts.json) return printJson(r);
  const us = (ns: number) => (ns / 1000).toFixed(1);
  console.log(
    formatTable(
      ['measure', 'value'],
      [
        ['tasks / ticks / period', `${r.tasks} / ${r.ticks} / ${r.periodNs / 1e6} ms`],
        ['loop work CPU (observe+decide+apply)', `${r.workCpuPct.toFixed(2)}% of one core (${r.workCpuClock}; budget ${r.budgetPct}%: ${r.meetsBudget ? 'met' : 'NOT met'})`],
        ['runner process CPU, all threads', `${r.processCpuPct.toFixed(2)}% of one core`],
        ['same loop with no work (wake-up floor)', `${r.idleLoopCpuPct.toFixed(2)}% of one core`],
        ['tick latency p50 / p99 / max', `${us(r.tickP50Ns)} / ${us(r.tickP99Ns)} / ${us(r.tickMaxNs)} µs`],
        ['wake-up lateness p50 / p99', `${us(r.wakeLateP50Ns)} / ${us(r.wakeLateP99Ns)} µs`],
        ['file access / sleep / cgroups', `${r.fs} / ${r.sleep} / ${r.cgroupVersion ? `v${r.cgroupVersion}` : 'none'}`],
        ['actions applied / refused', `${r.actionsApplied} / ${r.actionsRefused}`],
      ],
    ),
  );
}
