// The oracle's shadow: told the true peak demand over the platform's future
// horizon (Snapshot.future, simulator only) every tick, it predicts exactly
// that, with no margin. Dimensions the future does not carry fall back to the
// last observation (a persistence forecast), which is what any policy knows.
import type { DemandKind, EchoResult, FutureDemand, Prediction, TaskClass, TaskId } from '../../platform.js';
import type { DemandObservation } from '../observation.js';
import type { TaskShadow } from '../shadow.js';

export class OracleShadow implements TaskShadow {
  private future: FutureDemand['peak'] = {};
  private readonly lastValue = new Map<DemandKind, number>();

  constructor(
    readonly task: TaskId,
    readonly taskClass: TaskClass,
  ) {}

  setFuture(peak: FutureDemand['peak']): void {
    this.future = peak;
  }

  observe(obs: DemandObservation): void {
    for (const [k, v] of Object.entries(obs.values) as [DemandKind, number][]) if (v !== undefined && Number.isFinite(v)) this.lastValue.set(k, v);
  }

  applyEcho(_echo: EchoResult): void {}

  predict(kind: DemandKind, _horizonNs: number): Prediction | undefined {
    const v = this.future[kind] ?? this.lastValue.get(kind);
    if (v === undefined || !Number.isFinite(v)) return undefined;
    return { mean: Math.max(0, v), upper: Math.max(0, v) };
  }

  last(kind: DemandKind): number | undefined {
    return this.lastValue.get(kind);
  }

  weights(): undefined {
    return undefined;
  }

  realtimeWeight(): undefined {
    return undefined;
  }

  uncertainty(): number {
    return 0;
  }

  echoStats(): { applied: number; meanAbsRelError: number } {
    return { applied: 0, meanAbsRelError: 0 };
  }
}
