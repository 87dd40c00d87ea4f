// observe -> decide -> apply -> advance, as the experiments' loop will run it,
// recording every snapshot (test helper).
import type { Platform, Policy, Snapshot } from '../../../policies/platform.js';

export async function runLoop(platform: Platform, policy: Policy, ticks: number, periodNs: number): Promise<Snapshot[]> {
  const snaps: Snapshot[] = [];
  let next = platform.now();
  for (let i = 0; i < ticks; i++) {
    const s = platform.observe();
    if (i === 0) policy.init?.(platform.capabilities(), s);
    snaps.push(s);
    const result = platform.apply(policy.decide(s));
    policy.onApplied?.(result);
    next += periodNs;
    await platform.advance(next);
  }
  return snaps;
}
