// The service-demand fit of `umbra compare`, on stand-in simulators: it keeps
// only instructions it simulated, so the CPU per request it reports is theirs,
// also when the runs run out before the tolerance is met (a CI run once showed
// the fit keeping a correction it never tried).
import { describe, expect, it } from 'vitest';
import { fitServiceDemand, SERVICE_FIT_MAX_STEPS, SERVICE_FIT_TOLERANCE } from '../../experiments/compare/fit-service-demand.js';

describe('fitServiceDemand', () => {
  it('converges on a simulator whose CPU per request is affine in instructions, keeping the last instructions run', async () => {
    const tried: [number, number][] = [];
    // 10 ns per 1000 instructions plus 5 us of stalls per request
    const sim = async (instr: number) => {
      const cpu = instr * 1e-11 + 5e-6;
      tried.push([instr, cpu]);
      return cpu;
    };
    const host = 24e-6;
    const fit = await fitServiceDemand(150_000, host, 150_000 * 1e-11 + 5e-6, sim);
    expect(fit.converged).toBe(true);
    expect(fit.steps).toBe(tried.length);
    expect(fit.steps).toBeLessThanOrEqual(SERVICE_FIT_MAX_STEPS);
    expect(tried.at(-1)).toEqual([fit.instrPerRequest, fit.simCpuPerRequest]);
    expect(Math.abs(Math.log(fit.simCpuPerRequest! / host))).toBeLessThanOrEqual(SERVICE_FIT_TOLERANCE);
  });

  it('when the runs run out, it keeps the last instructions simulated and reports their CPU, not an untried correction', async () => {
    const tried: [number, number][] = [];
    // a simulator that overshoots every correction: CPU per request goes as instructions squared
    const sim = async (instr: number) => {
      const cpu = (instr / 100_000) ** 2 * 10e-6;
      tried.push([instr, cpu]);
      return cpu;
    };
    const fit = await fitServiceDemand(100_000, 40e-6, 10e-6, sim);
    expect(fit.converged).toBe(false);
    expect(fit.steps).toBe(SERVICE_FIT_MAX_STEPS);
    expect(tried).toHaveLength(SERVICE_FIT_MAX_STEPS);
    expect(tried.at(-1)).toEqual([fit.instrPerRequest, fit.simCpuPerRequest]);
  });

  it('stops at a run that completed nothing', async () => {
    const fit = await fitServiceDemand(100_000, 20e-6, 10e-6, async () => null);
    expect(fit).toEqual({ instrPerRequest: 200_000, simCpuPerRequest: null, steps: 1, converged: false });
  });
});
