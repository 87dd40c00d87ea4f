// The most useful single issue out of a zod error: for a union, the branch
// that got furthest into the value (so "policies[1].knobs" rather than
// "invalid input" at "policies[1]").
import type { ZodError } from 'zod';

export interface Issue {
  path: (string | number)[];
  message: string;
}

interface RawIssue {
  code: string;
  path: PropertyKey[];
  message: string;
  errors?: RawIssue[][];
  keys?: string[];
}

export function bestIssue(err: ZodError): Issue {
  const pick = (issue: RawIssue, prefix: PropertyKey[]): { path: PropertyKey[]; message: string } => {
    const full = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors && issue.errors.length > 0) {
      // the branch the user meant is the one with the fewest problems (then the deepest one)
      let best: { path: PropertyKey[]; message: string } | null = null;
      let bestCount = Infinity;
      for (const branch of issue.errors) {
        if (branch.length === 0) continue;
        const cand = pick(branch[0], full);
        const count = branch.reduce((n, i) => n + (i.code === 'unrecognized_keys' ? (i.keys?.length ?? 1) : 1), 0);
        if (!best || count < bestCount || (count === bestCount && cand.path.length > best.path.length)) {
          best = cand;
          bestCount = count;
        }
      }
      if (best && best.path.length > full.length) return best;
      return { path: full, message: unionMessage(issue) };
    }
    if (issue.code === 'unrecognized_keys' && issue.keys && issue.keys.length > 0) {
      // point at the unknown key itself
      return { path: [...full, issue.keys[0]], message: `unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')} (check the spelling; see the spec reference)` };
    }
    return { path: full, message: issue.message };
  };
  const r = pick(err.issues[0] as unknown as RawIssue, []);
  return { path: r.path.map((p) => (typeof p === 'number' ? p : String(p))), message: r.message };
}

function unionMessage(issue: RawIssue): string {
  const msgs = (issue.errors ?? []).map((b) => b[0]?.message).filter((m): m is string => !!m);
  const uniq = [...new Set(msgs)];
  return uniq.length ? `none of the accepted forms fits: ${uniq.join('; or ')}` : issue.message;
}
