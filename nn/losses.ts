/**
 * Losses, and the training objective of SPEC §1: L(θ) = (1/n) Σ ℓ(z_i; θ) + (wd/2)‖θ‖².
 */
import {
  ShapeError, ValueError, add, fmtShape, flattenTree, gather, logSoftmax, mean, mul, neg, square, sub, sum,
  type Tensor, type Tree,
} from '../engine/index.js';
import type { Params, Sequential } from './sequential.js';

/** How per-sample losses are combined: their mean, their sum, or none (one loss per sample). */
export type Reduction = 'mean' | 'sum' | 'none';

function reduce(v: Tensor, reduction: Reduction, op: string): Tensor {
  switch (reduction) {
    case 'mean': return mean(v);
    case 'sum': return sum(v);
    case 'none': return v;
    default: throw new ValueError(`${op}: reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`);
  }
}

/**
 * Cross-entropy from logits: ℓ_i = −log softmax(logits_i)[labels_i] (a numerically stable
 * log-softmax, then a gather). Labels are integers in [0, C).
 * @example
 * crossEntropy(tensor([[0, 0]]), [1]).item(); // log 2
 * crossEntropy(logits, labels, 'none');        // shape [N]
 */
export function crossEntropy(logits: Tensor, labels: ArrayLike<number>, reduction: Reduction = 'mean'): Tensor {
  if (logits.rank !== 2) throw new ShapeError(`crossEntropy: logits must be [N, C], got ${fmtShape(logits.shape)}`);
  return reduce(neg(gather(logSoftmax(logits, 1), labels)), reduction, 'crossEntropy');
}

/**
 * Mean squared error, ℓ_i = Σ_j (pred_ij − target_ij)² / (features per sample) as PyTorch's
 * MSELoss: 'mean' averages over every element, 'sum' adds them, 'none' gives one value per sample
 * (mean over its features).
 * @example mse(tensor([1, 2]), tensor([1, 4])).item(); // 2
 */
export function mse(pred: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  if (pred.rank !== target.rank || !pred.shape.every((d, i) => d === target.shape[i])) {
    throw new ShapeError(`mse: prediction ${fmtShape(pred.shape)} and target ${fmtShape(target.shape)} differ`);
  }
  const e = square(sub(pred, target));
  if (reduction === 'none') return e.rank <= 1 ? e : mean(e, Array.from({ length: e.rank - 1 }, (_, i) => i + 1));
  return reduce(e, reduction, 'mse');
}

/**
 * The weight-decay penalty (wd/2)‖θ‖² over every leaf of a parameter tree.
 * @example weightDecayPenalty(params, 1e-4)
 */
export function weightDecayPenalty(params: Tree, weightDecay: number): Tensor {
  if (!Number.isFinite(weightDecay) || weightDecay < 0) throw new ValueError(`weightDecayPenalty: weight decay must be finite and ≥ 0, got ${weightDecay}`);
  const { leaves } = flattenTree(params);
  if (leaves.length === 0) throw new ValueError('weightDecayPenalty: the parameter tree has no tensors');
  let total: Tensor = sum(square(leaves[0]!));
  for (const leaf of leaves.slice(1)) total = add(total, sum(square(leaf)));
  return mul(total, weightDecay / 2);
}

/** A loss of network outputs against integer labels (per sample with 'none'). */
export type LabelLoss = (outputs: Tensor, labels: Int32Array, reduction: Reduction) => Tensor;

/** The objective a network is trained on: L(θ; x, y). */
export type Objective = (params: Params, x: Tensor, labels: Int32Array) => Tensor;

/**
 * The SPEC training objective L(θ) = mean_i ℓ(z_i; θ) + (wd/2)‖θ‖², with ℓ cross-entropy by
 * default. `grad`, `hvp` etc. take it as is (the parameters are its first argument).
 * @example
 * const L = objective(net, { weightDecay: 1e-4 });
 * const g = grad(L)(params, x, y);
 */
export function objective(net: Sequential, options: { weightDecay?: number; loss?: LabelLoss } = {}): Objective {
  const wd = options.weightDecay ?? 0;
  const loss = options.loss ?? crossEntropy;
  if (!Number.isFinite(wd) || wd < 0) throw new ValueError(`objective: weight decay must be finite and ≥ 0, got ${wd}`);
  return (params, x, labels) => {
    const data = loss(net.apply(params, x), labels, 'mean');
    return wd === 0 ? data : add(data, weightDecayPenalty(params, wd));
  };
}
