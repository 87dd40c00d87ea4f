// The simulator as the experiment platform: resolve the point's scenario for
// the seed (trace offsets marked "seed" depend on it) and start a SimPlatform.
import { resolveScenario, type ResolvedScenario } from '../../sim/platform/resolve-scenario.js';
import { SimPlatform } from '../../sim/platform/sim-platform.js';
import type { ScenarioSpec } from '../../sim/platform/scenario.js';
import type { PlatformRequest } from './platform-factory.js';

export async function resolveFor(scenario: ScenarioSpec, baseDir: string, seed: number): Promise<ResolvedScenario> {
  return resolveScenario(scenario, { baseDir, seed, where: 'scenario' });
}

export async function simPlatform(req: PlatformRequest): Promise<SimPlatform> {
  const resolved = await resolveFor(req.point.scenario, req.experiment.baseDir, req.seed);
  return new SimPlatform(resolved, { seed: req.seed, ...(req.futureHorizonNs > 0 ? { futureHorizonNs: req.futureHorizonNs } : {}) });
}
