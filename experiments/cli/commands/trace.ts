import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { formatTable, printJson } from '../output.js';
import { parseFloatOption, parseIntOption } from '../parse-options.js';

interface ExtractFlags {
  format?: string;
  entity?: string;
  by?: string;
  column?: string;
  aggregate?: string;
  step?: string;
  out?: string;
  json?: boolean;
}

export const traceCommand: CliCommand = {
  register(program: Command) {
    const trace = program.command('trace').description('inspect public cluster traces (t_s,value series; Alibaba 2018 machine/container usage; Azure VM CPU readings; Google 2011 task usage) and extract one entity\'s series');
    trace
      .command('info')
      .description('tell a trace file\'s format and columns (and, for a single series, its length and range)')
      .argument('<file>', 'trace file (.csv or .csv.gz)')
      .option('--json', 'print JSON')
      .action(async (file: string, opts: { json?: boolean }) => {
        const { detectFormat } = await import('../../../traces/detect-format.js');
        const { SERIES_FORMAT, tableFormat } = await import('../../../traces/formats.js');
        const d = await detectFormat(file);
        let out: Record<string, unknown> = { file, ...d };
        if (d.format === SERIES_FORMAT) {
          const { loadSeriesCsv } = await import('../../../traces/series-csv.js');
          const s = await loadSeriesCsv(file);
          let min = Infinity;
          let max = -Infinity;
          for (const v of s.values) {
            min = Math.min(min, v);
            max = Math.max(max, v);
          }
          out = { ...out, columns: s.columns, valueColumn: s.column, timeColumn: s.timeColumn, samples: s.values.length, stepSeconds: s.stepSeconds, min, max };
        } else {
          const f = tableFormat(d.format);
          out = { ...out, description: f.description, columns: f.columns, entityColumns: f.entityColumns, groupings: f.groupings ?? {}, timeColumn: f.timeColumn, timeUnitSeconds: f.timeUnitSeconds, defaultValueColumn: f.defaultValueColumn, source: f.source };
        }
        if (opts.json) return printJson(out);
        console.log(`${file}: ${d.format} (${d.reason})`);
        if (d.format === SERIES_FORMAT) console.log(`  ${out.samples} samples of "${out.valueColumn}", step ${out.stepSeconds} s, range [${out.min}, ${out.max}]`);
        else {
          const f = tableFormat(d.format);
          console.log(`  ${f.description}`);
          console.log(`  entity: ${f.entityColumns.join(':')}${f.groupings ? `; also by ${Object.entries(f.groupings).map(([k, v]) => `${k} (${v.join(':')})`).join(', ')}` : ''}; time: ${f.timeColumn} (x ${f.timeUnitSeconds} s); default value: ${f.defaultValueColumn}`);
          console.log(formatTable(['column', 'kind', 'meaning'], f.columns.map((c) => [c.name, c.kind, c.description ?? ''])));
        }
      });
    trace
      .command('entities')
      .description('list the entities (machines, containers, VMs, job tasks) of a usage table with their row counts, most rows first')
      .argument('<file>', 'trace file (.csv or .csv.gz)')
      .option('--format <name>', 'the table format (default: detected)')
      .option('--by <grouping>', 'group by another key the format offers (e.g. machine)')
      .option('--limit <n>', 'show at most n', '20')
      .option('--json', 'print JSON')
      .action(async (file: string, opts: { format?: string; by?: string; limit: string; json?: boolean }) => {
        const limit = parseIntOption('--limit', opts.limit, 1);
        const { listEntities } = await import('../../../traces/list-entities.js');
        const r = await listEntities(file, { format: opts.format, by: opts.by, limit });
        if (opts.json) return printJson(r);
        console.log(`${file}: ${r.format}, ${r.rows} rows, ${r.distinct} distinct ${r.keyColumns.join(':')}`);
        console.log(formatTable(['entity', 'rows', 'first s', 'last s'], r.entities.map((e) => [e.entity, e.rows, e.firstSeconds, e.lastSeconds])));
      });
    trace
      .command('extract')
      .description('extract one entity\'s series from a usage table (or resample a series) onto a regular grid, as a t_s,value CSV a workload can replay')
      .argument('<file>', 'trace file (.csv or .csv.gz)')
      .option('--format <name>', 'the table format (default: detected)')
      .option('--entity <id>', 'which entity (values of the entity columns joined by ":"; Google 2011: jobId:taskIndex)')
      .option('--by <grouping>', 'group by another key the format offers (e.g. machine)')
      .option('--column <name>', 'value column (default: the format\'s, e.g. cpu_util_percent)')
      .option('--aggregate <how>', 'how samples at the same time combine: mean, sum, max, min, last')
      .option('--step <seconds>', 'grid step (default: the median step of the samples)')
      .option('--out <file>', 'write the series here (default: stdout)')
      .option('--json', 'print JSON (summary; the series goes to --out)')
      .action(async (file: string, opts: ExtractFlags) => {
        const { extractSeries } = await import('../../../traces/extract-series.js');
        const { seriesCsvText, writeSeriesCsv } = await import('../../../traces/write-series.js');
        const s = await extractSeries(file, {
          ...(opts.format ? { format: opts.format } : {}),
          ...(opts.entity ? { entity: opts.entity } : {}),
          ...(opts.by ? { by: opts.by } : {}),
          ...(opts.column ? { column: opts.column } : {}),
          ...(opts.aggregate ? { aggregate: opts.aggregate as 'mean' } : {}),
          ...(opts.step ? { stepSeconds: parseFloatOption('--step', opts.step, 1e-9) } : {}),
        });
        if (opts.out) writeSeriesCsv(opts.out, s.t, s.values);
        const summary = { file, format: s.format, entity: s.entity, column: s.column, samples: s.values.length, stepSeconds: s.stepSeconds, startSeconds: s.startSeconds, rows: s.rows, skippedEmpty: s.skippedEmpty, filledBins: s.filledBins, out: opts.out ?? null };
        if (opts.json) return printJson(summary);
        if (!opts.out) return void process.stdout.write(seriesCsvText(s.t, s.values));
        console.log(`${opts.out}: ${s.values.length} samples every ${s.stepSeconds} s of ${s.column}${s.entity ? ` for ${s.entity}` : ''} (${s.rows} rows read, ${s.skippedEmpty} with an empty value, ${s.filledBins} gaps filled)`);
      });
  },
};
