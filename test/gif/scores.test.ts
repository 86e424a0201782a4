/** Unit scores from one pass against explicit layer outputs and their gradients (MLP and CNN). */
import { describe, expect, it } from 'vitest';
import { Rng, ShapeError, ValueError, grad, mean, toVector, type Tensor } from '../../engine/index.js';
import { Conv2d, Flatten, Linear, ReLU, Sequential, Tanh, crossEntropy, mlp, type Params } from '../../nn/index.js';
import { unitScores } from '../../influence/gif/scores.js';
import { relativeMaxError } from './dense.js';

/** |mean over every axis but 1| of a layer output, and of the gradient of the loss with respect to it, by a probe. */
function oracle(net: Sequential, params: Params, x: Tensor, labels: Int32Array, layer: number): { output: number[]; gradient: number[] } {
  // run the layers by hand so the chosen layer's output is an explicit argument
  const upTo = (p: Params): Tensor => net.layers.slice(0, layer + 1).reduce((h, l, i) => l.apply(p[i]!, h), x);
  const after = (z: Tensor, p: Params): Tensor => net.layers.slice(layer + 1).reduce((h, l, i) => l.apply(p[layer + 1 + i]!, h), z);
  const z = upTo(params);
  const dz = grad((zz: Tensor) => crossEntropy(after(zz, params), labels))(z);
  const axes = [0, ...Array.from({ length: z.rank - 2 }, (_, i) => i + 2)];
  return {
    output: Array.from(mean(z, axes).toArray(), Math.abs),
    gradient: Array.from(mean(dz, axes).toArray(), Math.abs),
  };
}

describe('unitScores', () => {
  it('MLP: output and gradient scores of both Linear layers match the explicit layer outputs', () => {
    const rng = new Rng(1);
    const net = mlp([6, 5, 3], 'tanh');
    const params = net.init(rng, 'float64');
    const x = rng.normalTensor([9, 6]);
    const labels = Int32Array.from({ length: 9 }, (_, i) => i % 3);
    // in chunks of 4, 4 and 1 samples: the chunks' means combine into the mean over all nine
    const scores = unitScores(net, params, x, (o, r) => crossEntropy(o, labels.subarray(r.start, r.end)), { batchSize: 4 });
    net.parameterLayout().forEach((slot, i) => {
      const want = oracle(net, params, x, labels, slot.layer);
      expect(relativeMaxError(scores.output[i]!, want.output)).toBeLessThan(1e-12);
      expect(relativeMaxError(scores.gradient[i]!, want.gradient)).toBeLessThan(1e-12);
    });
    // the same pass returns the flat gradient of the target loss
    const g = toVector(grad((p: Params) => crossEntropy(net.apply(p, x), labels))(params));
    expect(relativeMaxError(scores.targetGradient, g)).toBeLessThan(1e-13);
  });

  it('CNN: channel scores average over samples and spatial positions', () => {
    const rng = new Rng(2);
    const net = new Sequential([new Conv2d(1, 3, 3), new Tanh(), new Conv2d(3, 2, 2), new ReLU(), new Flatten(), new Linear(2 * 3 * 3, 4)], { inputShape: [1, 6, 6] });
    const params = net.init(rng, 'float64');
    const x = rng.normalTensor([5, 1, 6, 6]);
    const labels = Int32Array.of(0, 1, 2, 3, 1);
    const scores = unitScores(net, params, x, (o, r) => crossEntropy(o, labels.subarray(r.start, r.end)), { batchSize: 2 });
    expect(scores.output.map((s) => s.length)).toEqual([3, 2, 4]);
    net.parameterLayout().forEach((slot, i) => {
      const want = oracle(net, params, x, labels, slot.layer);
      expect(relativeMaxError(scores.output[i]!, want.output)).toBeLessThan(1e-12);
      expect(relativeMaxError(scores.gradient[i]!, want.gradient)).toBeLessThan(1e-12);
    });
  });

  it('every chunk size gives the scores and gradient of the whole batch in one piece', () => {
    const rng = new Rng(3);
    const net = new Sequential([new Conv2d(1, 2, 3), new ReLU(), new Flatten(), new Linear(2 * 4 * 4, 3)], { inputShape: [1, 6, 6] });
    const params = net.init(rng, 'float64');
    const x = rng.normalTensor([7, 1, 6, 6]);
    const labels = Int32Array.of(0, 1, 2, 0, 1, 2, 0);
    // a loss that is not the plain cross-entropy: the rows must pick the right labels for each chunk
    const loss = (o: Tensor, r: { start: number; end: number }) => crossEntropy(o, labels.subarray(r.start, r.end).map((l) => (l + 1) % 3));
    const whole = unitScores(net, params, x, loss, { batchSize: 7 });
    for (const batchSize of [1, 2, 3, 6, 100]) {
      const chunked = unitScores(net, params, x, loss, { batchSize });
      expect(relativeMaxError(chunked.targetGradient, whole.targetGradient)).toBeLessThan(1e-12);
      chunked.output.forEach((o, i) => expect(relativeMaxError(o, whole.output[i]!)).toBeLessThan(1e-12));
      chunked.gradient.forEach((g, i) => expect(relativeMaxError(g, whole.gradient[i]!)).toBeLessThan(1e-12));
    }
  });

  it('names a bad chunk size, an empty target set, and a loss that ignores its rows', () => {
    const rng = new Rng(4);
    const net = mlp([3, 2], 'tanh');
    const params = net.init(rng, 'float64');
    const x = rng.normalTensor([5, 3]);
    const labels = Int32Array.of(0, 1, 0, 1, 0);
    const loss = (o: Tensor, r: { start: number; end: number }) => crossEntropy(o, labels.subarray(r.start, r.end));
    expect(() => unitScores(net, params, x, loss, { batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
    expect(() => unitScores(net, params, x, loss, { batchSize: 2.5 })).toThrow(ValueError);
    expect(() => unitScores(net, params, rng.normalTensor([0, 3]), loss)).toThrow(/no target samples/);
    // all five labels against a chunk of two outputs: crossEntropy's shape check, not a silent mismatch
    expect(() => unitScores(net, params, x, (o) => crossEntropy(o, labels), { batchSize: 2 })).toThrow(ShapeError);
  });
});
