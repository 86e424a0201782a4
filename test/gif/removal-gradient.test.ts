/**
 * The removal right-hand side against an exact oracle: on L2-regularised logistic regression
 * trained to its optimum, the Newton step H_retained⁻¹ g with g from `removalGradient` must match
 * exact retraining without a small removed group up to second-order terms — and dropping the weight-decay
 * share (SPEC §4's literal g) must do measurably worse.
 */
import { describe, expect, it } from 'vitest';
import { Rng, add, matmul, toVector, transpose, type Tensor } from '../../engine/index.js';
import { crossEntropy, gaussianBlobs, subset } from '../../nn/index.js';
import { removalGradient } from '../../experiments/index.js';
import { exact, flatGradient, hessianOperator, minimize, norm, type Objective } from '../../influence/index.js';

type P = { w: Tensor; b: Tensor };
type Batch = { x: Tensor; y: Int32Array };

describe('removalGradient', () => {
  it('H_retained⁻¹ g matches exact retraining after removing a small group, far better than g without weight decay', () => {
    const wd = 0.05;
    const data = gaussianBlobs({ n: 240, classes: 3, features: 4, separation: 1.5, seed: 3 });
    const objective: Objective<P, Batch> = {
      loss: (p, b) => crossEntropy(add(matmul(b.x, transpose(p.w)), p.b), b.y),
      weightDecay: wd,
    };
    const rng = new Rng(0);
    const init: P = { w: rng.normalTensor([3, 4], 0, 0.1), b: rng.normalTensor([3], 0, 0.1) };
    const all: Batch = { x: data.x, y: data.y };
    const star = minimize(objective, init, all, { method: 'newton', gradTol: 1e-9 });
    expect(star.converged).toBe(true);

    // four points: small enough that the first-order term dominates what retraining changes
    const removed = Int32Array.of(5, 50, 100, 200);
    const kept = Int32Array.from(Array.from(data.y.keys()).filter((i) => !removed.includes(i)));
    const n = data.y.length, m = removed.length;
    const target = subset(data, removed), retained = subset(data, kept);
    const retrained = minimize(objective, star.params, { x: retained.x, y: retained.y }, { method: 'newton', gradTol: 1e-9 });
    expect(retrained.converged).toBe(true);

    const theta = toVector(star.params);
    const actual = toVector(retrained.params).map((v, i) => v - theta[i]!);
    const gMean = flatGradient((p: P) => objective.loss(p, { x: target.x, y: target.y }), star.params);
    const H = hessianOperator(objective, star.params, [{ x: retained.x, y: retained.y }]);
    const predicted = exact(H, removalGradient(gMean, theta, m, n, wd)).x;
    const withoutDecay = exact(H, removalGradient(gMean, theta, m, n, 0)).x;

    const error = (x: Float64Array) => norm(x.map((v, i) => v - actual[i]!)) / norm(actual);
    expect(error(predicted)).toBeLessThan(0.05);
    expect(error(predicted)).toBeLessThan(0.5 * error(withoutDecay));
  });

  it('rejects m outside [1, n) and mismatched lengths', () => {
    expect(() => removalGradient(new Float64Array(2), new Float64Array(2), 0, 10, 0)).toThrow(/1 ≤ m < n/);
    expect(() => removalGradient(new Float64Array(2), new Float64Array(3), 1, 10, 0)).toThrow(/θ has 3/);
  });
});
