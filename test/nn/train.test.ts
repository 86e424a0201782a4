import { describe, expect, it, vi } from 'vitest';
import { NonFiniteError, Rng, ValueError, fromVector, grad, hvp, mapTree, mul, square, sum, tensor, toVector, type Tensor, type Tree } from '../../engine/index.js';
import { Adam, Sgd, accuracy, argmaxRows, cosineLr, crossEntropy, evaluate, gaussianBlobs, logisticRegression, mlp, mse, objective, predict, smallCnn, stepLr, stratifiedSplit, train, weightDecayPenalty, type Params } from '../../nn/index.js';
import { loadMnist, trainProgress } from '../../experiments/index.js';
import { expectAllClose } from './fd.js';

describe('losses', () => {
  it('cross-entropy from logits against −log softmax written out, for every reduction', () => {
    expect(crossEntropy(tensor([[0, 0]]), [1]).item()).toBeCloseTo(Math.log(2), 15);
    const rng = new Rng(2);
    const logits = rng.normalTensor([5, 4], 0, 3);
    const labels = [0, 3, 1, 1, 2];
    const L = logits.toNested() as number[][];
    const per = L.map((row, i) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[labels[i]!]!);
    expectAllClose(crossEntropy(logits, labels, 'none').toArray(), per, 1e-14);
    expect(crossEntropy(logits, labels, 'sum').item()).toBeCloseTo(per.reduce((a, b) => a + b), 12);
    expect(crossEntropy(logits, labels).item()).toBeCloseTo(per.reduce((a, b) => a + b) / 5, 12);
    // stable for huge logits (a naive softmax would give Inf/NaN)
    expect(crossEntropy(tensor([[1000, 0]]), [1]).item()).toBeCloseTo(1000, 9);
    expect(() => crossEntropy(logits, [0, 1, 2, 3, 4])).toThrow(ValueError);
    expect(() => crossEntropy(tensor([1, 2]), [0])).toThrow(/\[N, C\]/);
  });

  it('mse, the weight-decay penalty and the SPEC objective', () => {
    expect(mse(tensor([1, 2]), tensor([1, 4])).item()).toBe(2);
    expect(mse(tensor([1, 2]), tensor([1, 4]), 'sum').item()).toBe(4);
    expect(Array.from(mse(tensor([[1, 2], [0, 0]]), tensor([[1, 4], [1, 1]]), 'none').toArray())).toEqual([2, 1]);
    const net = mlp([3, 4, 2]);
    const rng = new Rng(0);
    const params = net.init(rng, 'float64');
    const theta = toVector(params);
    expect(weightDecayPenalty(params, 0.3).item()).toBeCloseTo(0.15 * theta.reduce((s, v) => s + v * v, 0), 14);
    const x = rng.normalTensor([6, 3]), y = Int32Array.from([0, 1, 1, 0, 1, 0]);
    const L = objective(net, { weightDecay: 0.3 });
    const data = crossEntropy(net.apply(params, x), y).item();
    expect(L(params, x, y).item()).toBeCloseTo(data + 0.15 * theta.reduce((s, v) => s + v * v, 0), 14);
    // ∇L = ∇(mean loss) + wd·θ
    const g = toVector(grad(L)(params, x, y));
    const g0 = toVector(grad(objective(net))(params, x, y));
    expectAllClose(g, g0.map((v, i) => v + 0.3 * theta[i]!), 1e-14);
  });
});

describe('the objective under the engine transforms', () => {
  it('its HVP (forward-over-reverse) matches finite differences of its gradient, MLP and CNN', () => {
    const rng = new Rng(6);
    for (const [net, x] of [[mlp([5, 4, 3], 'softplus'), rng.normalTensor([7, 5])], [smallCnn(), rng.uniformTensor([3, 1, 28, 28])]] as const) {
      const y = Int32Array.from({ length: x.shape[0]! }, (_, i) => i % 3);
      const params = net.init(rng, 'float64');
      const L = objective(net, { weightDecay: 0.01 });
      const theta = toVector(params);
      const v = Float64Array.from(theta, () => rng.normal());
      const hv = toVector(hvp(L, params, fromVector(v, params), x, y));
      const eps = 1e-5;
      const gradAt = (s: number) => toVector(grad(L)(fromVector(theta.map((t, i) => t + s * v[i]!), params), x, y));
      const gp = gradAt(eps), gm = gradAt(-eps);
      expectAllClose(hv, gp.map((g, i) => (g - gm[i]!) / (2 * eps)), 1e-6);
    }
  });
});

describe('optimizers and schedules', () => {
  it('SGD with momentum and weight decay: two steps by hand', () => {
    const opt = new Sgd({ lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    let p: Tensor = tensor([1, 2]);
    p = opt.step(p, tensor([0.5, -1]));
    expectAllClose(p.toArray(), [0.949, 2.098], 1e-15);
    p = opt.step(p, tensor([1, 1]));
    expectAllClose(p.toArray(), [0.802151, 2.084102], 1e-14);
    const nesterov = new Sgd({ lr: 0.1, momentum: 0.5, nesterov: true });
    // first step: b = g, update g + μ·b = 1.5·g
    expectAllClose(nesterov.step(tensor([0]), tensor([2])).toArray(), [-0.3], 1e-15);
    expect(() => new Sgd({ lr: -1 })).toThrow(ValueError);
  });

  it('Adam matches a scalar reference loop (bias correction included)', () => {
    const opt = new Adam({ lr: 0.01, beta1: 0.8, beta2: 0.9, eps: 1e-6, weightDecay: 0.1 });
    const grads = [[0.3, -2], [0.1, 0.5], [-1, 4]];
    let p: Tensor = tensor([1, -1]);
    const ref = [1, -1], m = [0, 0], v = [0, 0];
    grads.forEach((g, t) => {
      p = opt.step(p, tensor(g));
      for (let i = 0; i < 2; i++) {
        const d = g[i]! + 0.1 * ref[i]!;
        m[i] = 0.8 * m[i]! + 0.2 * d;
        v[i] = 0.9 * v[i]! + 0.1 * d * d;
        const mh = m[i]! / (1 - 0.8 ** (t + 1)), vh = v[i]! / (1 - 0.9 ** (t + 1));
        ref[i] = ref[i]! - (0.01 * mh) / (Math.sqrt(vh) + 1e-6);
      }
      expectAllClose(p.toArray(), ref, 1e-13);
    });
  });

  it('step and cosine schedules', () => {
    expect(stepLr(0.1, 5, 0.5)(4)).toBe(0.1);
    expect(stepLr(0.1, 5, 0.5)(10)).toBeCloseTo(0.025, 15);
    const c = cosineLr(0.1, 10);
    expect(c(0)).toBe(0.1);
    expect(c(5)).toBeCloseTo(0.05, 15);
    expect(c(10)).toBeCloseTo(0, 15);
    expect(cosineLr(0.1, 4, 0.02)(4)).toBeCloseTo(0.02, 15);
  });
});

describe('evaluation', () => {
  it('predict, accuracy and evaluate on a hand-set logistic regression', () => {
    const net = logisticRegression(2, 2);
    const params: Params = [{ weight: tensor([[1, 0], [0, 1]]), bias: tensor([0, 0]) }];
    const x = tensor([[2, 1], [0, 3], [5, 4]]);
    expect(Array.from(predict(net, params, x))).toEqual([0, 1, 0]);
    expect(Array.from(predict(net, params, x, 1))).toEqual([0, 1, 0]);
    const ds = { x, y: Int32Array.from([0, 0, 0]), classes: 2 };
    expect(accuracy(net, params, ds)).toBeCloseTo(2 / 3, 15);
    const ce = (a: number, b: number) => Math.log(Math.exp(a) + Math.exp(b)) - a;
    const r = evaluate(net, params, ds, { batchSize: 2 });
    expect(r.loss).toBeCloseTo((ce(2, 1) + ce(0, 3) + ce(5, 4)) / 3, 14);
    expect(r.accuracy).toBeCloseTo(2 / 3, 15);
    expect(Array.from(argmaxRows(tensor([[1, 1], [0, 2]])))).toEqual([0, 1]);
    const broken: Params = [{ weight: tensor([[NaN, 0], [0, 1]]), bias: tensor([0, 0]) }];
    expect(() => predict(net, broken, x)).toThrow(NonFiniteError);
    expect(() => evaluate(net, broken, ds)).toThrow(NonFiniteError);
  });
});

describe('training', () => {
  const blobs = gaussianBlobs({ n: 600, classes: 3, features: 2, separation: 3, seed: 1 });
  const { first: blobTrain, second: blobTest } = stratifiedSplit(blobs, 0.25, 0);

  it('an MLP on Gaussian blobs reaches the accuracy of the Bayes-like boundary', () => {
    const net = mlp([2, 16, 3], 'tanh');
    const { params, history } = train(net, net.init(new Rng(0), 'float64'), blobTrain, { epochs: 20, lr: 0.05, batchSize: 32 });
    expect(history.length).toBe(20);
    expect(history[19]!.trainLoss).toBeLessThan(history[0]!.trainLoss);
    // reference: the nearest-centre rule on the true centres (optimal for equal isotropic blobs)
    const x = blobTest.x.toArray();
    let nearestRight = 0;
    blobTest.y.forEach((label, i) => {
      let best = 0, bestD = Infinity;
      for (let c = 0; c < 3; c++) {
        const d = (x[2 * i]! - blobs.centres[2 * c]!) ** 2 + (x[2 * i + 1]! - blobs.centres[2 * c + 1]!) ** 2;
        if (d < bestD) [best, bestD] = [c, d];
      }
      nearestRight += best === label ? 1 : 0;
    });
    const bayes = nearestRight / blobTest.y.length;
    expect(bayes).toBeGreaterThan(0.85);
    expect(accuracy(net, params, blobTest)).toBeGreaterThanOrEqual(bayes - 0.03);
  });

  it('is bit-identical for a seed (SGD and Adam, weight decay, cosine schedule) and differs across seeds', () => {
    const net = mlp([2, 8, 3], 'relu');
    const run = (seed: number, optimizer: 'sgd' | 'adam') =>
      toVector(train(net, net.init(new Rng(3), 'float32'), blobTrain, { epochs: 2, batchSize: 16, seed, optimizer, lr: optimizer === 'sgd' ? 0.1 : 0.01, weightDecay: 1e-3, schedule: 'cosine' }).params);
    for (const opt of ['sgd', 'adam'] as const) {
      expect(run(7, opt)).toEqual(run(7, opt));
      expect(run(7, opt)).not.toEqual(run(8, opt));
    }
  });

  it('validation each epoch, early stopping restores the best epoch', () => {
    // a validation set with permuted labels gets worse as the net learns the real ones
    const wrong = { ...blobTest, y: blobTest.y.map((l) => (l + 1) % 3) };
    const net = mlp([2, 8, 3]);
    const records: number[] = [];
    const r = train(net, net.init(new Rng(0), 'float64'), blobTrain, {
      epochs: 30, lr: 0.05, validation: wrong, earlyStopping: { patience: 3 }, onEpoch: (e) => records.push(e.epoch),
    });
    expect(r.stoppedEarly).toBe(true);
    expect(r.history.length).toBe(r.bestEpoch + 4);
    expect(records).toEqual(r.history.map((h) => h.epoch));
    const best = Math.min(...r.history.map((h) => h.validationLoss!));
    expect(r.history[r.bestEpoch]!.validationLoss).toBe(best);
    expect(evaluate(net, r.params, wrong).loss).toBeCloseTo(best, 12);
    expect(() => train(net, net.init(new Rng(0), 'float64'), blobTrain, { earlyStopping: { patience: 2 } })).toThrow(/validation/);
  });

  it('a diverging run is a NonFiniteError, not NaN parameters', () => {
    const net = mlp([2, 3]);
    const exploding = (out: Tensor) => mul(sum(square(out)), 1e308);
    expect(() => train(net, net.init(new Rng(0), 'float64'), blobTrain, { epochs: 1, loss: exploding })).toThrow(NonFiniteError);
    // an optimizer that breaks the parameters on the epoch's last step is caught at the epoch's end
    const poison = { lr: 1, step: <T extends Tree>(p: T) => mapTree(p, (t) => mul(t, NaN)) };
    expect(() => train(net, net.init(new Rng(0), 'float64'), blobTrain, { epochs: 1, batchSize: 1000, optimizer: poison })).toThrow(/parameter 0 of θ became NaN/);
  });

  it("prints one line per epoch in 'lines' mode", () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const net = mlp([2, 3]);
      train(net, net.init(new Rng(0), 'float64'), blobTrain, { epochs: 2, progress: trainProgress('lines') });
      expect(log.mock.calls.map((c) => String(c[0]))).toEqual([expect.stringMatching(/^epoch 1\/2: .*train loss/), expect.stringMatching(/^epoch 2\/2: /)]);
    } finally {
      log.mockRestore();
    }
  });

  it('the default MLP (784-128-10 tanh, float32) reaches ≥ 94% test accuracy on the embedded MNIST split', () => {
    const { train: trainSet, test } = loadMnist({ dtype: 'float32' });
    const net = mlp();
    const { params } = train(net, net.init(new Rng(0), 'float32'), trainSet, { epochs: 6, batchSize: 64, lr: 0.1, schedule: 'cosine', seed: 0 });
    const { accuracy: acc } = evaluate(net, params, test);
    expect(acc).toBeGreaterThanOrEqual(0.94);
  });
});
