// The repository root, whether this code runs from the TypeScript sources
// (vitest) or from dist/ (the built CLI). Used to find files tsc does not copy
// (runner/workloads/microbench.mjs).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'runner'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot locate the umbra repository root from ' + fileURLToPath(import.meta.url));
}

export function microbenchScript(): string {
  return join(repoRoot(), 'runner', 'workloads', 'microbench.mjs');
}
