import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { printJson } from '../output.js';

export const reportCommand: CliCommand = {
  register(program: Command) {
    program
      .command('report')
      .description('write report.md, a self-contained report.html, figures/ (SVG and PNG) and tables/ (CSV and LaTeX) for a finished run folder')
      .argument('<dir>', 'output folder of umbra run / umbra demo / umbra merge')
      .option('--json', 'print JSON')
      .action(async (dir: string, opts: { json?: boolean }) => {
        const { buildReport } = await import('../../report/build-report.js');
        const r = await buildReport(dir);
        if (opts.json) return printJson(r);
        console.log(`report: ${r.dir}/report.html and report.md; ${r.figures.length} figures in figures/ (SVG, PNG); ${r.tables.length} table(s) in tables/ (CSV, LaTeX)`);
      });
  },
};
