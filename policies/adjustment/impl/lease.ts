// The reservation state machine of one (first-class task, resource).
//
// Each tick, with want = clamp(max(wantLead, wantNear, floor), floor, cap):
//  - want above the holding: reserve the difference now (lead time = the
//    forecast horizon). The new units stay warm until they are needed: when
//    the near-term forecast needs them, or when the arrival time the
//    lead-time forecast gave for them comes due (so a near-term forecast that
//    favours persistence cannot hold back a predicted step); then they are
//    activated (added to the task's allocation).
//  - want below the holding: a grace period starts. Once the holding has been
//    above want for graceNs, it is cut to the largest want seen over the last
//    graceNs (a sliding-window maximum), never below the floor. So when demand
//    stays at or below W < holding from t0 on, the holding is at most W at the
//    first tick at or after t0 + graceNs: released within grace + one tick.
//  - warm units that are never activated for warmExpiryNs are released (the
//    prediction did not materialise) and reserving ahead of need pauses for
//    cooldownNs: a forecaster that keeps crying wolf cannot hoard.
// Without warm-up, reserved units are active at once.
import type { ResourceKind } from '../../platform.js';
import type { LeaseDecision, LeaseInput, LeaseMetrics, LeaseOptions, LeaseState, ResourceLease } from '../adjustment.js';

export class Lease implements ResourceLease {
  private reserved: number;
  private active: number;
  private releasingSince: number | undefined;
  private warmSince: number | undefined;
  private cooldownUntil = -Infinity;
  private lastNs: number | undefined;
  /** (time, want) over the last graceNs, for the sliding maximum. */
  private readonly window: { t: number; want: number }[] = [];
  /** Lead-time forecasts still to arrive: (arrival time, units). */
  private readonly due: { at: number; units: number }[] = [];
  private decision: LeaseDecision;
  readonly metrics: LeaseMetrics = { warmUnitNs: 0, reserves: 0, releases: 0, activations: 0, falseAlarms: 0 };

  constructor(
    readonly resource: ResourceKind,
    private readonly o: LeaseOptions,
    initialReserved = 0,
    initialActive = initialReserved,
  ) {
    this.reserved = initialReserved;
    this.active = Math.min(initialActive, initialReserved);
    this.decision = this.snapshot(0, 0);
  }

  get current(): LeaseDecision {
    return this.decision;
  }

  sync(reserved: number, active: number): void {
    this.reserved = reserved;
    this.active = Math.min(active, reserved);
  }

  step(inp: LeaseInput): LeaseDecision {
    const now = inp.nowNs;
    if (this.lastNs !== undefined && now > this.lastNs) this.metrics.warmUnitNs += (this.reserved - this.active) * (now - this.lastNs);
    this.lastNs = now;
    const floor = Math.max(0, inp.floor);
    const cap = Math.max(floor, inp.cap);
    const inCooldown = now < this.cooldownUntil;
    const ahead = inCooldown ? 0 : inp.wantLead;
    const want = Math.min(cap, Math.max(ahead, inp.wantNear, floor));
    // demand a past lead-time forecast said arrives by the next tick
    let arriving = 0;
    if (inp.leadNs !== undefined && inp.nearNs !== undefined) {
      while (this.due.length && this.due[0].at <= now) this.due.shift();
      for (const d of this.due) if (d.at <= now + inp.nearNs && d.units > arriving) arriving = d.units;
      if (!inCooldown) this.due.push({ at: now + inp.leadNs, units: inp.wantLead });
    }
    // (what arrives is activated out of what is held, even if the latest forecast wants less)
    const wantActiveRaw = Math.max(inp.wantNear, arriving, floor);
    let wantActive = Math.min(want, wantActiveRaw);

    // sliding window of want over (now - grace, now]
    this.window.push({ t: now, want });
    while (this.window.length && this.window[0].t <= now - this.o.graceNs) this.window.shift();

    let newlyWarm = 0;
    if (want > this.reserved) {
      const before = this.reserved;
      this.reserved = want;
      this.metrics.reserves++;
      this.releasingSince = undefined;
      if (this.o.warmup) newlyWarm = want - Math.max(before, Math.min(want, wantActiveRaw), this.active);
    } else if (want < this.reserved) {
      this.releasingSince ??= now;
      if (now - this.releasingSince >= this.o.graceNs) {
        let peak = floor;
        for (const e of this.window) if (e.want > peak) peak = e.want;
        if (peak < this.reserved) {
          this.reserved = peak;
          this.metrics.releases++;
        }
        if (this.reserved <= want) this.releasingSince = undefined;
      }
    } else {
      this.releasingSince = undefined;
    }
    if (this.reserved < floor) this.reserved = floor;

    // activation
    wantActive = Math.min(this.reserved, Math.max(wantActive, Math.min(arriving, this.reserved)));
    const beforeActive = this.active;
    if (!this.o.warmup) this.active = this.reserved;
    else this.active = Math.min(this.reserved, Math.max(this.active, wantActive, floor));
    if (this.active > beforeActive) this.metrics.activations++;

    // warm units that never got used
    if (this.active < this.reserved) {
      this.warmSince ??= now;
      if (now - this.warmSince >= this.o.warmExpiryNs) {
        this.reserved = Math.max(this.active, floor);
        this.metrics.falseAlarms++;
        this.metrics.releases++;
        this.cooldownUntil = now + this.o.cooldownNs;
        this.warmSince = undefined;
        this.due.length = 0;
        newlyWarm = 0;
      }
    } else this.warmSince = undefined;

    this.decision = this.snapshot(Math.max(0, Math.min(newlyWarm, this.reserved - this.active)), want);
    return this.decision;
  }

  commit(grantReserved: number, nowNs: number): LeaseDecision {
    if (grantReserved < this.reserved) {
      const lost = this.reserved - Math.max(0, grantReserved);
      this.reserved = Math.max(0, grantReserved);
      this.active = Math.min(this.active, this.reserved);
      this.decision = this.snapshot(Math.max(0, Math.min(this.decision.newlyWarm - lost, this.reserved - this.active)), this.decision.wanted);
      if (this.active === this.reserved) this.warmSince = undefined;
    }
    void nowNs;
    return this.decision;
  }

  private snapshot(newlyWarm: number, wanted: number): LeaseDecision {
    return { reserved: this.reserved, active: this.active, newlyWarm, state: this.state(), wanted };
  }

  private state(): LeaseState {
    if (this.releasingSince !== undefined) return 'releasing';
    if (this.active < this.reserved) return 'reserved';
    if (this.reserved > 0) return 'active';
    return 'idle';
  }
}
