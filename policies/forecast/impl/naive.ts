// Naive (random-walk) forecast: the last observation, at every horizon. The
// reference every other model is scored against (MASE divides by its error).
import type { StepModel } from '../forecaster.js';

export class NaiveModel implements StepModel {
  private last = 0;

  observe(value: number): void {
    this.last = value;
  }

  forecast(): number {
    return this.last;
  }
}
