import type { Command } from 'commander';
import type { CliCommand } from '../command.js';
import { formatTable, printJson } from '../output.js';

export const cleanupCommand: CliCommand = {
  register(program: Command) {
    program
      .command('cleanup')
      .description('undo what runs that died without restoring (e.g. SIGKILL) left behind: replay their journals (thaw, stop their processes, remove their cgroups and resctrl groups)')
      .option('--journal-dir <dir>', 'journal directory (default: /run/umbra, else $XDG_RUNTIME_DIR/umbra, else <tmp>/umbra-<uid>; or $UMBRA_JOURNAL_DIR)')
      .option('--json', 'print JSON')
      .action(async (opts: { journalDir?: string; json?: boolean }) => {
        const { replayLeftoverJournals } = await import('../../../runner/journal/replay.js');
        const { defaultJournalDir } = await import('../../../runner/journal/default-dir.js');
        const { defaultHostFs } = await import('../../../runner/fs/default-fs.js');
        const { nativeAddon } = await import('../../../native/addon.js');
        const dir = opts.journalDir ?? defaultJournalDir();
        const addon = nativeAddon();
        const results = replayLeftoverJournals(dir, {
          fs: defaultHostFs(),
          procRoot: '/proc',
          setAffinity: addon ? (tid, cpus) => addon.setAffinity(tid, cpus).ok : undefined,
        });
        const failed = results.filter((r) => r.outcome === 'failed');
        if (opts.json) printJson({ journalDir: dir, results });
        else if (results.length === 0) console.log(`nothing to clean up in ${dir}`);
        else {
          console.log(
            formatTable(
              ['journal', 'run', 'outcome', 'detail'],
              results.map((r) => [
                r.journal,
                r.runId ?? '?',
                r.outcome,
                r.reason ?? (r.report ? `thawed ${r.report.thawed.length}, killed ${r.report.killedPids.length}, removed ${r.report.removedDirs.length} dir(s)` : ''),
              ]),
            ),
          );
        }
        if (failed.length) throw new Error(`${failed.length} journal(s) could not be fully restored; they were kept for another try`);
      });
  },
};
