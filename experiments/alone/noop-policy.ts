// A policy that never acts: runs the alone baselines (a task by itself on the
// machine, nothing to decide).
import type { Action, Policy } from '../../policies/platform.js';

export const noopPolicy: Policy = {
  name: 'none',
  decide(): Action[] {
    return [];
  },
};
