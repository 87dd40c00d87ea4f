// Azure Public Dataset V1/V2 VM CPU readings (vm_cpu_readings-file-*-of-*.csv;
// Azure/AzurePublicDataset, CC BY 4.0): no header; one row per VM per 5-minute
// interval: timestamp (s), encrypted VM id, min, max and average CPU (percent).
import type { TableFormat } from '../table-format.js';

export const azureVmCpu: TableFormat = {
  name: 'azure-vm-cpu',
  description: 'Azure Public Dataset V1/V2 vm_cpu_readings: one row per VM per 5-minute interval',
  columns: [
    { name: 'timestamp', kind: 'number', description: 'seconds since the trace start (5-minute steps)' },
    { name: 'vmid', kind: 'id', description: 'encrypted VM id' },
    { name: 'mincpu', kind: 'number', description: 'minimum CPU utilisation in the interval, percent' },
    { name: 'maxcpu', kind: 'number', description: 'maximum CPU utilisation in the interval, percent' },
    { name: 'avgcpu', kind: 'number', description: 'average CPU utilisation in the interval, percent' },
  ],
  header: 'none',
  entityColumns: ['vmid'],
  timeColumn: 'timestamp',
  timeUnitSeconds: 1,
  defaultValueColumn: 'avgcpu',
  defaultAggregate: 'mean',
  source: 'Microsoft Azure Public Dataset (Azure/AzurePublicDataset), CC BY 4.0; cite Cortez et al., SOSP 2017',
};
