// Every policy by the name the experiments use, with the zod schema of its
// knobs. `createPolicy(name, config)` validates the config (one InputError
// naming the policy and the field) and builds the policy. The shadow
// variants are the full engine with one mechanism switched off; the switch
// is part of the variant and wins over the config.
//
//   shadow                       the full engine
//   shadow-no-warmup             reservations are active at once (no warm state, no warm actions)
//   shadow-no-echo               no echo bursts
//   shadow-no-weighting          first-class blend with fixed equal weights over its seven members
//   shadow-no-quarantine         no quarantine (the partition still isolates cores / ways / colours)
//   shadow-formula-interference  the seed's formula instead of the learned model
//   static, reactive, percentile, oracle   baselines (policies/baselines/)
import { z } from 'zod';
import type { Policy } from './platform.js';
import { InputError } from '../util/errors.js';
import { parseConfig } from './config/common.js';
import { shadowConfigSchema, type ShadowConfig } from './config/shadow-config.js';
import { ShadowPolicy } from './shadow-policy.js';
import { StaticPolicy, staticConfigSchema } from './baselines/static.js';
import { ReactivePolicy, reactiveConfigSchema } from './baselines/reactive.js';
import { PercentilePolicy, percentileConfigSchema } from './baselines/percentile.js';
import { createOraclePolicy } from './baselines/oracle.js';

export const POLICY_NAMES = [
  'shadow',
  'shadow-no-warmup',
  'shadow-no-echo',
  'shadow-no-weighting',
  'shadow-no-quarantine',
  'shadow-formula-interference',
  'static',
  'reactive',
  'percentile',
  'oracle',
] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/** The knobs of each policy, for the experiment spec to embed. */
export const POLICY_CONFIG_SCHEMAS = {
  shadow: shadowConfigSchema,
  'shadow-no-warmup': shadowConfigSchema,
  'shadow-no-echo': shadowConfigSchema,
  'shadow-no-weighting': shadowConfigSchema,
  'shadow-no-quarantine': shadowConfigSchema,
  'shadow-formula-interference': shadowConfigSchema,
  static: staticConfigSchema,
  reactive: reactiveConfigSchema,
  percentile: percentileConfigSchema,
  oracle: shadowConfigSchema,
} as const satisfies Record<PolicyName, z.ZodType>;

/** `{ name, config }` for any policy: a discriminated union the experiment spec can embed. */
export const policySpecSchema = z.discriminatedUnion(
  'name',
  POLICY_NAMES.map((name) => z.strictObject({ name: z.literal(name), config: POLICY_CONFIG_SCHEMAS[name].optional() })) as unknown as [
    z.ZodObject<{ name: z.ZodLiteral<PolicyName> }>,
    ...z.ZodObject<{ name: z.ZodLiteral<PolicyName> }>[],
  ],
);

const VARIANT_SWITCHES: Partial<Record<PolicyName, (c: ShadowConfig) => ShadowConfig>> = {
  'shadow-no-warmup': (c) => ({ ...c, mechanisms: { ...c.mechanisms, warmup: false } }),
  'shadow-no-echo': (c) => ({ ...c, mechanisms: { ...c.mechanisms, echo: false } }),
  'shadow-no-weighting': (c) => ({ ...c, mechanisms: { ...c.mechanisms, weighting: false } }),
  'shadow-no-quarantine': (c) => ({ ...c, mechanisms: { ...c.mechanisms, quarantine: false } }),
  'shadow-formula-interference': (c) => ({ ...c, mechanisms: { ...c.mechanisms, interference: 'formula' } }),
};

export function isPolicyName(name: string): name is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(name);
}

export function createPolicy(name: string, config?: unknown): Policy {
  if (!isPolicyName(name)) throw new InputError(`unknown policy "${name}"; known: ${POLICY_NAMES.join(', ')}`, 'policy');
  switch (name) {
    case 'static':
      return new StaticPolicy(name, parseConfig(staticConfigSchema, name, config));
    case 'reactive':
      return new ReactivePolicy(name, parseConfig(reactiveConfigSchema, name, config));
    case 'percentile':
      return new PercentilePolicy(name, parseConfig(percentileConfigSchema, name, config));
    case 'oracle':
      return createOraclePolicy(name, parseConfig(shadowConfigSchema, name, config));
    default: {
      const c = parseConfig(shadowConfigSchema, name, config);
      const sw = VARIANT_SWITCHES[name];
      return new ShadowPolicy({ name, config: sw ? sw(c) : c });
    }
  }
}
