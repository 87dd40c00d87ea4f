// The service-demand fit of `umbra compare`: the instructions per request that
// make a first-class service's simulated CPU per request, alone, match what
// the host measured alone. CPU per request is not proportional to
// instructions in the simulator (memory stalls per request and the request's
// CPI move with it), so one ratio step can overshoot: the ratio correction is
// repeated on simulated alone runs until within the tolerance or out of runs.
/** The fit stops once the simulated CPU per request is within this (log ratio) of the host's. */
export const SERVICE_FIT_TOLERANCE = 0.02;
export const SERVICE_FIT_MAX_STEPS = 4;

/** Simulated and host CPU per request (same unit) within SERVICE_FIT_TOLERANCE of each other. */
export function withinServiceFitTolerance(sim: number, host: number): boolean {
  return Math.abs(Math.log(sim / host)) <= SERVICE_FIT_TOLERANCE;
}

export interface ServiceDemandFit {
  /** The instructions kept: the last ones simulated. */
  instrPerRequest: number;
  /** The simulated CPU per request they gave, s (null: the run completed nothing). */
  simCpuPerRequest: number | null;
  /** Simulated runs made. */
  steps: number;
  /** Whether the last run came within the tolerance. */
  converged: boolean;
}

/**
 * hostCpu and presetCpu: CPU seconds per request on the host and in the
 * simulator with the preset's instructions. simulate(instr) runs the
 * simulated alone run and returns its CPU seconds per request.
 * The instructions kept are always ones that were simulated, so the reported
 * CPU per request is theirs; when the runs run out first, the next correction
 * is left untried rather than kept blind.
 */
export async function fitServiceDemand(
  presetInstr: number,
  hostCpu: number,
  presetCpu: number,
  simulate: (instrPerRequest: number, step: number) => Promise<number | null>,
  maxSteps = SERVICE_FIT_MAX_STEPS,
): Promise<ServiceDemandFit> {
  let next = Math.max(1, Math.round(presetInstr * (hostCpu / presetCpu)));
  let instr = next;
  let simCpu: number | null = null;
  let steps = 0;
  while (steps < maxSteps) {
    instr = next;
    steps++;
    simCpu = await simulate(instr, steps);
    if (simCpu === null || simCpu <= 0) return { instrPerRequest: instr, simCpuPerRequest: simCpu, steps, converged: false };
    if (withinServiceFitTolerance(simCpu, hostCpu)) return { instrPerRequest: instr, simCpuPerRequest: simCpu, steps, converged: true };
    next = Math.max(1, Math.round(instr * (hostCpu / simCpu)));
  }
  return { instrPerRequest: instr, simCpuPerRequest: simCpu, steps, converged: false };
}
