#!/usr/bin/env node
/**
 * The gift command. For now its default job demonstrates the engine: the gradient and a
 * Hessian-vector product of a small network's loss, checked against finite differences.
 */
import { Rng, grad, hvp, logSoftmax, gather, matmul, add, tanh, mean, neg, tensor, type Tensor } from '../engine/index.js';

type Params = { w1: Tensor; b1: Tensor; w2: Tensor; b2: Tensor };

function demo(): void {
  const rng = new Rng(0);
  const x = rng.normalTensor([16, 8]);
  const labels = Array.from({ length: 16 }, (_, i) => i % 3);
  const params: Params = {
    w1: rng.normalTensor([8, 6], 0, 0.5), b1: rng.normalTensor([6], 0, 0.1),
    w2: rng.normalTensor([6, 3], 0, 0.5), b2: rng.normalTensor([3], 0, 0.1),
  };
  const loss = (p: Params): Tensor => {
    const h = tanh(add(matmul(x, p.w1), p.b1));
    const logits = add(matmul(h, p.w2), p.b2);
    return neg(mean(gather(logSoftmax(logits), labels)));
  };
  const g = grad(loss)(params);
  const v: Params = { w1: rng.normalTensor([8, 6]), b1: rng.normalTensor([6]), w2: rng.normalTensor([6, 3]), b2: rng.normalTensor([3]) };
  const hv = hvp(loss, params, v);
  // finite-difference check of the HVP: (∇L(θ + εv) − ∇L(θ − εv)) / 2ε
  const eps = 1e-5;
  const shift = (s: number): Params => ({
    w1: add(params.w1, tensor(v.w1.toArray().map((t) => t * s), v.w1.shape)),
    b1: add(params.b1, tensor(v.b1.toArray().map((t) => t * s), v.b1.shape)),
    w2: add(params.w2, tensor(v.w2.toArray().map((t) => t * s), v.w2.shape)),
    b2: add(params.b2, tensor(v.b2.toArray().map((t) => t * s), v.b2.shape)),
  });
  const gp = grad(loss)(shift(eps)).w1.toArray(), gm = grad(loss)(shift(-eps)).w1.toArray();
  const fd = gp.map((a, i) => (a - gm[i]!) / (2 * eps));
  const hw = hv.w1.toArray();
  const err = Math.max(...fd.map((f, i) => Math.abs(f - hw[i]!))) / Math.max(...fd.map(Math.abs));
  console.log(`gift engine demo: 8-6-3 tanh MLP, cross-entropy on 16 random points`);
  console.log(`  loss            ${loss(params).item().toFixed(6)}`);
  console.log(`  |grad w1|_max   ${Math.max(...g.w1.toArray().map(Math.abs)).toFixed(6)}`);
  console.log(`  HVP vs finite differences of gradients: relative error ${err.toExponential(2)}`);
}

demo();
