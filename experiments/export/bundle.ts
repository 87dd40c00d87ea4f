// The files `umbra export slurm|k8s SPEC --out DIR` writes into DIR.
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';

export interface ExportFile {
  /** Relative to the export folder. */
  name: string;
  text: string;
  executable: boolean;
}

export interface ExportBundle {
  files: ExportFile[];
  /** Folders to create beside the files (e.g. Slurm's log folder, which sbatch will not create). */
  folders: string[];
  /** One line per thing the user does next, as typed. */
  next: string[];
}

export interface BundleOptions {
  /** Absolute path of the spec. */
  specPath: string;
  /** Experiment name (job names). */
  name: string;
  shards: number;
  /** Jobs in the sweep (for the comments). */
  jobs: number;
  /** Absolute export folder. */
  outDir: string;
  /** CPUs per shard; also the worker threads of each `umbra run` unless `workers` is set. */
  cpusPerTask: number;
  workers?: number;
  seeds?: number;
  durationMs?: number;
}

/** The overrides every shard must share, as `umbra run` flags. */
export function overrideArgs(o: { seeds?: number; durationMs?: number }): string[] {
  return [...(o.seeds !== undefined ? ['--seeds', String(o.seeds)] : []), ...(o.durationMs !== undefined ? ['--duration', String(o.durationMs)] : [])];
}

export function writeBundle(dir: string, b: ExportBundle): string[] {
  mkdirSync(dir, { recursive: true });
  for (const f of b.folders) mkdirSync(join(dir, f), { recursive: true });
  const written: string[] = [];
  for (const f of b.files) {
    const p = join(dir, f.name);
    writeFileAtomic(p, f.text);
    chmodSync(p, f.executable ? 0o755 : 0o644);
    written.push(p);
  }
  return written;
}
