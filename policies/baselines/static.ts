// Static partition: a fixed share of the cores and LLC ways for first-class
// work, split evenly between the first-class tasks (each at least its floor),
// decided once per set of tasks and never changed; second-class work shares
// the rest. The operator's classic provisioning: no prediction, no feedback.
import { z } from 'zod';
import type { Snapshot, TaskId, TaskSample } from '../platform.js';
import { floorsSchema, resourceAmountsSchema } from '../config/common.js';
import type { FirstAmounts } from '../common/partition.js';
import { activeOnly, PartitionPolicy } from './base.js';

export const staticConfigSchema = z.strictObject({
  /** Share of the machine (cores and ways) given to first-class work, split evenly between its tasks. */
  firstClassShare: z.number().gt(0, 'firstClassShare must be > 0').max(1, 'firstClassShare must be <= 1').default(0.5),
  floors: floorsSchema.default({}),
  secondClassFloor: resourceAmountsSchema.prefault({}),
});
export type StaticConfig = z.output<typeof staticConfigSchema>;

export class StaticPolicy extends PartitionPolicy {
  constructor(
    name: string,
    private readonly cfg: StaticConfig,
  ) {
    super(name, cfg);
  }

  protected amounts(_snap: Snapshot, firsts: TaskSample[], seconds: TaskSample[]): Map<TaskId, FirstAmounts> {
    const out = new Map<TaskId, FirstAmounts>(firsts.map((f) => [f.id, { task: f.id }]));
    const anySecond = seconds.length > 0;
    for (const r of this.resources()) {
      const total = Math.round(this.capacity(r) * this.cfg.firstClassShare);
      const n = Math.max(1, firsts.length);
      // even split, the remainder to the first tasks in id order
      const want = new Map(firsts.map((f, i) => [f.id, Math.floor(total / n) + (i < total % n ? 1 : 0)]));
      const fit = this.fit(r, firsts, want, anySecond);
      for (const f of firsts) {
        const a = out.get(f.id)!;
        if (r === 'cores') a.cores = activeOnly(fit.get(f.id)!);
        else a.ways = activeOnly(fit.get(f.id)!);
      }
    }
    return out;
  }
}
