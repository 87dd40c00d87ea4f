// Replay saved cases (a shrunk counterexample from properties.test.ts, pasted
// into test/policies/cases/<name>.json as {"why": ..., "case": ...}) through
// the same laws, for every policy.
import { describe, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { POLICY_NAMES } from '../../policies/registry.js';
import { checkCase } from './laws.js';
import type { Case } from './scenarios.js';

const dir = fileURLToPath(new URL('./cases/', import.meta.url));

describe('saved cases', () => {
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    const { case: c } = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { why: string; case: Case };
    for (const name of POLICY_NAMES) it(`${f}: ${name}`, () => checkCase(name, c));
  }
});
