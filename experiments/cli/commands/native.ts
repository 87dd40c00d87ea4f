import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { nativeAddon, nativeStatus } from '../../../native/addon.js';
import { printJson } from '../output.js';

// perf_event_open(2) constants for the probe.
const PERF_TYPE_HARDWARE = 0;
const PERF_TYPE_SOFTWARE = 1;
const PERF_COUNT_HW_CPU_CYCLES = 0;
const PERF_COUNT_SW_TASK_CLOCK = 1;

export const nativeCommand: CliCommand = {
  register(program: Command) {
    program
      .command('native')
      .description('report whether the native addon loaded and whether perf_event_open works (software and hardware events)')
      .option('--json', 'print JSON')
      .action((opts: { json?: boolean }) => {
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
