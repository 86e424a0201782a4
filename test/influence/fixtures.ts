/** Small synthetic problems for the influence tests: softmax regression and a tiny tanh MLP. */
import { Rng, add, gather, logSoftmax, matmul, mean, neg, tanh, tensor, type Tensor } from '../../engine/index.js';
import type { Dataset, Objective } from '../../influence/hessian.js';

export interface Batch { x: Tensor; labels: Int32Array }
export type Linear = { weight: Tensor; bias: Tensor };

export function crossEntropy(logits: Tensor, labels: Int32Array): Tensor {
  return neg(mean(gather(logSoftmax(logits), labels)));
}

/** n points in d dimensions, `classes` Gaussian blobs with some overlap. */
export function blobs(n: number, d: number, classes: number, seed: number, spread = 1.5): { x: Float64Array; labels: Int32Array; d: number } {
  const rng = new Rng(seed);
  const centers = Array.from({ length: classes }, () => Array.from({ length: d }, () => rng.normal()));
  const x = new Float64Array(n * d);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = rng.int(classes);
    labels[i] = c;
    for (let j = 0; j < d; j++) x[i * d + j] = centers[c]![j]! + spread * rng.normal();
  }
  return { x, labels, d };
}

export function dataset(raw: { x: Float64Array; labels: Int32Array; d: number }): Dataset<Batch> {
  const { x, labels, d } = raw;
  return {
    size: labels.length,
    batch(indices) {
      const bx = new Float64Array(indices.length * d);
      const bl = new Int32Array(indices.length);
      for (let k = 0; k < indices.length; k++) {
        const i = indices[k]!;
        bx.set(x.subarray(i * d, (i + 1) * d), k * d);
        bl[k] = labels[i]!;
      }
      return { x: tensor(bx, [indices.length, d]), labels: bl };
    },
  };
}

export function logisticObjective(weightDecay: number): Objective<[Linear], Batch> {
  const output = (p: [Linear], b: Batch): Tensor => add(matmul(b.x, p[0].weight), p[0].bias);
  return {
    loss: (p, b) => crossEntropy(output(p, b), b.labels),
    output,
    lossOfOutput: (logits, b) => crossEntropy(logits, b.labels),
    weightDecay,
  };
}

export function mlpObjective(weightDecay: number): Objective<[Linear, Linear], Batch> {
  const output = (p: [Linear, Linear], b: Batch): Tensor => add(matmul(tanh(add(matmul(b.x, p[0].weight), p[0].bias)), p[1].weight), p[1].bias);
  return {
    loss: (p, b) => crossEntropy(output(p, b), b.labels),
    output,
    lossOfOutput: (logits, b) => crossEntropy(logits, b.labels),
    weightDecay,
  };
}

export function linearInit(rng: Rng, fanIn: number, fanOut: number, scale = 0.5): Linear {
  return { weight: rng.normalTensor([fanIn, fanOut], 0, scale / Math.sqrt(fanIn)), bias: rng.normalTensor([fanOut], 0, 0.1) };
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
