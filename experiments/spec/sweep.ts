// Parameter points: `sweep` maps spec paths to lists of values; the points are
// the product of the lists, in the order the paths are written (the last path
// varies fastest). A path is dot-separated; a list item is picked by index
// (`workloads.0`, `workloads[0]`) or by its id / label / name
// (`workloads.kv.sloP99Ms`, `policies.shadow.knobs.leadMs`).
import { InputError } from '../../util/errors.js';

export interface SweepPoint {
  index: number;
  /** e.g. "leadMs=20,sloP99Ms=1". Empty when there is no sweep. */
  label: string;
  values: Record<string, unknown>;
}

export function sweepPoints(sweep: Record<string, unknown[]> | undefined): SweepPoint[] {
  const paths = Object.keys(sweep ?? {});
  if (paths.length === 0) return [{ index: 0, label: '', values: {} }];
  const lastSeg = paths.map((p) => splitPath(p).at(-1)!);
  const short = paths.map((p, i) => (lastSeg.filter((s) => s === lastSeg[i]).length === 1 ? String(lastSeg[i]) : p));
  const points: SweepPoint[] = [];
  const idx = paths.map(() => 0);
  for (;;) {
    const values: Record<string, unknown> = {};
    paths.forEach((p, i) => (values[p] = sweep![p][idx[i]]));
    const label = paths.map((p, i) => `${short[i]}=${formatValue(values[p])}`).join(',');
    points.push({ index: points.length, label, values });
    let k = paths.length - 1;
    while (k >= 0 && ++idx[k] >= sweep![paths[k]].length) idx[k--] = 0;
    if (k < 0) break;
  }
  return points;
}

function formatValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function splitPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of path.replace(/\[(\d+)\]/g, '.$1').split('.')) {
    if (part === '') continue;
    out.push(/^\d+$/.test(part) ? Number(part) : part);
  }
  return out;
}

/** A deep copy of `raw` with `value` at `path`; intermediate objects are created, list items must exist. */
export function setPath(raw: unknown, path: string, value: unknown): unknown {
  const root = structuredClone(raw) as Record<string, unknown>;
  const segs = splitPath(path);
  if (segs.length === 0) throw new InputError('an empty sweep path', 'sweep');
  let node: unknown = root;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const last = i === segs.length - 1;
    const where = `sweep path "${path}"`;
    if (Array.isArray(node)) {
      let j = typeof seg === 'number' ? seg : node.findIndex((e) => e === seg || (e && typeof e === 'object' && [(e as Record<string, unknown>).id, (e as Record<string, unknown>).label, (e as Record<string, unknown>).name].includes(seg)));
      if (typeof seg !== 'number' && j >= 0) {
        // prefer an exact label / id match over a name shared by several entries
        const exact = node.findIndex((e) => e && typeof e === 'object' && ((e as Record<string, unknown>).label === seg || (e as Record<string, unknown>).id === seg));
        if (exact >= 0) j = exact;
      }
      if (j < 0 || j >= node.length) throw new InputError(`no list item ${JSON.stringify(seg)} at "${segs.slice(0, i).join('.')}"`, where);
      if (last) {
        node[j] = value;
        break;
      }
      if (typeof node[j] === 'string') node[j] = { name: node[j] };
      node = node[j];
    } else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      const key = String(seg);
      if (last) {
        o[key] = value;
        break;
      }
      if (o[key] === undefined || o[key] === null) o[key] = typeof segs[i + 1] === 'number' ? [] : {};
      node = o[key];
    } else {
      throw new InputError(`"${segs.slice(0, i).join('.')}" is not an object or a list`, where);
    }
  }
  return root;
}
