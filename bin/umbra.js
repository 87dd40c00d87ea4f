#!/usr/bin/env node
// Entry point of the `umbra` command; the code lives in dist/ (compiled by tsc
// during `npm ci`, or by `npm run build`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/experiments/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('umbra: dist/ is missing; run `npm ci` (or `npm run build`) in the umbra folder first\n');
  process.exit(1);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
