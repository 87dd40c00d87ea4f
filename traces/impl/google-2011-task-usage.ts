// Google cluster-data 2011 (clusterdata-2011-2) task_usage tables
// (part-?????-of-?????.csv.gz; google/cluster-data, CC BY 4.0). No header; one
// row per task per measurement period (usually 5 minutes, shorter when a task
// starts or stops). Times in microseconds; resource columns are normalised to
// the largest machine. clusterdata-2011-1 lacks the last column (19 columns).
import type { TableFormat } from '../table-format.js';

export const google2011TaskUsage: TableFormat = {
  name: 'google-2011-task-usage',
  description: 'Google cluster-data 2011 task_usage: one row per task per measurement period (usually 300 s)',
  columns: [
    { name: 'start_time', kind: 'number', description: 'start of the measurement period, microseconds' },
    { name: 'end_time', kind: 'number', description: 'end of the measurement period, microseconds' },
    { name: 'job_id', kind: 'id' },
    { name: 'task_index', kind: 'id' },
    { name: 'machine_id', kind: 'id' },
    { name: 'cpu_rate', kind: 'number', description: 'mean CPU usage rate (normalised core-seconds per second)' },
    { name: 'canonical_memory_usage', kind: 'number', description: 'normalised memory' },
    { name: 'assigned_memory_usage', kind: 'number' },
    { name: 'unmapped_page_cache', kind: 'number' },
    { name: 'total_page_cache', kind: 'number' },
    { name: 'maximum_memory_usage', kind: 'number' },
    { name: 'disk_io_time', kind: 'number' },
    { name: 'local_disk_space_usage', kind: 'number' },
    { name: 'maximum_cpu_rate', kind: 'number' },
    { name: 'maximum_disk_io_time', kind: 'number' },
    { name: 'cycles_per_instruction', kind: 'number' },
    { name: 'memory_accesses_per_instruction', kind: 'number' },
    { name: 'sample_portion', kind: 'number' },
    { name: 'aggregation_type', kind: 'number' },
    { name: 'sampled_cpu_usage', kind: 'number', description: 'CPU rate in a random 1 s sample of the period (2011-2 only)' },
  ],
  minColumns: 19,
  header: 'none',
  entityColumns: ['job_id', 'task_index'],
  groupings: { machine: ['machine_id'], job: ['job_id'] },
  timeColumn: 'start_time',
  timeUnitSeconds: 1e-6,
  defaultValueColumn: 'cpu_rate',
  defaultAggregate: 'sum',
  source: 'Google cluster-data clusterdata-2011-2 (google/cluster-data), CC BY 4.0',
};
