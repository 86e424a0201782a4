/** Group removal: predicted vs retrained change of a test loss, on a convex model where influence is accurate. */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../engine/index.js';
import { gaussianBlobs, logisticRegression, stratifiedSplit, train } from '../../nn/index.js';
import { removeGroups } from '../../experiments/index.js';
import { pearson, spearman } from '../../influence/linalg.js';
import { ValueError } from '../../engine/errors.js';
import type { Recipe } from '../../experiments/index.js';

describe('correlation helpers', () => {
  it('pearson and spearman match hand-computed values', () => {
    expect(pearson([1, 2, 3, 4], [2, 4, 6, 8])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    // x = 1..4, y = 1, 3, 2, 5: cov = 2.75/… → r = 0.8315218406
    expect(pearson([1, 2, 3, 4], [1, 3, 2, 5])).toBeCloseTo(0.8315218406, 9);
    expect(spearman([1, 2, 3, 4], [1, 10, 100, 1000])).toBeCloseTo(1, 12);
    // ties get their average rank: ranks of [1, 1, 2] are [1.5, 1.5, 3]
    expect(spearman([1, 1, 2], [1, 2, 3])).toBeCloseTo(pearson([1.5, 1.5, 3], [1, 2, 3]), 12);
    expect(() => pearson([1, 1, 1], [1, 2, 3])).toThrow(ValueError);
  });
});

describe('removeGroups on multinomial logistic regression (convex, weight decay)', () => {
  it('IF and SIF predict the retrained test-loss change of random groups; evaluated at θ*+Δθ, of every group', () => {
    const data = gaussianBlobs({ n: 400, classes: 3, features: 4, separation: 1.5, seed: 3 });
    const { first: trainSet, second: test } = stratifiedSplit(data, 0.25, 3);
    const net = logisticRegression(4, 3);
    // full-batch gradient descent to convergence, so retraining is exact enough to be the ground truth
    const recipe: Recipe = { epochs: 400, batchSize: 10_000, lr: 0.5, momentum: 0.9, weightDecay: 1e-2, seed: 0, warmEpochs: 300 };
    const { params } = train(net, net.init(new Rng(0), 'float64'), trainSet, { ...recipe });
    const result = removeGroups({ net, params, train: trainSet, test, recipe }, {
      sizes: [10, 30, 60], groupsPerSize: 2, methods: ['IF', 'GIF-CGLS', 'SIF'], ratio: 1, hessianSamples: 10_000, krylovIterations: 100,
    });
    expect(result.outcomes.length).toBe(12);
    const corr = (method: string, prediction: 'linear' | 'evaluated', kind: 'random' | 'coherent' | 'all') =>
      result.correlations.find((c) => c.method === method && c.prediction === prediction && c.kind === kind)!;
    // observed: the first-order ∇L_testᵀΔθ tracks random groups (r ≈ 0.97) but not large coherent
    // groups (60 of a class's ~100 samples: r ≈ 0.3), where the test loss is far from linear
    // along Δθ; the loss evaluated at θ* + Δθ tracks every group (r ≈ 0.95)
    expect(corr('IF', 'linear', 'random').pearson).toBeGreaterThan(0.9);
    expect(corr('IF', 'linear', 'random').spearman).toBeGreaterThan(0.8);
    expect(corr('SIF', 'linear', 'random').pearson).toBeGreaterThan(0.9);
    expect(corr('IF', 'evaluated', 'all').pearson).toBeGreaterThan(0.9);
    expect(corr('IF', 'evaluated', 'all').spearman).toBeGreaterThan(0.85);
    // with every parameter selected GIF is the IF
    result.outcomes.forEach((o) => expect(Math.abs(o.linear['GIF-CGLS']! - o.linear.IF!)).toBeLessThan(1e-3 * Math.abs(o.linear.IF!) + 1e-9));
  });
});
