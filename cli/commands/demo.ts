/** `gift demo`: a gradient and an HVP of a small network, checked against finite differences. */
import { Rng, add, gather, grad, hvp, logSoftmax, matmul, mean, neg, tanh, toVector, fromVector, type Tensor } from '../../engine/index.js';
import type { Command } from '../command.js';

type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor };

export const demoCommand: Command = {
  name: 'demo',
  summary: 'differentiate a small network and check its Hessian-vector product',
  usage: 'gift demo\n\nComputes the loss, gradient and a Hessian-vector product of an 8-6-3 tanh MLP\nand compares the HVP with finite differences of gradients.',
  async run() {
    const rng = new Rng(0);
    const x = rng.normalTensor([16, 8]);
    const labels = Array.from({ length: 16 }, (_, i) => i % 3);
    const params: Params = {
      w1: rng.normalTensor([8, 6], 0, 0.5), b1: rng.normalTensor([6], 0, 0.1),
      w2: rng.normalTensor([6, 3], 0, 0.5), b2: rng.normalTensor([3], 0, 0.1),
    };
    const loss = (p: Params): Tensor => {
      const h = tanh(add(matmul(x, p.w1), p.b1));
      return neg(mean(gather(logSoftmax(add(matmul(h, p.w2), p.b2)), labels)));
    };
    const theta = toVector(params);
    const v = Float64Array.from(theta, () => rng.normal());
    const hv = toVector(hvp(loss, params, fromVector(v, params)));
    // central differences of the gradient along v: (∇L(θ + εv) − ∇L(θ − εv)) / 2ε
    const eps = 1e-5;
    const gradAt = (s: number) => toVector(grad(loss)(fromVector(theta.map((t, i) => t + s * v[i]!), params)));
    const gp = gradAt(eps), gm = gradAt(-eps);
    let err = 0, scale = 0;
    hv.forEach((h, i) => {
      const fd = (gp[i]! - gm[i]!) / (2 * eps);
      err = Math.max(err, Math.abs(fd - h));
      scale = Math.max(scale, Math.abs(fd));
    });
    console.log('gift engine demo: 8-6-3 tanh MLP, cross-entropy on 16 random points');
    console.log(`  loss                                      ${loss(params).item().toFixed(6)}`);
    console.log(`  ‖∇L‖∞                                     ${Math.max(...toVector(grad(loss)(params)).map(Math.abs)).toFixed(6)}`);
    console.log(`  HVP vs finite differences, relative error ${(err / scale).toExponential(2)}`);
    return 0;
  },
};
