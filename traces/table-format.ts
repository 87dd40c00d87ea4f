// A usage table in one of the public cluster-trace formats: which columns it
// has, which of them name the entity a row belongs to (a machine, a container,
// a VM, a job's task), which holds the time and in what unit, and which value
// column to use by default. One file per format in ./impl/, registered in
// ./formats.ts; a format can also be declared at run time (declareFormat) for a
// CSV that is none of the known ones.

export type ColumnKind = 'id' | 'number' | 'text';

export interface TableColumn {
  name: string;
  kind: ColumnKind;
  /** Unit or meaning, for `umbra trace info` and the manifest. */
  description?: string;
}

export interface TableFormat {
  /** Registry name, e.g. "alibaba-container-usage". */
  name: string;
  description: string;
  /** Columns in file order. */
  columns: TableColumn[];
  /** Some releases drop trailing columns (Google 2011 v1 has 19 of v2's 20): the fewest columns a row may have. */
  minColumns?: number;
  /** The public files have no header row; a header naming the columns is accepted and skipped. */
  header: 'none' | 'required';
  /** Columns whose values, joined by ":", name one entity; empty for single-series files. */
  entityColumns: string[];
  /** Other groupings a user may ask for (e.g. all tasks on one machine), by name. */
  groupings?: Record<string, string[]>;
  timeColumn: string | null;
  /** Seconds per unit of the time column (Google 2011: microseconds -> 1e-6). */
  timeUnitSeconds: number;
  defaultValueColumn: string;
  /** How rows of one entity at the same time combine (several tasks per machine, duplicate samples). */
  defaultAggregate: Aggregate;
  /** Licence and citation of the data this format comes from. */
  source?: string;
}

export type Aggregate = 'mean' | 'sum' | 'max' | 'min' | 'last';

export const AGGREGATES: readonly Aggregate[] = ['mean', 'sum', 'max', 'min', 'last'];

export function columnIndex(format: TableFormat, name: string): number {
  return format.columns.findIndex((c) => c.name === name);
}
