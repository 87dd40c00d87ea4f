// The oracle: the shadow engine with perfect forecasts. Its shadows read
// Snapshot.future — the true peak demand of every task over the simulator's
// future horizon — so it holds exactly what that peak needs, reserves one
// horizon ahead, and (grace 0 by default) releases as soon as the peak falls.
// Everything else (sizing, interference, quarantine, warm-up) is the shadow
// engine's, so shadow vs oracle isolates what forecasting costs. Echo is
// pointless with the future in hand and is off. Simulator only: on a
// platform without Snapshot.future it refuses to run, with that reason.
import { ShadowPolicy } from '../shadow-policy.js';
import type { ShadowConfig } from '../config/shadow-config.js';

export function createOraclePolicy(name: string, config: ShadowConfig): ShadowPolicy {
  return new ShadowPolicy({ name, config: { ...config, mechanisms: { ...config.mechanisms, echo: false } }, oracle: true });
}
