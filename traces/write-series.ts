// Writes a series as the uniform `t_s,value` CSV the simulator and the
// forecasters read; numbers in their shortest round-trip form so the same
// series always gives the same bytes. Written atomically.
import { writeFileAtomic } from '../util/atomic-write.js';

export function seriesCsvText(t: ArrayLike<number>, values: ArrayLike<number>, header = 't_s,value'): string {
  const lines = [header];
  for (let i = 0; i < values.length; i++) lines.push(`${t[i]},${values[i]}`);
  return lines.join('\n') + '\n';
}

export function writeSeriesCsv(path: string, t: ArrayLike<number>, values: ArrayLike<number>): void {
  writeFileAtomic(path, seriesCsvText(t, values));
}
