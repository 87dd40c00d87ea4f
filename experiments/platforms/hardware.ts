// Placeholder for `platform: hardware`: the real-host runner (runner/,
// HostPlatform) exists, but starting a spec's services and jobs on this host
// from an experiment spec is the runner owner's to wire. Until then a run says
// so plainly; validation of such specs works.
import { UnsupportedError } from '../../util/errors.js';
import type { Platform } from '../../policies/platform.js';
import type { PlatformRequest } from './platform-factory.js';

export async function hardwarePlatform(_req: PlatformRequest): Promise<Platform> {
  throw new UnsupportedError(
    'platform "hardware" is not supported by umbra run yet: the spec is valid, but running it on this host is not wired to the real-host runner (runner/HostPlatform); use platform: sim',
  );
}
