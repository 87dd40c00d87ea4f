// A scenario written for one machine, restated for a machine with another
// core count (the calibrated description of the host `umbra compare` runs
// on): core c -> floor(c x to / from), second-class threads x to/from (at
// least 1), first-class request rates x to/from (constant, phase values and a
// trace's scaleTo alike). Both sides of the comparison then run the same
// scaled scenario.
import { parseIdList, type ScenarioSpec, type TaskSpec } from '../../sim/platform/scenario.js';

export function scaleScenario(s: ScenarioSpec, fromCores: number, toCores: number): { scenario: ScenarioSpec; notes: string[] } {
  if (fromCores === toCores) return { scenario: s, notes: [] };
  const f = toCores / fromCores;
  const mapCore = (c: number) => Math.min(toCores - 1, Math.floor((c * toCores) / fromCores));
  const tasks = s.tasks.map((t): TaskSpec => {
    const out: TaskSpec = { ...t, cores: [...new Set(parseIdList(t.cores).map(mapCore))] };
    if (t.class === 'second' && t.threads !== undefined) out.threads = Math.max(1, Math.round(t.threads * f));
    if (t.class === 'first' && t.load) {
      const l = t.load;
      if ('constant' in l) out.load = { constant: l.constant * f };
      else if ('phases' in l) out.load = { ...l, phases: l.phases.map((p) => ({ ...p, value: p.value * f })) };
      else out.load = { ...l, scaleTo: [l.scaleTo[0] * f, l.scaleTo[1] * f] };
    }
    return out;
  });
  return {
    scenario: { ...s, tasks },
    notes: [`scenario scaled from ${fromCores} to ${toCores} cores: core ids, second-class threads and first-class request rates x${+f.toFixed(4)}`],
  };
}
