// Interference prediction: the seed's formula term by term, the learned
// model's plain-JS inference against tfjs, online learning, the dataset
// format's errors, the seed dataset and the training command.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formulaTerms, FormulaPredictor } from '../../policies/interference/impl/formula.js';
import { LearnedPredictor } from '../../policies/interference/impl/learned.js';
import { Mlp, mlpWeightsCached, parseMlpWeights, type MlpWeights } from '../../policies/interference/mlp.js';
import { MODEL_FEATURE_NAMES, MODEL_INPUTS, PARTITIONED_SHARING, PROFILE_LEN, type InterferenceInput } from '../../policies/interference/features.js';
import { parseDataset } from '../../policies/interference/dataset.js';
import { generateSeedDataset, formatDataset } from '../../policies/interference/seed-dataset.js';
import { loadTfjs } from '../../policies/forecast/lstm/tfjs-backend.js';
import { rngFor } from '../../util/rng.js';
import { umbra as runCli } from './cli.js';

const prof = (o: Partial<Record<'cpu' | 'memBw' | 'llcOcc' | 'llcAccess' | 'missRatio' | 'io' | 'readFrac' | 'seq', number>>) =>
  Float64Array.from([o.cpu ?? 0, o.memBw ?? 0, o.llcOcc ?? 0, o.llcAccess ?? 0, o.missRatio ?? 0, o.io ?? 0, o.readFrac ?? 0.5, o.seq ?? 0.5]);

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'umbra-interf-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('formula predictor', () => {
  it('computes 0.6 overlap + 0.3 similarity + 0.1 load as defined', () => {
    const first = prof({ cpu: 0.2, memBw: 0.3, llcAccess: 0.1, readFrac: 0.8, seq: 0.2 });
    const second = prof({ cpu: 0.1, memBw: 0.35, llcAccess: 0.4, readFrac: 0.6, seq: 0.9 });
    const t = formulaTerms({ first, second, load: 0.5, sharing: Float64Array.from([0, 0, 1, 1]) });
    // by hand: memBw sens = min(1, 0.3/0.1) = 1, press = min(1, 0.35/0.7) = 0.5 -> 0.5; cpu, llc not shared; io 0
    expect(t.perResource).toEqual({ cpu: 0, llc: 0, memBw: 0.5, io: 0 });
    const a = [0.2, 0.3, 0.1, 0];
    const b = [0.1, 0.35, 0.4, 0];
    const dot = a.reduce((s, x, i) => s + x * b[i], 0);
    const cos = dot / Math.hypot(...a) / Math.hypot(...b);
    const sim = 0.5 * cos + 0.25 * (1 - 0.2) + 0.25 * (1 - 0.7);
    expect(t.similarity).toBeCloseTo(sim, 12);
    expect(t.score).toBeCloseTo(0.6 * 0.5 + 0.3 * sim + 0.1 * 0.5, 12);
  });

  it('is 50% likely exactly at the priority-adjusted threshold, names the shared resource as the reason', () => {
    const p = new FormulaPredictor({ threshold: 0.5, priorityWeight: 0.05, priorityGap: 1 });
    const inp: InterferenceInput = { first: prof({ memBw: 0.3 }), second: prof({ memBw: 0.35 }), load: 0.5, sharing: Float64Array.from([0, 0, 1, 1]) };
    const s = formulaTerms(inp).score;
    const v = new FormulaPredictor({ threshold: s + 0.05, priorityWeight: 0.05, priorityGap: 1 }).predict(inp);
    expect(v.probability).toBeCloseTo(0.5, 12);
    expect(v.reason).toBe('memBw');
    expect(p.predict({ ...inp, sharing: Float64Array.from([0, 0, 0, 1]) }).probability).toBeLessThan(v.probability);
  });

  it('more second-class pressure on a shared resource never lowers the probability', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 16, maxLength: 16 }), fc.double({ min: 0, max: 0.5, noNaN: true }), (v, extra) => {
        const first = Float64Array.from(v.slice(0, 8));
        const second = Float64Array.from(v.slice(8));
        const more = Float64Array.from(second);
        more[1] = Math.min(1, more[1] + extra);
        const f = new FormulaPredictor();
        const base = { first, load: 0.3, sharing: Float64Array.from([0, 0, 1, 1]) };
        // overlap is monotone in the pressure; similarity may move, so compare overlap terms
        expect(formulaTerms({ ...base, second: more }).perResource.memBw).toBeGreaterThanOrEqual(formulaTerms({ ...base, second }).perResource.memBw);
        expect(f.pairwise(first, 0.3, base.sharing, [second])[0]).toBeCloseTo(f.probability({ ...base, second }), 12);
      }),
      { seed: 21, numRuns: 200 },
    );
  });
});

function randomWeights(hidden: number, seed: number): MlpWeights {
  const rng = rngFor(seed, 'test/mlp');
  const arr = (n: number, s: number) => Array.from({ length: n }, () => (2 * rng.next() - 1) * s);
  return { format: 'umbra-interference-mlp-v1', inputs: MODEL_INPUTS, hidden, kernel1: arr(MODEL_INPUTS * hidden, 0.7), bias1: arr(hidden, 0.3), kernel2: arr(hidden, 0.6), bias2: arr(1, 0.2), residualSigma: 0.1, featureOrder: [...MODEL_FEATURE_NAMES], training: {} };
}

describe('learned predictor', () => {
  it('plain-JS inference matches tfjs predict() within 1e-5 (shipped and random weights)', async () => {
    const tf = await loadTfjs();
    for (const w of [mlpWeightsCached(), randomWeights(16, 1), randomWeights(5, 2)]) {
      const model = tf.sequential();
      model.add(tf.layers.dense({ units: w.hidden, activation: 'tanh', inputShape: [MODEL_INPUTS] }));
      model.add(tf.layers.dense({ units: 1 }));
      model.setWeights([tf.tensor2d(w.kernel1, [MODEL_INPUTS, w.hidden]), tf.tensor1d(w.bias1), tf.tensor2d(w.kernel2, [w.hidden, 1]), tf.tensor1d(w.bias2)]);
      const rng = rngFor(5, `x/${w.hidden}`);
      const n = 64;
      const x = new Float32Array(n * MODEL_INPUTS).map(() => rng.next());
      const expected = (model.predict(tf.tensor2d(x, [n, MODEL_INPUTS])) as import('@tensorflow/tfjs').Tensor).dataSync();
      const mlp = new Mlp(w);
      const base = new Float64Array(w.hidden);
      for (let i = 0; i < n; i++) {
        const xi = x.subarray(i * MODEL_INPUTS, (i + 1) * MODEL_INPUTS);
        expect(Math.abs(mlp.forward(xi) - expected[i])).toBeLessThan(1e-5);
        // the batched path: shared part once, the second-class features added
        mlp.partial(xi, PROFILE_LEN, PROFILE_LEN, base);
        expect(Math.abs(mlp.forwardFrom(base, PROFILE_LEN, xi.subarray(PROFILE_LEN, 2 * PROFILE_LEN)) - expected[i])).toBeLessThan(1e-5);
      }
      model.dispose();
    }
  });

  it('the shipped model says a memory-heavy co-runner on shared DRAM is likelier to interfere than an idle one, and blames memory', () => {
    const p = new LearnedPredictor();
    const first = prof({ cpu: 0.2, memBw: 0.1, llcOcc: 0.2, llcAccess: 0.2, missRatio: 0.3, readFrac: 0.8, seq: 0.3 });
    const heavy = p.predict({ first, second: prof({ cpu: 0.25, memBw: 0.6, llcOcc: 0.4, llcAccess: 0.9, missRatio: 0.95, readFrac: 0.7, seq: 0.9 }), load: 0.7, sharing: PARTITIONED_SHARING });
    const idle = p.predict({ first, second: prof({ cpu: 0.01 }), load: 0.2, sharing: PARTITIONED_SHARING });
    expect(heavy.probability).toBeGreaterThan(0.9);
    expect(idle.probability).toBeLessThan(0.5);
    expect(heavy.reason).toBe('memBw');
    expect(p.pairwise(first, 0.7, PARTITIONED_SHARING, [prof({ cpu: 0.01 })])[0]).toBeCloseTo(p.probability({ first, second: prof({ cpu: 0.01 }), load: 0.7, sharing: PARTITIONED_SHARING }), 9);
  });

  it('learns online: on a platform whose slowdowns differ from the prior, its error falls', () => {
    const p = new LearnedPredictor({ learningRate: 0.02 });
    const rng = rngFor(9, 'test/online');
    // this "platform": IO sharing hurts a lot, memory not at all (unlike the prior)
    const truth = (inp: InterferenceInput) => 1 + 1.5 * inp.first[5] * inp.second[5];
    const sample = (): InterferenceInput => ({ first: Float64Array.from({ length: 8 }, () => rng.next()), second: Float64Array.from({ length: 8 }, () => rng.next()), load: rng.next(), sharing: PARTITIONED_SHARING });
    const test = Array.from({ length: 200 }, sample);
    const err = () => test.reduce((s, x) => s + Math.abs(Math.log(p.expectedSlowdown(x)) - Math.log(truth(x))), 0) / test.length;
    const before = err();
    for (let i = 0; i < 4000; i++) {
      const x = sample();
      p.learn(x, truth(x));
    }
    expect(err()).toBeLessThan(0.5 * before);
    expect(p.samplesLearned).toBe(4000);
  });

  it('rejects malformed weights with the field at fault', () => {
    expect(() => parseMlpWeights('{"format":"umbra-interference-mlp-v1","inputs":3}', 'w.json')).toThrow(/w\.json: field "inputs" must be 21/);
    expect(() => parseMlpWeights('{', 'w.json')).toThrow(/not JSON/);
  });
});

describe('dataset format', () => {
  const good = '{"first":[0,0,0,0,0,0,0.5,0.5],"second":[0.1,0.2,0,0,0,0,0.5,0.5],"load":0.3,"slowdown":1.2}';

  it('parses JSON lines, skipping blank lines; sharing defaults to the partitioned case', () => {
    const rows = parseDataset(`${good}\n\n${good.replace('1.2', '1.5')}\n`, 'd.jsonl');
    expect(rows).toHaveLength(2);
    expect(rows[1].slowdown).toBe(1.5);
    expect(rows[0].sharing).toBeUndefined();
  });

  it('names file:line:column and the field at fault', () => {
    expect(() => parseDataset(`${good}\n{"first": [1,2}`, 'd.jsonl')).toThrow(/d\.jsonl:2:\d+: not a JSON object/);
    expect(() => parseDataset(`${good}\n${good.replace('[0.1,0.2,0,0,0,0,0.5,0.5]', '[0.1]')}`, 'd.jsonl')).toThrow(/d\.jsonl:2:1: field "second": expected 8 features/);
    expect(() => parseDataset(good.replace('1.2', '-1'), 'd.jsonl')).toThrow(/d\.jsonl:1:1: field "slowdown"/);
    expect(() => parseDataset(good.replace('"load":0.3', '"load":0.3,"extra":1'), 'd.jsonl')).toThrow(/d\.jsonl:1:1: .*extra/);
    expect(() => parseDataset('\n\n', 'd.jsonl')).toThrow(/no observations/);
  });

  it('the seed dataset is deterministic for a seed, parses back, and depends on the seed', () => {
    const a = formatDataset(generateSeedDataset(1, 50));
    expect(formatDataset(generateSeedDataset(1, 50))).toBe(a);
    expect(formatDataset(generateSeedDataset(2, 50))).not.toBe(a);
    const rows = parseDataset(a, 'seed');
    expect(rows).toHaveLength(50);
    for (const r of rows) expect(r.slowdown).toBeGreaterThan(0.85);
  });
});

describe('policy-train-interference', () => {
  it('reproduces its weights byte for byte from a dataset and a seed; another seed changes them; bad input exits 2', async () => {
    const data = join(dir, 'd.jsonl');
    writeFileSync(data, formatDataset(generateSeedDataset(3, 300)));
    const run = (seed: number, out: string) => runCli(['policy-train-interference', '--dataset', data, '--seed', String(seed), '--epochs', '4', '--hidden', '6', '--out', out, '--json']);
    const [a, b, c] = await Promise.all([run(1, join(dir, 'a.json')), run(1, join(dir, 'b.json')), run(2, join(dir, 'c.json'))]);
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout).training.seed).toBe(1);
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe(readFileSync(join(dir, 'b.json'), 'utf8'));
    expect(readFileSync(join(dir, 'c.json'), 'utf8')).not.toBe(readFileSync(join(dir, 'a.json'), 'utf8'));
    parseMlpWeights(readFileSync(join(dir, 'a.json'), 'utf8'), 'a.json');
    writeFileSync(join(dir, 'bad.jsonl'), '{"first":[1]}\n');
    const bad = await runCli(['policy-train-interference', '--dataset', join(dir, 'bad.jsonl'), '--out', join(dir, 'x.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.jsonl:1:1: field "first"/);
  }, 120_000);
});
