/**
 * The benchmark workloads of the engine: an MLP and the small CNN with their data and mean
 * cross-entropy, built from engine ops only, so the same numbers can be computed in Node, on the
 * gpu.js backend and in a browser (test/browser).
 */
import {
  add, conv2d, gather, logSoftmax, matmul, maxPool2d, mean, neg, relu, reshape, Rng, tanh, type DType, type Tensor,
} from '../engine/index.js';

export type Params = Record<string, Tensor>;

/** Parameters, and the loss of them on a fixed random batch. */
export interface Workload {
  name: string;
  dtype: DType;
  params: Params;
  loss: (p: Params) => Tensor;
}

function crossEntropy(logits: Tensor, labels: Int32Array): Tensor {
  return neg(mean(gather(logSoftmax(logits, -1), labels)));
}

function labelsFor(rng: Rng, n: number, classes: number): Int32Array {
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = rng.int(classes);
  return y;
}

/** MLP 784-128-10 with tanh, mean cross-entropy. */
export function mlpWorkload(dtype: DType, batch = 128, seed = 0): Workload {
  const rng = new Rng(seed);
  const params: Params = {
    w1: rng.normalTensor([784, 128], 0, 1 / Math.sqrt(784), dtype),
    b1: rng.normalTensor([128], 0, 0.1, dtype),
    w2: rng.normalTensor([128, 10], 0, 1 / Math.sqrt(128), dtype),
    b2: rng.normalTensor([10], 0, 0.1, dtype),
  };
  const x = rng.uniformTensor([batch, 784], 0, 1, dtype);
  const y = labelsFor(rng, batch, 10);
  const loss = (p: Params): Tensor => {
    const h = tanh(add(matmul(x, p.w1!), p.b1!));
    return crossEntropy(add(matmul(h, p.w2!), p.b2!), y);
  };
  return { name: `mlp 784-128-10 ${dtype} b${batch}`, dtype, params, loss };
}

/** conv 1→8 5×5, relu, maxpool 2, conv 8→16 5×5, relu, maxpool 2, linear 256→10. */
export function cnnWorkload(dtype: DType, batch = 64, seed = 0): Workload {
  const rng = new Rng(seed);
  const params: Params = {
    c1: rng.normalTensor([8, 1, 5, 5], 0, 1 / 5, dtype),
    b1: rng.normalTensor([8], 0, 0.1, dtype),
    c2: rng.normalTensor([16, 8, 5, 5], 0, 1 / Math.sqrt(200), dtype),
    b2: rng.normalTensor([16], 0, 0.1, dtype),
    w3: rng.normalTensor([256, 10], 0, 1 / 16, dtype),
    b3: rng.normalTensor([10], 0, 0.1, dtype),
  };
  const x = rng.uniformTensor([batch, 1, 28, 28], 0, 1, dtype);
  const y = labelsFor(rng, batch, 10);
  const loss = (p: Params): Tensor => {
    let h = maxPool2d(relu(add(conv2d(x, p.c1!), reshape(p.b1!, [1, 8, 1, 1]))), 2);
    h = maxPool2d(relu(add(conv2d(h, p.c2!), reshape(p.b2!, [1, 16, 1, 1]))), 2);
    return crossEntropy(add(matmul(reshape(h, [batch, 256]), p.w3!), p.b3!), y);
  };
  return { name: `cnn 8c5-16c5-10 ${dtype} b${batch}`, dtype, params, loss };
}
