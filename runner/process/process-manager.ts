// Starting and tracking the runner's own processes. Each is started from an
// argv array (never through a shell), in its own process group (so it and its
// children can be signalled together, and a Ctrl-C on the terminal reaches
// only the runner, which then shuts them down in order: thaw, then kill), and
// is journaled with its start time so a recycled pid is never signalled.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Journal } from '../journal/journal.js';
import { readProcStat } from './procfs.js';

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called for each stdout line (stdout is ignored when absent). */
  onLine?: (line: string) => void;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly pgid: number;
  readonly startTicks: number;
  readonly argv: readonly string[];
  readonly child: ChildProcess;
  exited: boolean;
  exitCode: number | null;
  exitSignal: string | null;
  /** Last lines of stderr, for error messages. */
  stderrTail: string[];
  /** Resolves when the process has exited. */
  readonly exit: Promise<void>;
}

export class SpawnError extends Error {
  override readonly name = 'SpawnError';
}

export class ProcessManager {
  private readonly procs: ManagedProcess[] = [];

  constructor(
    private readonly journal: Journal,
    private readonly procRoot: string,
  ) {}

  spawn(name: string, argv: string[], opts: SpawnOptions = {}): ManagedProcess {
    if (argv.length === 0 || !argv[0]) throw new SpawnError(`${name}: empty argv`);
    const child = spawn(argv[0], argv.slice(1), {
      shell: false,
      detached: true,
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', opts.onLine ? 'pipe' : 'ignore', 'pipe'],
    });
    const pid = child.pid;
    if (pid === undefined) {
      // spawn failed (ENOENT, EACCES); the 'error' event carries the detail.
      child.on('error', () => {});
      throw new SpawnError(`${name}: cannot start ${argv[0]} (not found or not executable)`);
    }
    // Journal before anything else can happen to it. A pid cannot be recycled
    // until we reap it, so the start time read now is this process's.
    const startTicks = readProcStat(this.procRoot, pid)?.startTicks ?? 0;
    this.journal.record({ op: 'spawn', pid, startTicks, pgid: pid, argv });
    let resolveExit!: () => void;
    const exit = new Promise<void>((r) => (resolveExit = r));
    const mp: ManagedProcess = {
      name, pid, pgid: pid, startTicks, argv, child,
      exited: false, exitCode: null, exitSignal: null, stderrTail: [], exit,
    };
    child.on('error', () => {});
    child.on('exit', (code, signal) => {
      mp.exited = true;
      mp.exitCode = code;
      mp.exitSignal = signal;
      resolveExit();
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      mp.stderrTail.push(...chunk.split('\n').filter(Boolean));
      if (mp.stderrTail.length > 20) mp.stderrTail.splice(0, mp.stderrTail.length - 20);
    });
    if (opts.onLine && child.stdout) {
      const rl = createInterface({ input: child.stdout });
      rl.on('line', opts.onLine);
    }
    this.procs.push(mp);
    return mp;
  }

  all(): readonly ManagedProcess[] {
    return this.procs;
  }
}
