/**
 * The transform properties on whole losses: random MLPs and small CNNs with cross-entropy,
 * differentiated with respect to every weight at once (a parameter list), on every backend.
 */
import { describe, it } from 'vitest';
import {
  add, conv2d, gather, logSoftmax, matmul, maxPool2d, avgPool2d, mean, neg, reshape, sigmoid, softplus, tanh,
  Rng, type Tensor,
} from '../../engine/index.js';
import { backendsUnderTest } from '../backends.js';
import { checkCase, sampleArb, type Case, type Sample } from './check.js';

const activations = [tanh, sigmoid, softplus] as const;

function crossEntropy(logits: Tensor, labels: number[]): Tensor {
  return neg(mean(gather(logSoftmax(logits), labels)));
}

function labels(s: Sample, n: number, classes: number): number[] {
  const rng = new Rng(s.seed ^ 0x1b873593);
  return Array.from({ length: n }, () => rng.int(classes));
}

/**
 * An MLP with `hidden` hidden layers of random widths and a random smooth activation. Inputs:
 * the weights and biases of each layer (differentiated), then the data batch (a constant).
 */
function mlp(hidden: number): Case {
  return {
    name: `random MLP (${hidden} hidden), cross-entropy`, nDiff: 2 * (hidden + 1), loss: true,
    sample: sampleArb((rng) => {
      const widths = [2 + rng.int(4), ...Array.from({ length: hidden }, () => 2 + rng.int(4)), 2 + rng.int(3)];
      const shapes: number[][] = [];
      for (let i = 0; i + 1 < widths.length; i++) shapes.push([widths[i]!, widths[i + 1]!], [widths[i + 1]!]);
      shapes.push([1 + rng.int(4), widths[0]!]); // the batch
      return shapes;
    }, []),
    op: (params, [x], s) => {
      const act = activations[s.seed % activations.length]!;
      let h = x!;
      for (let i = 0; i < params.length; i += 2) {
        h = add(matmul(h, params[i]!), params[i + 1]!);
        if (i + 2 < params.length) h = act(h);
      }
      return crossEntropy(h, labels(s, x!.shape[0]!, h.shape[1]!));
    },
  };
}

/** conv (3×3, padding 1) → activation → pool 2 → linear → cross-entropy; then the image batch. */
function cnn(pool: 'max' | 'avg'): Case {
  return {
    name: `small CNN (conv, tanh, ${pool}Pool, linear), cross-entropy`, nDiff: 4, loss: true,
    sample: sampleArb((rng) => {
      const [n, c, o, hw, classes] = [1 + rng.int(2), 1 + rng.int(2), 1 + rng.int(2), 4 + 2 * rng.int(2), 2 + rng.int(2)];
      const flatSize = o * (hw / 2) * (hw / 2);
      return [[o, c, 3, 3], [o], [flatSize, classes], [classes], [n, c, hw, hw]];
    }, ['real', 'real', 'real', 'real', 'real']),
    op: ([w, b, w2, b2], [x], s) => {
      const n = x!.shape[0]!, o = w!.shape[0]!;
      const h = tanh(add(conv2d(x!, w!, { padding: 1 }), reshape(b!, [1, o, 1, 1])));
      const p = pool === 'max' ? maxPool2d(h, 2) : avgPool2d(h, 2);
      return crossEntropy(add(matmul(reshape(p, [n, -1]), w2!), b2!), labels(s, n, b2!.shape[0]!));
    },
    // a finite-difference step must not swap the winner of a pooling window
    admissible: pool === 'avg' ? undefined : (s) => minPoolGap(s) > 1e-3,
  };
}

/** The smallest gap between the two largest values of any 2×2 pooling window of the CNN. */
function minPoolGap(s: Sample): number {
  const [w, b, , , x] = s.arrays.map((a, i) => ({ a, shape: s.shapes[i]! }));
  const [n, c, hw] = [x!.shape[0]!, x!.shape[1]!, x!.shape[2]!];
  const o = w!.shape[0]!;
  let gap = Infinity;
  for (let bi = 0; bi < n; bi++) for (let oc = 0; oc < o; oc++) {
    const act = (i: number, j: number): number => {
      let acc = b!.a[oc]!;
      for (let ch = 0; ch < c; ch++) for (let ki = 0; ki < 3; ki++) for (let kj = 0; kj < 3; kj++) {
        const y = i + ki - 1, z = j + kj - 1;
        if (y >= 0 && y < hw && z >= 0 && z < hw) acc += w!.a[((oc * c + ch) * 3 + ki) * 3 + kj]! * x!.a[((bi * c + ch) * hw + y) * hw + z]!;
      }
      return Math.tanh(acc);
    };
    for (let i = 0; i < hw; i += 2) for (let j = 0; j < hw; j += 2) {
      const v = [act(i, j), act(i, j + 1), act(i + 1, j), act(i + 1, j + 1)].sort((p, q) => q - p);
      gap = Math.min(gap, v[0]! - v[1]!);
    }
  }
  return gap;
}

describe.each(backendsUnderTest())('losses on $name', (entry) => {
  it('random MLPs (1 hidden layer) with cross-entropy', () => checkCase(mlp(1), entry, { numRuns: entry.exact64 ? 8 : 4 }));
  it('random MLPs (2 hidden layers) with cross-entropy', () => checkCase(mlp(2), entry, { numRuns: entry.exact64 ? 8 : 4 }));
  it('small CNNs (avgPool) with cross-entropy', () => checkCase(cnn('avg'), entry, { numRuns: entry.exact64 ? 6 : 3 }));
  it('small CNNs (maxPool) with cross-entropy', () => checkCase(cnn('max'), entry, { numRuns: entry.exact64 ? 6 : 3 }));
});
