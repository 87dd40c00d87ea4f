// Registry: scheduler implementations by the name used in the configuration.
import type { DramConfig } from '../dram-config.js';
import type { CommandScheduler } from '../scheduler.js';
import { FcfsScheduler } from './fcfs.js';
import { FrFcfsScheduler } from './fr-fcfs.js';

export function makeScheduler(config: DramConfig): CommandScheduler {
  switch (config.controller.scheduler) {
    case 'fr-fcfs':
      return new FrFcfsScheduler({ rowHitCap: config.controller.rowHitCap });
    case 'fcfs':
      return new FcfsScheduler();
  }
}
