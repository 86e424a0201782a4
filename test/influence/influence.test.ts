import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng, add, grad, hessian, mul, square, sum, toVector, type Tensor } from '../../engine/index.js';
import { Influence } from '../../influence/influence.js';
import { cholesky, choleskySolve, dot, pearson } from '../../influence/linalg.js';
import { loadResults, ResultsFormatError, saveResults } from '../../experiments/index.js';
import { coherentGroups, groupRemovalReport, minimize, randomGroups, retrainWithout } from '../../influence/retrain.js';
import { blobs, dataset, linearInit, logisticObjective, range, type Linear } from './fixtures.js';

// L2-regularised softmax regression on 60 overlapping 3-class blobs: convex, so leave-out
// retraining to a tight gradient tolerance is the ground truth influence approximates.
const n = 60;
const train = dataset(blobs(n, 3, 3, 21, 1.2));
const tests = dataset(blobs(4, 3, 3, 21, 1.2));
const objective = logisticObjective(0.02);
const init: [Linear] = [linearInit(new Rng(0), 3, 3)];
const fit = minimize(objective, init, train.batch(range(n)), { method: 'newton', gradTol: 1e-12 });
const thetaStar = fit.params;
const test = tests.batch([0]);
const tight = { gradTol: 1e-9 }; // below ~1e-10 f stops changing in float64; θ is then within ~1e-8

/** ∇ of point i's objective term ℓ_i + (wd/2)‖θ‖² at θ*, straight from the engine: an oracle for Influence.trainGradient. */
function pointTermGradient(i: number): Float64Array {
  const b = train.batch([i]);
  const wd = objective.weightDecay!;
  const f = (q: [Linear]): Tensor => add(objective.loss(q, b), mul(add(sum(square(q[0].weight)), sum(square(q[0].bias))), wd / 2));
  return toVector(grad(f)(thetaStar));
}

describe('classic influence on logistic regression, against retraining', () => {
  const inf = new Influence({ objective, params: thetaStar, train, solver: { method: 'exact' } });

  it('the fit is a stationary point (influence assumes one)', () => {
    expect(fit.converged).toBe(true);
    expect(fit.gradNorm).toBeLessThan(1e-12);
  });

  it('first-order removal estimates match leave-one-out retraining (Pearson ≥ 0.99) and signs follow SPEC §1', () => {
    const scores = inf.scores(test, 't0');
    const actual = range(n).map((i) => retrainWithout(objective, train, [i], thetaStar, thetaStar, test, tight).testLossChange);
    expect(pearson(scores.map((s) => s.score), actual)).toBeGreaterThanOrEqual(0.99);
    // the most helpful point: removing it raises the test loss after retraining; the most harmful lowers it
    const { helpful, harmful } = inf.topK(test, 3, 't0');
    expect(helpful.length).toBe(3);
    expect(harmful.length).toBe(3);
    expect(helpful[0]!.score).toBeGreaterThan(helpful[1]!.score);
    expect(actual[helpful[0]!.index]!).toBeGreaterThan(0);
    expect(actual[harmful[0]!.index]!).toBeLessThan(0);
    // and the estimate is close in value, not only correlated
    expect(Math.abs(helpful[0]!.score - actual[helpful[0]!.index]!)).toBeLessThan(0.2 * Math.abs(actual[helpful[0]!.index]!));
  });

  it('for large groups (p ≥ 0.2) the second-order estimate has a smaller error than the first-order one', () => {
    const groups = randomGroups(n, 15, 12, 3); // p = 0.25
    const report = groupRemovalReport(inf, groups, test, 't0', tight);
    expect(report.rows.every((r) => r.converged)).toBe(true);
    expect(report.secondOrder.meanAbsError).toBeLessThan(report.firstOrder.meanAbsError);
    expect(report.secondOrder.pearson).toBeGreaterThan(0.9);
    expect(report.rows[0]!.size).toBe(15);
  });

  it('I_up,loss = −(n − 1)·removal effect; influence matrix and predicted Δθ agree with the scores', () => {
    const s = inf.scores(test, 't0', [4, 9]);
    expect(inf.iUpLoss(4, test, 't0')).toBeCloseTo(-(n - 1) * s[0]!.score, 12);
    const m = inf.influenceMatrix([4, 9], [test, tests.batch([1])], ['t0', 't1']);
    expect(m[0]).toBeCloseTo(s[0]!.score, 14);
    expect(m[2]).toBeCloseTo(s[1]!.score, 14);
    // ∇ℓ_testᵀ Δθ with the predicted Δθ is the first-order group estimate
    const dtheta = inf.predictedParameterChange([4, 9]);
    expect(dot(inf.testGradient(test), dtheta)).toBeCloseTo(inf.groupInfluence([4, 9], test, 't0'), 12);
    // second-order Δθ is closer to the retrained parameters than first-order for a big group
    const group = randomGroups(n, 18, 1, 8)[0]!;
    const retrained = toVector(retrainWithout(objective, train, group, thetaStar, thetaStar, test, tight).params);
    const t = toVector(thetaStar);
    const err = (d: Float64Array) => Math.hypot(...d.map((x, j) => t[j]! + x - retrained[j]!));
    expect(err(inf.predictedParameterChange(group, 2))).toBeLessThan(err(inf.predictedParameterChange(group, 1)));
  });

  it('self-influence is positive and predicts the rise of a point\'s own loss when it is removed', () => {
    const idx = [0, 7, 13, 22, 31, 45];
    const self = inf.selfInfluence(idx);
    expect(self.every((v) => v > 0)).toBe(true);
    const actual = idx.map((i) => retrainWithout(objective, train, [i], thetaStar, thetaStar, train.batch([i]), tight).testLossChange);
    expect(pearson(self, actual)).toBeGreaterThan(0.98);
  });

  it('from-scratch retraining reaches the same optimum as warm-started (convex)', () => {
    const a = retrainWithout(objective, train, [3, 5], thetaStar, thetaStar, test, tight);
    const b = retrainWithout(objective, train, [3, 5], init, thetaStar, test, tight);
    expect(Math.abs(a.testLossChange - b.testLossChange)).toBeLessThan(1e-8);
  });

  it('cg and exact give the same scores', () => {
    const viaCg = new Influence({ objective, params: thetaStar, train, solver: { method: 'cg', tol: 1e-12 } });
    const a = inf.scores(test, 't0', [1, 2, 3]).map((s) => s.score);
    const b = viaCg.scores(test, 'x', [1, 2, 3]).map((s) => s.score);
    a.forEach((x, i) => expect(b[i]).toBeCloseTo(x, 10));
    expect(viaCg.solves[0]!.converged).toBe(true);
  });

  it('second-order group influence equals SPEC §6 computed with dense matrices', () => {
    const group = [2, 11, 17, 30, 41, 50];
    const m = group.length, p = m / n;
    const P = toVector(thetaStar).length;
    const wd = objective.weightDecay!;
    const dense = (idx: number[]): Float64Array => {
      const h = hessian((q: [Linear]) => objective.loss(q, train.batch(idx)), thetaStar).matrix; // mean over idx
      for (let i = 0; i < P; i++) h[i * P + i] += wd;
      return h;
    };
    const H = dense(range(n));
    const HU = dense(group).map((x) => m * x); // Σ over U of the per-point terms' Hessians
    const L = cholesky(H, P)!;
    const gU = new Float64Array(P);
    for (const i of group) {
      const gi = pointTermGradient(i);
      for (let j = 0; j < P; j++) gU[j] += gi[j]!;
    }
    const st = choleskySolve(L, P, inf.testGradient(test));
    const v = choleskySolve(L, P, gU);
    const HUv = new Float64Array(P);
    for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) HUv[i] += HU[i * P + j]! * v[j]!;
    const term1 = ((1 - 2 * p) / ((1 - p) ** 2 * n)) * dot(st, gU);
    const term2 = (1 / ((1 - p) ** 2 * n * n)) * dot(st, HUv);
    const est = inf.secondOrderGroupInfluence(group, test, 't0');
    expect(est.term1).toBeCloseTo(term1, 12);
    expect(est.term2).toBeCloseTo(term2, 12);
    expect(est.firstOrder).toBeCloseTo(dot(st, gU) / (n - m), 12);
    const g2 = inf.trainGradient(2), o2 = pointTermGradient(2);
    g2.forEach((x, j) => expect(x).toBeCloseTo(o2[j]!, 13));
  });

  it('coherent groups hold one class each; random groups are distinct sorted indices', () => {
    const labels = train.batch(range(n)).labels;
    for (const g of coherentGroups(labels, 8, 5, 1)) {
      expect(g.length).toBe(8);
      expect(new Set(g.map((i) => labels[i])).size).toBe(1);
      expect(new Set(g).size).toBe(8);
    }
    for (const g of randomGroups(n, 10, 3, 2)) expect(g).toEqual([...new Set(g)].sort((a, b) => a - b));
    expect(() => coherentGroups(labels, n, 1, 0)).toThrow(/members/);
  });

  it('rejects bad groups and indices', () => {
    expect(() => inf.groupInfluence([], test)).toThrow(/empty/);
    expect(() => inf.groupInfluence([1, 1], test)).toThrow(/twice/);
    expect(() => inf.trainGradient(n)).toThrow(/outside/);
    expect(() => inf.topK(test, 0)).toThrow(/positive/);
  });
});

describe('results files', () => {
  it('round-trips settings and typed arrays, refuses NaN, corrupt files and the wrong kind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gift-influence-'));
    const path = join(dir, 'r.json');
    saveResults(path, 'scores', { solver: 'cg', damping: 0.01 }, { scores: Float64Array.of(1.5, -2) });
    const r = loadResults<{ solver: string; damping: number }, { scores: number[] }>(path, 'scores');
    expect(r.settings).toEqual({ solver: 'cg', damping: 0.01 });
    expect(r.data.scores).toEqual([1.5, -2]);
    expect(() => loadResults(path, 'other')).toThrow(ResultsFormatError);
    expect(() => saveResults(path, 'scores', {}, { x: NaN })).toThrow(/finite/);
    expect(loadResults(path, 'scores').data).toEqual({ scores: [1.5, -2] }); // the failed save left the file alone
    writeFileSync(path, '{"format": "gift-influence", "vers');
    expect(() => loadResults(path, 'scores')).toThrow(/not valid JSON/);
  });
});
