// Where journals live by default. /run/umbra first: /run is a tmpfs that is
// cleared at boot exactly when cgroups and resctrl groups vanish too, so a
// journal never outlives the state it describes. Without root, the user's
// $XDG_RUNTIME_DIR (same lifetime), else the OS temp dir. UMBRA_JOURNAL_DIR
// overrides all of them.
import { accessSync, constants, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function usable(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export function defaultJournalDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.UMBRA_JOURNAL_DIR) return env.UMBRA_JOURNAL_DIR;
  const candidates = ['/run/umbra'];
  if (env.XDG_RUNTIME_DIR) candidates.push(join(env.XDG_RUNTIME_DIR, 'umbra'));
  for (const dir of candidates) if (usable(dir)) return dir;
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return join(tmpdir(), `umbra-${uid}`);
}
