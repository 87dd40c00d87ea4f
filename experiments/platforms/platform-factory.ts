// Which Platform a spec runs on. `sim` builds a SimPlatform from the point's
// scenario; `hardware` is accepted by the spec schema and refused here with a
// clear message until the real-host runner is wired in (replace
// hardwarePlatform in ./hardware.ts; nothing else needs to change).
import type { Platform } from '../../policies/platform.js';
import type { PreparedExperiment, PreparedPoint } from '../spec/prepare.js';
import { simPlatform } from './sim.js';
import { hardwarePlatform } from './hardware.js';

export interface PlatformRequest {
  experiment: PreparedExperiment;
  point: PreparedPoint;
  seed: number;
  /** Fill Snapshot.future over this horizon (the oracle); 0 = no foresight. */
  futureHorizonNs: number;
}

export async function createPlatform(req: PlatformRequest): Promise<Platform> {
  if (req.experiment.spec.platform === 'hardware') return hardwarePlatform(req);
  return simPlatform(req);
}
