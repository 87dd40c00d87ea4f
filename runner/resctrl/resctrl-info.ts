// What resctrl offers on this host, read from its info/ directory: CAT (L3
// ways, minimum bits, CLOSIDs), MBA (granularity, minimum; percent on Intel,
// absolute units on AMD) and monitoring (CMT occupancy, MBM bandwidth).
import { join } from 'node:path';
import type { HostFs } from '../fs/host-fs.js';
import { tryReadText } from '../fs/host-fs.js';
import { popcount } from './cat-mask.js';

export interface ResctrlCat {
  /** Resource name in schemata: "L3" (or "L2" when only that exists). */
  resource: string;
  cbmMaskHex: string;
  totalWays: number;
  minWays: number;
  numClosids: number;
  shareableBitsHex: string;
  sparseAllowed: boolean;
  /** Cache domain ids from the root schemata line ("L3:0=fff;1=fff"). */
  domains: number[];
}

export interface ResctrlMba {
  granularityPct: number;
  minPct: number;
  numClosids: number;
  delayLinear: boolean;
  /** Value meaning "unthrottled": 100 on Intel (percent), larger on AMD (absolute units). */
  maxValue: number;
  domains: number[];
}

export interface ResctrlMon {
  features: string[];
  numRmids: number;
}

export interface ResctrlInfo {
  mounted: boolean;
  reason?: string;
  root: string;
  cat: ResctrlCat | null;
  catReason?: string;
  mba: ResctrlMba | null;
  mbaReason?: string;
  mon: ResctrlMon | null;
  monReason?: string;
  /** Cache/MBA domains in use; CDP (L3CODE/L3DATA) is reported but not driven. */
  cdp: boolean;
}

const num = (fs: HostFs, p: string, dflt = 0) => {
  const t = tryReadText(fs, p);
  const v = t === undefined ? NaN : Number(t.trim());
  return Number.isFinite(v) ? v : dflt;
};

/** Parse one schemata line "L3:0=ff;1=ff" into domain -> value text. */
export function parseSchemataLine(line: string): { resource: string; domains: Map<number, string> } | null {
  const m = /^\s*([A-Z0-9_]+)\s*:(.*)$/.exec(line);
  if (!m) return null;
  const domains = new Map<number, string>();
  for (const part of m[2].split(';')) {
    const kv = /^\s*(\d+)\s*=\s*([0-9a-fA-F]+)\s*$/.exec(part);
    if (kv) domains.set(Number(kv[1]), kv[2]);
  }
  return { resource: m[1], domains };
}

export function readSchemata(fs: HostFs, path: string): Map<string, Map<number, string>> {
  const out = new Map<string, Map<number, string>>();
  for (const line of (tryReadText(fs, path) ?? '').split('\n')) {
    const p = parseSchemataLine(line);
    if (p) out.set(p.resource, p.domains);
  }
  return out;
}

export function probeResctrl(fs: HostFs, root: string): ResctrlInfo {
  const base: ResctrlInfo = { mounted: false, root, cat: null, mba: null, mon: null, cdp: false };
  if (!fs.isDirectory(root)) return { ...base, reason: `${root} does not exist (kernel without resctrl, CPU without RDT/PQoS, or not mounted: mount -t resctrl resctrl ${root})` };
  if (!fs.exists(join(root, 'schemata')) || !fs.isDirectory(join(root, 'info'))) {
    return { ...base, reason: `${root} exists but resctrl is not mounted there (no schemata or info/)` };
  }
  const info = join(root, 'info');
  const schemata = readSchemata(fs, join(root, 'schemata'));
  const out: ResctrlInfo = { ...base, mounted: true };
  out.cdp = fs.isDirectory(join(info, 'L3CODE'));
  const catRes = fs.isDirectory(join(info, 'L3')) ? 'L3' : fs.isDirectory(join(info, 'L2')) ? 'L2' : null;
  if (catRes) {
    const dir = join(info, catRes);
    const cbm = (tryReadText(fs, join(dir, 'cbm_mask')) ?? '').trim();
    const ways = popcount(parseInt(cbm || '0', 16));
    out.cat = {
      resource: catRes,
      cbmMaskHex: cbm,
      totalWays: ways,
      minWays: num(fs, join(dir, 'min_cbm_bits'), 1),
      numClosids: num(fs, join(dir, 'num_closids'), 1),
      shareableBitsHex: (tryReadText(fs, join(dir, 'shareable_bits')) ?? '0').trim(),
      sparseAllowed: num(fs, join(dir, 'sparse_masks'), 0) === 1,
      domains: [...(schemata.get(catRes)?.keys() ?? [])],
    };
    if (ways === 0) {
      out.cat = null;
      out.catReason = `${join(dir, 'cbm_mask')} is empty or unreadable`;
    }
  } else {
    out.catReason = out.cdp ? 'L3 CDP is enabled (L3CODE/L3DATA); umbra drives plain L3 CAT only' : 'no info/L3 (the CPU or kernel offers no cache allocation)';
  }
  if (fs.isDirectory(join(info, 'MB'))) {
    const dir = join(info, 'MB');
    const line = schemata.get('MB');
    const values = [...(line?.values() ?? [])].map(Number).filter(Number.isFinite);
    out.mba = {
      granularityPct: num(fs, join(dir, 'bandwidth_gran'), 10),
      minPct: num(fs, join(dir, 'min_bandwidth'), 10),
      numClosids: num(fs, join(dir, 'num_closids'), 1),
      delayLinear: num(fs, join(dir, 'delay_linear'), 1) === 1,
      maxValue: values.length ? Math.max(...values) : 100,
      domains: [...(line?.keys() ?? [])],
    };
  } else {
    out.mbaReason = 'no info/MB (no memory bandwidth allocation)';
  }
  if (fs.isDirectory(join(info, 'L3_MON'))) {
    const features = (tryReadText(fs, join(info, 'L3_MON', 'mon_features')) ?? '').split(/\s+/).filter(Boolean);
    out.mon = { features, numRmids: num(fs, join(info, 'L3_MON', 'num_rmids'), 0) };
  } else {
    out.monReason = 'no info/L3_MON (no CMT/MBM monitoring)';
  }
  return out;
}
