// Alibaba cluster-trace-v2018 usage tables (alibaba/clusterdata,
// cluster-trace-v2018/schema.md). No header row; times in seconds since the
// start of the 8-day trace; utilisation in percent. disk_io_percent uses -1 and
// 101 for abnormal readings: they are kept as they are.
import type { TableFormat } from '../table-format.js';

const SOURCE = 'Alibaba cluster-trace-v2018 (alibaba/clusterdata), released under CC BY 4.0 by the Alibaba Open Cluster Trace Program';

export const alibabaMachineUsage: TableFormat = {
  name: 'alibaba-machine-usage',
  description: 'Alibaba cluster-trace-v2018 machine_usage.csv: one row per machine per sample (about every 10 s)',
  columns: [
    { name: 'machine_id', kind: 'id', description: 'uid of the machine' },
    { name: 'time_stamp', kind: 'number', description: 'seconds since the trace start' },
    { name: 'cpu_util_percent', kind: 'number', description: 'CPU utilisation, [0, 100]' },
    { name: 'mem_util_percent', kind: 'number', description: 'memory utilisation, [0, 100]' },
    { name: 'mem_gps', kind: 'number', description: 'normalised memory bandwidth, [0, 100]' },
    { name: 'mkpi', kind: 'number', description: 'cache misses per thousand instructions' },
    { name: 'net_in', kind: 'number', description: 'normalised incoming network traffic, [0, 100]' },
    { name: 'net_out', kind: 'number', description: 'normalised outgoing network traffic, [0, 100]' },
    { name: 'disk_io_percent', kind: 'number', description: 'disk IO, [0, 100]; -1 or 101 are abnormal readings' },
  ],
  header: 'none',
  entityColumns: ['machine_id'],
  timeColumn: 'time_stamp',
  timeUnitSeconds: 1,
  defaultValueColumn: 'cpu_util_percent',
  defaultAggregate: 'mean',
  source: SOURCE,
};

export const alibabaContainerUsage: TableFormat = {
  name: 'alibaba-container-usage',
  description: 'Alibaba cluster-trace-v2018 container_usage.csv: one row per container per sample (about every 10 s)',
  columns: [
    { name: 'container_id', kind: 'id', description: 'uid of the container' },
    { name: 'machine_id', kind: 'id', description: "uid of the container's host machine" },
    { name: 'time_stamp', kind: 'number', description: 'seconds since the trace start' },
    { name: 'cpu_util_percent', kind: 'number', description: 'CPU utilisation of the container (percent of its request)' },
    { name: 'mem_util_percent', kind: 'number', description: 'memory utilisation, percent' },
    { name: 'cpi', kind: 'number', description: 'cycles per instruction' },
    { name: 'mem_gps', kind: 'number', description: 'normalised memory bandwidth, [0, 100]' },
    { name: 'mpki', kind: 'number', description: 'cache misses per thousand instructions' },
    { name: 'net_in', kind: 'number', description: 'normalised incoming network traffic, [0, 100]' },
    { name: 'net_out', kind: 'number', description: 'normalised outgoing network traffic, [0, 100]' },
    { name: 'disk_io_percent', kind: 'number', description: 'disk IO, [0, 100]; -1 or 101 are abnormal readings' },
  ],
  header: 'none',
  entityColumns: ['container_id'],
  groupings: { machine: ['machine_id'] },
  timeColumn: 'time_stamp',
  timeUnitSeconds: 1,
  defaultValueColumn: 'cpu_util_percent',
  defaultAggregate: 'mean',
  source: SOURCE,
};
