// The simulator with only the knobs the host has. A policy reads
// capabilities() and uses what is there: on a host without resctrl the static
// partition splits cores only and shadow throttles and echoes, while on the
// full simulator the same policies also partition the LLC (CAT), reserve bank
// colours and cap bandwidth (MBA). Comparing those runs would compare two
// different allocations, not the simulator's prediction of the host, so
// `umbra compare` by default gives the simulated platform the host's
// capabilities: a knob the host lacks is absent from capabilities() and an
// action that needs it is refused, with the reason, as the host refuses it.
import type { Action, ApplyResult, Capabilities, Platform, ResourceKind, Snapshot } from '../../policies/platform.js';

type Knob = 'cacheWays' | 'memBandwidth' | 'bankColours' | 'ioWeight' | 'freezer' | 'throttle' | 'migrate' | 'warm' | 'echo';

const RESOURCE_KNOB: Record<ResourceKind, Knob | null> = { cores: null, cacheWays: 'cacheWays', bankColours: 'bankColours', memBandwidthPct: 'memBandwidth', ioWeight: 'ioWeight' };

/** The knob an action needs (null: cores, which every platform has). */
export function knobOf(a: Action): Knob | null {
  switch (a.kind) {
    case 'reserve':
    case 'release':
      return RESOURCE_KNOB[a.grant.resource];
    case 'setCores':
      return null;
    case 'setCacheWays':
      return 'cacheWays';
    case 'setBankColours':
      return 'bankColours';
    case 'setMemBandwidth':
      return 'memBandwidth';
    case 'setIoWeight':
      return 'ioWeight';
    case 'pause':
    case 'resume':
      return 'freezer';
    case 'throttle':
      return 'throttle';
    case 'migrate':
      return 'migrate';
    case 'warm':
      return 'warm';
    case 'echo':
      return 'echo';
  }
}

function has(c: Capabilities, k: Knob): boolean {
  const v = c[k];
  return v !== null && v !== false;
}

const KNOBS: Knob[] = ['cacheWays', 'memBandwidth', 'bankColours', 'ioWeight', 'freezer', 'throttle', 'migrate', 'warm', 'echo'];

/** Knobs the simulator offers and the host does not. */
export function knobsMissingOnHost(sim: Capabilities, host: Capabilities): Knob[] {
  return KNOBS.filter((k) => has(sim, k) && !has(host, k));
}

export class HostKnobsPlatform implements Platform {
  private readonly missing: Set<Knob>;
  private readonly caps: Capabilities;

  constructor(
    private readonly inner: Platform,
    host: Capabilities,
  ) {
    const sim = inner.capabilities();
    this.missing = new Set(knobsMissingOnHost(sim, host));
    const caps: Capabilities = { ...sim, skipped: [...sim.skipped] };
    for (const k of this.missing) {
      if (k === 'cacheWays' || k === 'memBandwidth' || k === 'bankColours' || k === 'ioWeight') caps[k] = null;
      else caps[k] = false;
      caps.skipped.push({ what: k, reason: 'not on the host this simulator is compared with' });
    }
    // a limit the host sets lower holds here too
    if (host.maxWarmNs !== undefined) caps.maxWarmNs = Math.min(caps.maxWarmNs ?? Infinity, host.maxWarmNs);
    if (host.maxEchoNs !== undefined) caps.maxEchoNs = Math.min(caps.maxEchoNs ?? Infinity, host.maxEchoNs);
    this.caps = caps;
  }

  capabilities(): Capabilities {
    return this.caps;
  }

  now(): number {
    return this.inner.now();
  }

  observe(): Snapshot {
    return this.inner.observe();
  }

  advance(untilNs: number): Promise<void> | void {
    return this.inner.advance(untilNs);
  }

  apply(actions: Action[]): ApplyResult {
    const pass: Action[] = [];
    const refused: ApplyResult['refused'] = [];
    for (const a of actions) {
      const k = knobOf(a);
      if (k !== null && this.missing.has(k)) refused.push({ action: a, reason: `${k} is not available on the host this run is compared with` });
      else if (a.kind === 'warm' && this.caps.maxWarmNs !== undefined && a.budgetNs > this.caps.maxWarmNs) refused.push({ action: a, reason: `warm budget ${a.budgetNs} ns exceeds the host's ${this.caps.maxWarmNs} ns` });
      else if (a.kind === 'echo' && this.caps.maxEchoNs !== undefined && a.durationNs > this.caps.maxEchoNs) refused.push({ action: a, reason: `echo of ${a.durationNs} ns exceeds the host's ${this.caps.maxEchoNs} ns` });
      else pass.push(a);
    }
    // The inner platform applies the rest in order; refusals keep their
    // positions' relative order within each list, as a platform's do.
    const r = pass.length ? this.inner.apply(pass) : { applied: [], refused: [] };
    return { applied: r.applied, refused: [...refused, ...r.refused] };
  }
}
