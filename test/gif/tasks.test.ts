/**
 * The tasks end to end on small problems: class removal on overlapping Gaussian blobs (GIF against
 * FIF and PIF by F1, retraining as ground truth) and backdoor correction on a slice of MNIST.
 */
import { describe, expect, it } from 'vitest';
import { Rng, fromVector, toVector } from '../../engine/index.js';
import { argmaxRows, gaussianBlobs, mlp, stratifiedSplit, subset, train } from '../../nn/index.js';
import { backdoor, loadMnist } from '../../experiments/index.js';
import { correctBackdoor, removeClass, type Recipe, type TaskResult } from '../../experiments/index.js';
import { formatTable, markdownReport, resultJson, sweepChart } from '../../experiments/index.js';

const f1 = (r: TaskResult, method: string): number => r.rows.find((row) => row.method === method)!.test.f1!;

describe('class removal on overlapping Gaussian blobs (8 features, 4 classes, MLP 8-32-4)', () => {
  // Observed on this problem (10% selection by gradient score, step chosen on validation):
  // GIF ≥ FIF and GIF ≥ PIF on each of the three seeds, by a wide margin on average.
  const recipe: Recipe = { epochs: 30, lr: 0.05, momentum: 0.9, batchSize: 32, weightDecay: 1e-2, seed: 0, warmEpochs: 5 };
  const results = [0, 1, 2].map((seed) => {
    const data = gaussianBlobs({ n: 600, classes: 4, features: 8, separation: 1.5, seed });
    const { first: pool, second: test } = stratifiedSplit(data, 0.3, seed);
    const { first: trainSet, second: validation } = stratifiedSplit(pool, 0.2, seed);
    const net = mlp([8, 32, 4], 'tanh');
    const { params } = train(net, net.init(new Rng(0), 'float64'), trainSet, { ...recipe });
    const setup = { net, params, train: trainSet, validation, test, removedClass: 0, recipe };
    const settings = { ratio: 0.1, selector: 'gradient', hessianSamples: 10_000, krylovIterations: 300, tolerance: 1e-8, sweepRatios: [0.05, 0.2] } as const;
    return { setup, settings, result: removeClass(setup, { ...settings, methods: ['GIF-CGLS', 'FIF', 'PIF', 'GA'] }) };
  });

  it('every edit removes the class better than the original model; retraining forgets it', () => {
    for (const { result: r } of results) {
      expect(f1(r, 'retrain')).toBeGreaterThan(0.9);
      expect(f1(r, 'original')).toBeLessThan(0.3);
      expect(f1(r, 'GIF-CGLS')).toBeGreaterThan(f1(r, 'original'));
    }
  });

  it('GIF ranks above FIF and PIF by test F1 (each seed, and on average)', () => {
    const mean = (m: string) => results.reduce((s, { result: r }) => s + f1(r, m), 0) / results.length;
    for (const { result: r } of results) {
      expect(f1(r, 'GIF-CGLS')).toBeGreaterThanOrEqual(f1(r, 'FIF'));
      expect(f1(r, 'GIF-CGLS')).toBeGreaterThanOrEqual(f1(r, 'PIF'));
    }
    expect(mean('GIF-CGLS')).toBeGreaterThan(mean('FIF') + 0.1);
    expect(mean('GIF-CGLS')).toBeGreaterThan(mean('PIF') + 0.1);
    expect(mean('GIF-CGLS')).toBeGreaterThan(mean('retrain') - 0.05);
  });

  it('GA is the selection-only, zero-HVP control: g_J, no residual', () => {
    const r = results[0]!.result;
    const ga = r.rows.find((row) => row.method === 'GA')!;
    expect(ga.hvps).toBe(0);
    expect(ga.residual).toBeUndefined();
    expect(ga.parameters).toBe(r.selection.indices.length);
    const delta = r.deltas.GA!;
    const inJ = new Set(r.selection.indices);
    delta.forEach((d, i) => { if (!inJ.has(i)) expect(d).toBe(0); });
    expect(delta.some((d) => d !== 0)).toBe(true);
  });

  it("an edit's seconds include its validation step search; the sweep's too", () => {
    for (const { result: r } of results) {
      for (const row of r.rows.filter((x) => x.plain)) {
        expect(row.searchSeconds!).toBeGreaterThan(0);
        expect(row.seconds).toBeGreaterThanOrEqual(row.searchSeconds! + r.selectionSeconds);
      }
      for (const p of r.sweep) {
        expect(p.searchSeconds).toBeGreaterThan(0);
        expect(p.seconds).toBeGreaterThanOrEqual(p.searchSeconds);
      }
    }
  });

  it("each edit's validation score is the validation F1 at its chosen step, the best of the grid", () => {
    const { setup, result: r } = results[0]!;
    const theta = toVector(setup.params);
    const thetaNorm = Math.hypot(...theta);
    const validationF1 = (delta: Float64Array, length: number): number => {
      const size = Math.hypot(...delta);
      const p = fromVector(theta.map((v, i) => v + (length * delta[i]!) / size), setup.params);
      const pred = argmaxRows(setup.net.apply(p, setup.validation.x));
      const retained = setup.validation.y.map((y, i) => (y !== 0 && pred[i] === y ? 1 : 0)).reduce((a, b) => a + b, 0) / setup.validation.y.filter((y) => y !== 0).length;
      const removed = setup.validation.y.map((y, i) => (y === 0 && pred[i] === 0 ? 1 : 0)).reduce((a, b) => a + b, 0) / setup.validation.y.filter((y) => y === 0).length;
      return (2 * (1 - removed) * retained) / (1 - removed + retained);
    };
    // the search follows the validation split in chunks and drops lengths that cannot win; in
    // chunks of 8 it drops many, and must still choose what scoring every length would
    const { setup: s0, settings } = results[0]!;
    const chunked = removeClass({ ...s0, groundTruth: r.groundTruth }, { ...settings, methods: ['GIF-CGLS', 'FIF', 'PIF', 'GA'], searchBatchSize: 8 });
    for (const row of r.rows.filter((x) => x.plain)) {
      const delta = r.deltas[row.method]!;
      expect(row.validationScore).toBeCloseTo(validationF1(delta, row.step!), 12);
      const scores = r.settings.stepGrid.map((k) => validationF1(delta, k * thetaNorm));
      // the first length with the best score (up to rounding between the line and a fresh pass)
      const first = scores.findIndex((v) => v >= Math.max(...scores) - 1e-12);
      expect(row.step).toBeCloseTo(r.settings.stepGrid[first]! * thetaNorm, 12);
      const again = chunked.rows.find((x) => x.method === row.method)!;
      expect([again.step, again.validationScore]).toEqual([row.step, row.validationScore]);
    }
    expect(() => removeClass(s0, { searchBatchSize: 0 })).toThrow(/searchBatchSize must be a positive integer, got 0/);
    for (const row of r.rows.filter((x) => !x.plain)) expect(row.validationScore).toBeUndefined();
    for (const p of r.sweep) expect(p.validationScore).toBeGreaterThan(0);
    expect(formatTable(r)).toContain('val. F1');
  });

  it('a ground truth passed back in is reused: same retrain rows, no retraining', () => {
    const { setup, settings, result: first } = results[0]!;
    const again = removeClass({ ...setup, groundTruth: first.groundTruth }, { ...settings, methods: ['GA'], sweepRatios: [] });
    expect(again.groundTruth).toBe(first.groundTruth);
    expect(again.retrainSeconds).toBe(first.retrainSeconds);
    for (const m of ['retrain', 'retrain-warm']) {
      expect(again.rows.find((x) => x.method === m)).toEqual(first.rows.find((x) => x.method === m));
    }
    const other = mlp([8, 16, 4], 'tanh').init(new Rng(0), 'float64');
    expect(() => removeClass({ ...setup, groundTruth: { ...first.groundTruth, scratch: other } }, { ...settings, methods: ['GA'], sweepRatios: [] }))
      .toThrow(/scratch ground truth has \d+ parameters/);
  });

  it('flags a chosen step at an end of the grid, in the rows and in the table', () => {
    const { setup, settings, result: first } = results[0]!;
    // a grid far too short for any edit to remove the class: every method picks its last step
    const short = removeClass({ ...setup, groundTruth: first.groundTruth }, { ...settings, methods: ['GIF-CGLS', 'GA'], sweepRatios: [], stepGrid: [1e-4, 2e-4, 4e-4] });
    const thetaNorm = Math.hypot(...toVector(setup.params));
    for (const row of short.rows.filter((x) => x.plain)) {
      expect(row.stepAtEdge).toBe(true);
      // predictions barely move on this grid, so the scores tie and the first length is kept
      expect([1e-4, 4e-4].some((k) => Math.abs(row.step! - k * thetaNorm) < 1e-12)).toBe(true);
    }
    expect(formatTable(short)).toContain('†');
    expect(formatTable(short)).toContain('the best step may lie outside it');
    // the default grid reaches 11‖θ*‖: here every chosen step lies inside it
    for (const row of first.rows.filter((x) => x.plain)) expect(row.stepAtEdge).toBe(false);
    expect(formatTable(first)).not.toContain('†');
  });

  it('a list of dampings: each method keeps the λ that scores best on validation, and pays for every λ', () => {
    const { setup, settings, result: first } = results[0]!;
    const methods = ['GIF-CGLS', 'FIF', 'IF', 'GA'] as const;
    const base = { ...settings, methods, sweepRatios: [0.2] };
    const reuse = { ...setup, groundTruth: first.groundTruth };
    // given out of order: the task tries them in increasing λ
    const listed = removeClass(reuse, { ...base, damping: [0.5, 0, 0.05] });
    // the oracle: one run per λ
    const single = new Map([0, 0.05, 0.5].map((d) => [d, removeClass(reuse, { ...base, damping: d })]));
    const rowOf = (r: TaskResult, m: string) => r.rows.find((x) => x.method === m)!;
    let scoresDiffer = false;
    for (const m of ['GIF-CGLS', 'FIF', 'IF']) {
      const row = rowOf(listed, m);
      const alone = [...single].map(([d, r]) => ({ d, row: rowOf(r, m) }));
      expect(row.dampingTrials!.map((t) => t.damping)).toEqual([0, 0.05, 0.5]);
      row.dampingTrials!.forEach((t, i) => {
        expect(t.validationScore).toBe(alone[i]!.row.validationScore);
        expect(t.test).toEqual(alone[i]!.row.test);
        expect(t.hvps).toBe(alone[i]!.row.hvps);
      });
      const bestScore = Math.max(...alone.map((a) => a.row.validationScore!));
      const winner = alone.find((a) => a.row.validationScore === bestScore)!;
      expect(row.damping).toBe(winner.d);
      expect(row.test).toEqual(winner.row.test);
      expect(listed.deltas[m]).toEqual(single.get(winner.d)!.deltas[m]);
      expect(row.hvps).toBe(alone.reduce((total, a) => total + a.row.hvps!, 0));
      expect(row.seconds).toBeGreaterThan(row.searchSeconds! + listed.selectionSeconds);
      scoresDiffer ||= new Set(alone.map((a) => a.row.validationScore)).size > 1;
    }
    expect(scoresDiffer).toBe(true); // λ changed some edit, so the choice was a real one
    // GA solves nothing: one run, no λ
    const ga = rowOf(listed, 'GA');
    expect([ga.damping, ga.dampingTrials, ga.hvps]).toEqual([undefined, undefined, 0]);
    expect(ga.test).toEqual(rowOf(single.get(0)!, 'GA').test);
    // the sweep chooses λ per point in the same way
    for (const p of listed.sweep) {
      const alone = [...single].map(([d, r]) => ({ d, p: r.sweep.find((q) => q.method === p.method && q.ratio === p.ratio)! }));
      const winner = alone.find((a) => a.p.validationScore === Math.max(...alone.map((b) => b.p.validationScore)))!;
      expect([p.damping, p.test]).toEqual([winner.d, winner.p.test]);
      expect(p.hvps).toBe(alone.reduce((total, a) => total + a.p.hvps, 0));
    }
    expect(formatTable(listed).split('\n')[0]).toMatch(/ λ /);
    expect(formatTable(single.get(0)!).split('\n')[0]).not.toMatch(/ λ /);
    const md = markdownReport(listed, null);
    expect(md).toContain('## Damping chosen on validation');
    expect(md).toContain('λ ∈ {0, 0.05, 0.5}');
    expect(md).toContain('count every λ tried');
    expect(markdownReport(single.get(0)!, null)).not.toContain('every λ tried');
  });

  it('dampings that tie on validation go to the smaller λ; a bad list is refused', () => {
    const { setup, settings, result: first } = results[0]!;
    const reuse = { ...setup, groundTruth: first.groundTruth };
    // λ = 1e-300 changes no product in double precision: both edits score the same
    const tied = removeClass(reuse, { ...settings, methods: ['GIF-CGLS'], sweepRatios: [], damping: [1e-300, 0] });
    const row = tied.rows.find((x) => x.method === 'GIF-CGLS')!;
    expect(row.dampingTrials![0]!.validationScore).toBe(row.dampingTrials![1]!.validationScore);
    expect(row.damping).toBe(0);
    for (const damping of [[], [0.1, 0.1], [0, -1], [Number.NaN]]) {
      expect(() => removeClass(reuse, { ...settings, methods: ['GA'], sweepRatios: [], damping })).toThrow(/damping/);
    }
  });

  it('the report renders every row, the sweep and the chart', () => {
    const r = results[0]!.result;
    const table = formatTable(r);
    for (const m of ['original', 'retrain', 'retrain-warm', 'GIF-CGLS', 'FIF', 'PIF', 'GA']) expect(table).toContain(m);
    expect(r.sweep.map((p) => `${p.method}@${p.ratio}`)).toEqual(['GIF-CGLS@0.05', 'FIF@0.05', 'PIF@0.05', 'GIF-CGLS@0.2', 'FIF@0.2', 'PIF@0.2']);
    const svg = sweepChart(r);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('</svg>');
    expect(svg).not.toContain('NaN');
    expect(markdownReport(r, 'chart.svg')).toContain('![accuracy against modification ratio](chart.svg)');
    // SIF on label change is flagged as our extension; removal needs no such note
    const sifRow = { ...r.rows.find((x) => x.method === 'GA')!, method: 'SIF' };
    expect(markdownReport({ ...r, rows: [...r.rows, sifRow] }, null)).not.toContain('our extension');
    expect(markdownReport({ ...r, task: 'backdoor', rows: [...r.rows, sifRow] }, null)).toContain('SIF on a label change is our extension');
    expect(markdownReport({ ...r, task: 'backdoor' }, null)).not.toContain('our extension');
    const json = JSON.parse(JSON.stringify(resultJson(r)));
    expect(json.rows.length).toBe(r.rows.length);
    expect(json.groundTruth).toBeUndefined();
  });
});

describe('backdoor correction on a slice of MNIST (MLP 784-16-10)', () => {
  const { train: all, test: allTest } = loadMnist({ dtype: 'float64' });
  const { first: trainSet, second: validation } = stratifiedSplit(subset(all, Int32Array.from({ length: 1500 }, (_, i) => i)), 0.2, 0);
  const test = subset(allTest, Int32Array.from({ length: 400 }, (_, i) => i));
  const { data, poisoned, trueLabels } = backdoor(trainSet, { fraction: 0.1, seed: 0 });
  const recipe: Recipe = { epochs: 8, lr: 0.05, momentum: 0.9, batchSize: 32, weightDecay: 1e-3, seed: 0, warmEpochs: 2 };
  const net = mlp([784, 16, 10], 'tanh');
  const { params } = train(net, net.init(new Rng(0), 'float64'), data, { ...recipe });
  const setup = { net, params, train: data, poisoned, trueLabels, validation, test, recipe };
  const budget = { ratio: 0.05, selector: 'gradient', hessianSamples: 300, krylovIterations: 20 } as const;

  it('the GIF edit raises relabel accuracy and lowers corrupt accuracy of the backdoored model', () => {
    const r = correctBackdoor(setup, { ...budget, methods: ['GIF-CGLS'] });
    const row = (m: string) => r.rows.find((x) => x.method === m)!.test;
    const plain = r.rows.find((x) => x.method === 'GIF-CGLS')!.plain!;
    expect(row('original').corruptAccuracy!).toBeGreaterThan(0.5); // the backdoor works
    expect(row('retrain').corruptAccuracy!).toBeLessThan(0.2); // retraining on true labels removes it
    for (const edited of [row('GIF-CGLS'), plain]) {
      expect(edited.relabelAccuracy!).toBeGreaterThan(row('original').relabelAccuracy! + 0.2);
      expect(edited.corruptAccuracy!).toBeLessThan(row('original').corruptAccuracy! - 0.2);
    }
    // The influence step itself keeps clean accuracy. The validation search maximises the harmonic
    // mean of clean and relabel accuracy, which is flat here, and may trade some clean accuracy
    // for relabel accuracy (observed: clean 0.71, relabel 0.58, corrupt 0.01 at 7.4‖θ*‖).
    expect(plain.cleanAccuracy!).toBeGreaterThan(row('original').cleanAccuracy! - 0.05);
    expect(row('GIF-CGLS').cleanAccuracy!).toBeGreaterThan(row('original').cleanAccuracy! - 0.15);
  });

  it('a list of dampings on the label change, SIF included: each row keeps its best λ on validation', () => {
    const r = correctBackdoor(setup, { ...budget, methods: ['GIF-CGLS', 'SIF'], damping: [0, 0.1], sweepRatios: [] });
    for (const m of ['GIF-CGLS', 'SIF']) {
      const row = r.rows.find((x) => x.method === m)!;
      const trials = row.dampingTrials!;
      expect(trials.map((t) => t.damping)).toEqual([0, 0.1]);
      const best = trials.reduce((a, b) => (b.validationScore > a.validationScore ? b : a));
      expect([row.damping, row.validationScore, row.test]).toEqual([best.damping, best.validationScore, best.test]);
      expect(row.hvps).toBe(trials[0]!.hvps + trials[1]!.hvps);
      expect(Number.isFinite(row.test.relabelAccuracy!)).toBe(true);
    }
    // SIF's products run H, H_U and the trained H_T: more HVPs than GIF's
    expect(r.rows.find((x) => x.method === 'SIF')!.hvps!).toBeGreaterThan(r.rows.find((x) => x.method === 'GIF-CGLS')!.hvps!);
  });
});
