// Where policies come from: the engine's registry (policies/registry.ts:
// createPolicy(name, config) and the zod schema of each policy's knobs), or a
// JS module named in the spec that exports createPolicy(name, knobs) (and
// optionally knobSchemas: {name: zod schema}) — a drop-in policy that is not in
// the registry.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Policy } from '../../policies/platform.js';
import { InputError } from '../../util/errors.js';

/** What a policy module (the registry or a spec's `module`) offers. */
interface PolicyModule {
  createPolicy: (name: string, config?: unknown) => Policy;
  [k: string]: unknown;
}

interface SafeParser {
  safeParse(v: unknown): { success: true; data: unknown } | { success: false; error: unknown };
}

let registry: Promise<PolicyModule> | undefined;
const modules = new Map<string, Promise<PolicyModule>>();

/** The registry, imported on first use (it pulls in the whole engine). */
export function loadRegistry(): Promise<PolicyModule> {
  registry ??= import('../../policies/registry.js').then((m) => m as unknown as PolicyModule);
  return registry;
}

export function loadPolicyModule(absPath: string, where: string): Promise<PolicyModule> {
  let p = modules.get(absPath);
  if (!p) {
    p = (async () => {
      if (!existsSync(absPath)) throw new InputError(`policy module ${absPath} does not exist`, where);
      const mod = (await import(pathToFileURL(absPath).href)) as PolicyModule;
      if (typeof mod.createPolicy !== 'function') throw new InputError(`policy module ${absPath} does not export createPolicy(name, knobs)`, where);
      return mod;
    })();
    modules.set(absPath, p);
  }
  return p;
}

/** Names the registry offers, when it says. */
export function registryNames(mod: PolicyModule): string[] | null {
  const n = mod.POLICY_NAMES ?? mod.policyNames;
  if (Array.isArray(n)) return n.map(String);
  if (typeof n === 'function') return (n as () => string[])().map(String);
  const schemas = knobSchemaTable(mod);
  return schemas ? Object.keys(schemas) : null;
}

function knobSchemaTable(mod: PolicyModule): Record<string, SafeParser> | null {
  for (const k of ['POLICY_CONFIG_SCHEMAS', 'knobSchemas']) {
    const t = mod[k];
    if (t && typeof t === 'object') return t as Record<string, SafeParser>;
  }
  return null;
}

function knobSchema(mod: PolicyModule, name: string): SafeParser | null {
  const t = knobSchemaTable(mod);
  if (t) return t[name] ?? null;
  for (const k of ['knobSchema']) {
    const f = mod[k];
    if (typeof f === 'function') return ((f as (n: string) => SafeParser | undefined)(name) ?? null);
  }
  return null;
}

export interface PolicyRef {
  /** Name in results. */
  label: string;
  /** Registry (or module) name. */
  name: string;
  knobs: Record<string, unknown>;
  /** Absolute path of a policy module, when not from the registry. */
  module?: string;
}

/** Builds the error for a problem with a field of the policy entry ('name', 'module', 'knobs', or a knob path under it). */
export type PolicyFail = (field: (string | number)[], message: string) => Error;

/** Check a policy reference: the module loads, the name exists, the knobs fit the policy's schema. */
export async function checkPolicy(ref: PolicyRef, fail: PolicyFail): Promise<void> {
  if (ref.module) {
    let mod: PolicyModule;
    try {
      mod = await loadPolicyModule(ref.module, ref.label);
    } catch (err) {
      throw fail(['module'], err instanceof InputError ? err.message.replace(/^[^:]*: /, '') : `cannot load ${ref.module}: ${(err as Error).message}`);
    }
    const schema = knobSchema(mod, ref.name);
    if (schema) checkKnobs(schema, ref, fail);
    return;
  }
  const mod = await loadRegistry();
  const names = registryNames(mod);
  if (names && !names.includes(ref.name)) throw fail(['name'], `unknown policy "${ref.name}"; expected one of ${names.join(', ')} (or give a module)`);
  const schema = knobSchema(mod, ref.name);
  if (schema) checkKnobs(schema, ref, fail);
}

function checkKnobs(schema: SafeParser, ref: PolicyRef, fail: PolicyFail): void {
  const r = schema.safeParse(ref.knobs);
  if (!r.success) {
    const issue = (r.error as { issues?: { path?: PropertyKey[]; message?: string; code?: string; keys?: string[] }[] }).issues?.[0];
    const path = (issue?.path ?? []).map((p) => (typeof p === 'number' ? p : String(p)));
    if (issue?.code === 'unrecognized_keys' && issue.keys?.length) path.push(issue.keys[0]);
    const what = path.length ? `knob "${path.join('.')}"` : 'knobs';
    throw fail(['knobs', ...path], `policy "${ref.label}": ${what}: ${issue?.message ?? 'invalid'}`);
  }
}

export async function createPolicy(ref: PolicyRef): Promise<Policy> {
  if (ref.module) return (await loadPolicyModule(ref.module, ref.label)).createPolicy(ref.name, ref.knobs);
  return (await loadRegistry()).createPolicy(ref.name, ref.knobs);
}
