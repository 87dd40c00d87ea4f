// Locating a program on PATH without a shell (no `which`, no `sh -c`).
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

export function findExecutable(name: string, pathEnv = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'): string | null {
  const candidates = isAbsolute(name) || name.includes('/') ? [name] : pathEnv.split(delimiter).filter(Boolean).map((d) => join(d, name));
  // sbin dirs are often off a non-root PATH but hold redis-server on some distros.
  if (!isAbsolute(name) && !name.includes('/')) for (const d of ['/usr/sbin', '/sbin']) candidates.push(join(d, name));
  for (const c of candidates) {
    try {
      if (!statSync(c).isFile()) continue;
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return null;
}
