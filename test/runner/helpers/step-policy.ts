// A small scripted policy for host tests: at given control ticks it issues
// real actions (confine cores, throttle, pause/resume, IO weight, warm, echo).
// The shadowing policy engine plugs in here later through the same interface.
import type { Action, ApplyResult, Capabilities, Policy, Snapshot } from '../../../policies/platform.js';

export interface Step {
  tick: number;
  actions: (caps: Capabilities, snap: Snapshot) => Action[];
}

export class StepPolicy implements Policy {
  readonly name = 'test-steps';
  private tick = 0;
  private caps!: Capabilities;
  readonly results: { tick: number; result: ApplyResult }[] = [];

  constructor(private readonly steps: Step[]) {}

  init(capabilities: Capabilities): void {
    this.caps = capabilities;
  }

  decide(snapshot: Snapshot): Action[] {
    const t = this.tick++;
    return this.steps.filter((s) => s.tick === t).flatMap((s) => s.actions(this.caps, snapshot));
  }

  onApplied(result: ApplyResult): void {
    this.results.push({ tick: this.tick - 1, result });
  }
}
