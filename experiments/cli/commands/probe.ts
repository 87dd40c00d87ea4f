import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { formatTable, printJson } from '../output.js';

interface ProbeOpts {
  json?: boolean;
  writeTest?: boolean;
  journalDir?: string;
  sysRoot?: string;
  procRoot?: string;
  cgroupRoot?: string;
  resctrlRoot?: string;
}

export const probeCommand: CliCommand = {
  register(program: Command) {
    program
      .command('probe')
      .description('report what this host offers the runner (perf counters, resctrl, cgroups, affinity, topology, tools), with the reason for each "no"')
      .option('--json', 'print JSON: one object per capability')
      .option('--no-write-test', 'do not exercise cgroup knobs with a throw-away group (default: test them when root)')
      .option('--journal-dir <dir>', 'journal directory for the throw-away test group')
      .option('--sys-root <dir>', 'sysfs root (default /sys)')
      .option('--proc-root <dir>', 'procfs root (default /proc)')
      .option('--cgroup-root <dir>', 'cgroup mount root (default /sys/fs/cgroup)')
      .option('--resctrl-root <dir>', 'resctrl mount point (default /sys/fs/resctrl)')
      .action(async (opts: ProbeOpts) => {
        const { probeHost } = await import('../../../runner/probe/probe-host.js');
        const paths = Object.fromEntries(
          Object.entries({ sysRoot: opts.sysRoot, procRoot: opts.procRoot, cgroupRoot: opts.cgroupRoot, resctrlRoot: opts.resctrlRoot }).filter(([, v]) => v !== undefined),
        );
        const report = probeHost({ paths, writeTest: opts.writeTest === false ? false : undefined, journalDir: opts.journalDir });
        if (opts.json) return printJson(report);
        const rows: (string | number)[][] = [];
        const yn = (b: boolean) => (b ? 'yes' : 'no');
        rows.push(['native addon', yn(report.nativeAddon.available), report.nativeAddon.reason ?? report.nativeAddon.path]);
        for (const [name, c] of Object.entries(report.perfHardware.events)) rows.push([`perf hw ${name}`, yn(c.available), c.reason ?? '']);
        for (const [name, c] of Object.entries(report.perfSoftware.events)) rows.push([`perf sw ${name}`, yn(c.available), c.reason ?? '']);
        const r = report.resctrl;
        rows.push(['resctrl', yn(r.available), r.reason ?? r.root]);
        rows.push(['resctrl CAT', yn(r.cat.available), r.cat.reason ?? `${r.cat.totalWays} ways, min ${r.cat.minWays}, ${r.cat.numClosids} CLOSIDs, mask ${r.cat.cbmMask}`]);
        rows.push(['resctrl MBA', yn(r.mba.available), r.mba.reason ?? `step ${r.mba.granularityPct}%, min ${r.mba.minPct}%`]);
        rows.push(['resctrl CMT/MBM', yn(r.monitoring.available), r.monitoring.reason ?? (r.monitoring.features ?? []).join(', ')]);
        for (const [label, cg] of [['cgroup v1', report.cgroupV1], ['cgroup v2', report.cgroupV2]] as const) {
          for (const [k, s] of Object.entries(cg.knobs)) rows.push([`${label} ${k}`, yn(s.available), s.reason ?? (s.tested ? 'write-tested' : '')]);
        }
        rows.push(['block devices', yn(report.blockDevices.available), report.blockDevices.devices.map((d) => `${d.name}: ${d.scheduler}`).join(', ') || (report.blockDevices.reason ?? '')]);
        rows.push(['sched_setaffinity', yn(report.schedSetaffinity.available), report.schedSetaffinity.reason ?? `cpus ${report.schedSetaffinity.allowedCpus?.join(',')}`]);
        rows.push(['process_madvise', yn(report.processMadvise.available), report.processMadvise.reason ?? '']);
        const t = report.topology;
        rows.push(['topology', yn(t.available), `${t.onlineCpus.length} cpus (allowed ${t.allowedCpus.join(',')}), ${t.packages} package(s), ${t.threadsPerCore} thread(s)/core`]);
        for (const c of t.caches) rows.push([`  L${c.level} ${c.type}`, '', `${c.sizeBytes / 1024} KiB, ${c.ways}-way, ${c.lineBytes} B lines, cpus ${c.sharedCpus.join(',')}`]);
        rows.push(['redis-server', yn(report.redisServer.available), report.redisServer.reason ?? `${report.redisServer.path} (${report.redisServer.version ?? '?'})`]);
        rows.push(['stress-ng', yn(report.stressNg.available), report.stressNg.reason ?? `${report.stressNg.path} (${report.stressNg.version ?? '?'})`]);
        console.log(formatTable(['capability', 'available', 'detail / reason'], rows));
      });
  },
};
