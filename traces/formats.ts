// Registry of the known usage-table formats, by name, plus formats declared at
// run time for any other CSV (`declareFormat`).
import { InputError } from '../util/errors.js';
import type { Aggregate, TableFormat } from './table-format.js';
import { alibabaContainerUsage, alibabaMachineUsage } from './impl/alibaba-2018.js';
import { azureVmCpu } from './impl/azure-vm-cpu.js';
import { google2011TaskUsage } from './impl/google-2011-task-usage.js';

/** Plain single-series files (`t_s,value` and similar, with a header): read by series-csv.ts. */
export const SERIES_FORMAT = 'series';

export const TABLE_FORMATS: Record<string, TableFormat> = {
  [alibabaMachineUsage.name]: alibabaMachineUsage,
  [alibabaContainerUsage.name]: alibabaContainerUsage,
  [azureVmCpu.name]: azureVmCpu,
  [google2011TaskUsage.name]: google2011TaskUsage,
};

export function formatNames(): string[] {
  return [SERIES_FORMAT, ...Object.keys(TABLE_FORMATS)];
}

export function tableFormat(name: string, where?: string): TableFormat {
  const f = TABLE_FORMATS[name];
  if (!f) throw new InputError(`unknown trace format "${name}"; expected one of ${formatNames().join(', ')}`, where);
  return f;
}

export interface DeclaredFormat {
  /** Column names in file order; omit when the file has a header row naming them. */
  columns?: string[];
  header: boolean;
  entityColumns?: string[];
  timeColumn?: string | null;
  timeUnitSeconds?: number;
  valueColumn: string;
  aggregate?: Aggregate;
}

/** A format for a CSV that is none of the known ones; with `header` and no columns they come from the file. */
export function declareFormat(d: DeclaredFormat, headerRow?: string[]): TableFormat {
  const names = d.columns ?? headerRow;
  if (!names) throw new InputError('a declared format needs its column names (or a header row in the file)');
  const entity = d.entityColumns ?? [];
  return {
    name: 'declared',
    description: 'format declared by the user',
    columns: names.map((name) => ({ name, kind: entity.includes(name) ? 'id' : 'number' })),
    header: d.header ? 'required' : 'none',
    entityColumns: entity,
    timeColumn: d.timeColumn ?? null,
    timeUnitSeconds: d.timeUnitSeconds ?? 1,
    defaultValueColumn: d.valueColumn,
    defaultAggregate: d.aggregate ?? 'mean',
  };
}
