// Restoring the host on every way out of the process: normal exit, an
// uncaught exception, SIGINT, SIGTERM and SIGHUP. Restorers are synchronous
// (a process 'exit' handler cannot wait for anything) and idempotent. After a
// signal they run, our handler is removed and the signal is raised again, so
// the process still dies of it (and any other handler still sees it).
// SIGKILL cannot be caught: the journal covers it (replayed at the next start
// or by `umbra cleanup`).

type Restorer = () => void;

const restorers = new Set<Restorer>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let installed = false;

function runAll(): void {
  for (const r of [...restorers].reverse()) {
    try {
      r();
    } catch (err) {
      process.stderr.write(`umbra: restore failed: ${(err as Error).message}\n`);
    }
  }
}

const onSignal = (sig: NodeJS.Signals) => {
  runAll();
  uninstall();
  process.kill(process.pid, sig);
};
const onExit = () => runAll();
const onFatal = () => runAll();

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on('exit', onExit);
  // The monitor variant runs before Node's default crash handling without
  // changing it (an ordinary listener would swallow the crash).
  process.on('uncaughtExceptionMonitor', onFatal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const s of SIGNALS) process.off(s, onSignal);
  process.off('exit', onExit);
  process.off('uncaughtExceptionMonitor', onFatal);
}

/**
 * Restore now, on a way out no hook sees: a sweep's worker thread told to
 * abort (signals reach only the main thread, and a terminated worker runs
 * no handler).
 */
export function restoreAll(): void {
  runAll();
}

/** Run `restore` on any exit path until the returned function is called. */
export function registerRestorer(restore: Restorer): () => void {
  restorers.add(restore);
  install();
  return () => {
    restorers.delete(restore);
    if (restorers.size === 0) uninstall();
  };
}
