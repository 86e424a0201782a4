/**
 * Adapters from gift/nn to influence: a Sequential classifier becomes an {@link Objective}
 * (cross-entropy split as network output + loss of the output, so the Gauss-Newton option
 * works), and an nn Dataset becomes an indexable {@link Dataset} of batches.
 */
import { ValueError, type Tensor } from '../engine/index.js';
import { crossEntropy, subset, type Dataset as NnDataset, type Params, type Sequential } from '../nn/index.js';
import type { Dataset, Objective } from './hessian.js';

/** A batch of an nn classification dataset: samples and integer labels. */
export interface LabelledBatch {
  readonly x: Tensor;
  readonly y: Int32Array;
}

/**
 * The objective `mean cross-entropy + (wd/2)‖θ‖²` of a classifier, for influence functions.
 * Weight decay is kept apart (`weightDecay`), as {@link Objective} requires.
 * @example const objective = classifierObjective(mlp(), 1e-3);
 */
export function classifierObjective(net: Sequential, weightDecay = 0): Objective<Params, LabelledBatch> {
  if (!Number.isFinite(weightDecay) || weightDecay < 0) throw new ValueError(`classifierObjective: weight decay must be finite and ≥ 0, got ${weightDecay}`);
  const output = (p: Params, b: LabelledBatch): Tensor => net.apply(p, b.x);
  const lossOfOutput = (logits: Tensor, b: LabelledBatch): Tensor => crossEntropy(logits, b.y);
  return { loss: (p, b) => lossOfOutput(output(p, b), b), output, lossOfOutput, weightDecay };
}

/** An nn dataset seen as indexable batches. @example indexable(train).batch([0, 1]) */
export function indexable(ds: NnDataset): Dataset<LabelledBatch> {
  return {
    size: ds.x.shape[0]!,
    batch: (indices) => {
      const s = subset(ds, indices);
      return { x: s.x, y: s.y };
    },
  };
}
