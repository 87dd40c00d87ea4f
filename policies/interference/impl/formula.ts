// The seed's interference score, with each term made concrete:
//
//   score = 0.6 * overlap + 0.3 * patternSimilarity + 0.1 * systemLoad
//
//   overlap            max over resources r of  sharing_r * sens_r * press_r
//       sens_r  = min(1, first_r / sensitivityRef)       the first-class task uses r
//                 (for the LLC: its occupancy)
//       press_r = min(1, second_r / max(1 - first_r, 0.05))  the other could fill
//                 what the first leaves of r (for the LLC: its access traffic)
//     the maximising r is the reason.
//   patternSimilarity  0.5 * cosine of the stress vectors [cpu, memBw, llcAccess, io]
//                      + 0.25 * (1 - |readFrac difference|) + 0.25 * (1 - |seq difference|)
//   systemLoad         max(CPU utilisation, DRAM bandwidth utilisation)
//
// Priority levels: the threshold drops by priorityWeight per priority level the
// first-class task stands above the other (first = 1, second = 0 by default).
// probability = logistic((score - threshold) / 0.05): 0.5 at the threshold.
import { F_CPU, F_IO, F_LLCACCESS, F_LLCOCC, F_MEMBW, F_READ, F_SEQ, REASONS, type InterferenceInput, type InterferenceReason, type ProfileVector } from '../features.js';
import { logistic, type InterferencePredictor, type InterferenceVerdict } from '../predictor.js';

export interface FormulaOptions {
  threshold: number;
  sensitivityRef: number;
  /** Priority gap (first minus second); the threshold drops by priorityWeight per level. */
  priorityGap: number;
  priorityWeight: number;
}

export const FORMULA_DEFAULTS: FormulaOptions = { threshold: 0.5, sensitivityRef: 0.1, priorityGap: 1, priorityWeight: 0.05 };

export interface FormulaTerms {
  overlap: number;
  perResource: Record<InterferenceReason, number>;
  similarity: number;
  load: number;
  score: number;
}

export function formulaTerms(inp: InterferenceInput, sensitivityRef = FORMULA_DEFAULTS.sensitivityRef): FormulaTerms {
  const f = inp.first;
  const s = inp.second;
  const pairs: Record<InterferenceReason, [number, number, number]> = {
    cpu: [f[F_CPU], s[F_CPU], f[F_CPU]],
    llc: [f[F_LLCOCC], s[F_LLCACCESS], f[F_LLCOCC]],
    memBw: [f[F_MEMBW], s[F_MEMBW], f[F_MEMBW]],
    io: [f[F_IO], s[F_IO], f[F_IO]],
  };
  const perResource = { cpu: 0, llc: 0, memBw: 0, io: 0 } as Record<InterferenceReason, number>;
  let overlap = 0;
  REASONS.forEach((r, i) => {
    const [fUse, sUse, fLeft] = pairs[r];
    const sens = Math.min(1, fUse / sensitivityRef);
    const press = Math.min(1, sUse / Math.max(1 - fLeft, 0.05));
    const o = Math.max(0, inp.sharing[i]) * sens * press;
    perResource[r] = o;
    if (o > overlap) overlap = o;
  });
  const a = [f[F_CPU], f[F_MEMBW], f[F_LLCACCESS], f[F_IO]];
  const b = [s[F_CPU], s[F_MEMBW], s[F_LLCACCESS], s[F_IO]];
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < 4; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const cos = na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
  const similarity = 0.5 * cos + 0.25 * (1 - Math.abs(f[F_READ] - s[F_READ])) + 0.25 * (1 - Math.abs(f[F_SEQ] - s[F_SEQ]));
  const load = Math.max(0, Math.min(1, inp.load));
  return { overlap, perResource, similarity, load, score: 0.6 * overlap + 0.3 * similarity + 0.1 * load };
}

export class FormulaPredictor implements InterferencePredictor {
  readonly name = 'formula' as const;
  private readonly o: FormulaOptions;

  constructor(opts: Partial<FormulaOptions> = {}) {
    this.o = { ...FORMULA_DEFAULTS, ...opts };
  }

  effectiveThreshold(priorityGap = this.o.priorityGap): number {
    return this.o.threshold - this.o.priorityWeight * priorityGap;
  }

  predict(inp: InterferenceInput): InterferenceVerdict {
    const t = formulaTerms(inp, this.o.sensitivityRef);
    let reason: InterferenceReason = 'memBw';
    let best = -1;
    for (const r of REASONS) {
      if (t.perResource[r] > best) {
        best = t.perResource[r];
        reason = r;
      }
    }
    return { probability: logistic((t.score - this.effectiveThreshold(inp.priorityGap)) / 0.05), reason, score: t.score };
  }

  probability(inp: InterferenceInput): number {
    return logistic((formulaTerms(inp, this.o.sensitivityRef).score - this.effectiveThreshold(inp.priorityGap)) / 0.05);
  }

  pairwise(first: ProfileVector, load: number, sharing: Float64Array, seconds: readonly ProfileVector[]): Float64Array {
    const out = new Float64Array(seconds.length);
    const inp: InterferenceInput = { first, second: first, load, sharing };
    for (let i = 0; i < seconds.length; i++) {
      inp.second = seconds[i];
      out[i] = this.probability(inp);
    }
    return out;
  }

  learn(): void {}

  /** The formula predicts no magnitude; map its score linearly to a nominal slowdown (score 1 -> 2x). */
  expectedSlowdown(inp: InterferenceInput): number {
    return 1 + formulaTerms(inp, this.o.sensitivityRef).overlap;
  }
}
