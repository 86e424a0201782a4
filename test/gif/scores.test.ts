/** Unit scores from one pass against explicit layer outputs and their gradients (MLP and CNN). */
import { describe, expect, it } from 'vitest';
import { Rng, grad, mean, toVector, type Tensor } from '../../engine/index.js';
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
    const scores = unitScores(net, params, x, (o) => crossEntropy(o, labels));
    net.parameterLayout().forEach((slot, i) => {
      const want = oracle(net, params, x, labels, slot.layer);
      expect(relativeMaxError(scores.output[i]!, want.output)).toBeLessThan(1e-12);
      expect(relativeMaxError(scores.gradient[i]!, want.gradient)).toBeLessThan(1e-12);
    });
    // the same pass returns the flat gradient of the target loss
    const g = toVector(grad((p: Params) => crossEntropy(net.apply(p, x), labels))(params));
    expect(relativeMaxError(scores.targetGradient, g)).toBeLessThan(1e-14);
  });

  it('CNN: channel scores average over samples and spatial positions', () => {
    const rng = new Rng(2);
    const net = new Sequential([new Conv2d(1, 3, 3), new Tanh(), new Conv2d(3, 2, 2), new ReLU(), new Flatten(), new Linear(2 * 3 * 3, 4)], { inputShape: [1, 6, 6] });
    const params = net.init(rng, 'float64');
    const x = rng.normalTensor([5, 1, 6, 6]);
    const labels = Int32Array.of(0, 1, 2, 3, 1);
    const scores = unitScores(net, params, x, (o) => crossEntropy(o, labels));
    expect(scores.output.map((s) => s.length)).toEqual([3, 2, 4]);
    net.parameterLayout().forEach((slot, i) => {
      const want = oracle(net, params, x, labels, slot.layer);
      expect(relativeMaxError(scores.output[i]!, want.output)).toBeLessThan(1e-12);
      expect(relativeMaxError(scores.gradient[i]!, want.gradient)).toBeLessThan(1e-12);
    });
  });
});
