// Builders of small usage tables in the public formats' exact shapes (the real
// files are GBs and need a survey or a cloud account to download), written
// to a temp folder by the tests.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `umbra-${prefix}-`));
}

export function writeText(dir: string, name: string, text: string, gzip = false): string {
  const p = join(dir, name);
  writeFileSync(p, gzip ? gzipSync(Buffer.from(text)) : text);
  return p;
}

/** Alibaba v2018 machine_usage rows: machine_id,time_stamp,cpu,mem,mem_gps,mkpi,net_in,net_out,disk_io. */
export function alibabaMachineRows(rows: { m: string; t: number; cpu: number | ''; mem?: number }[]): string {
  return rows.map((r) => `${r.m},${r.t},${r.cpu},${r.mem ?? 50},,,12.5,11.2,3`).join('\n') + '\n';
}

/** Alibaba v2018 container_usage rows (11 columns). */
export function alibabaContainerRows(rows: { c: string; m: string; t: number; cpu: number }[]): string {
  return rows.map((r) => `${r.c},${r.m},${r.t},${r.cpu},40,1.2,3.5,2,0.5,0.4,1`).join('\n') + '\n';
}

/** Azure public dataset vm_cpu_readings rows: timestamp,vmid,min,max,avg. */
export function azureRows(rows: { t: number; vm: string; avg: number }[]): string {
  return rows.map((r) => `${r.t},${r.vm},${r.avg / 2},${r.avg * 1.5},${r.avg}`).join('\n') + '\n';
}

/** Google 2011 task_usage rows (20 columns, times in microseconds). */
export function googleRows(rows: { start: number; job: number; task: number; machine: number; cpu: number }[], columns: 19 | 20 = 20): string {
  return (
    rows
      .map((r) => {
        const cells = [r.start, r.start + 300_000_000, r.job, r.task, r.machine, r.cpu, 0.01, 0.02, 0.001, 0.002, 0.03, 0.0001, 0.00001, r.cpu * 2, 0.001, 1.5, 0.004, 1, 0, r.cpu];
        return cells.slice(0, columns).join(',');
      })
      .join('\n') + '\n'
  );
}
