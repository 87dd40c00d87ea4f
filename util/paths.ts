// Locate files shipped with umbra whether running from TypeScript sources
// (vitest) or from compiled dist/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The umbra package root (the folder holding package.json). */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'policies'))) {
      root = dir;
      return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot locate the umbra package root');
    dir = up;
  }
}

/** Path of a file shipped in the package, e.g. shipped('sim/machine/machines/default.yaml'). */
export function shipped(relPath: string): string {
  return join(packageRoot(), relPath);
}
