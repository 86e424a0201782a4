/**
 * Flat vectors of parameter trees. Influence functions treat θ as one vector: the leaves of the
 * parameter tree concatenated in flattening order (module order, weight before bias), held in
 * host memory as a Float64Array whatever the tensors' dtype.
 */
import { ShapeError } from './errors.js';
import { tensor, type Tensor } from './tensor.js';
import { flattenTree, type Tree } from './tree.js';

/** The total number of scalars in a tree. @example treeSize({ w: zeros([2, 3]), b: zeros([3]) }) // 9 */
export function treeSize(tree: Tree): number {
  return flattenTree(tree).leaves.reduce((n, l) => n + l.size, 0);
}

/** Concatenates every leaf into one Float64Array (downloads from the device). @example toVector(params) */
export function toVector(tree: Tree): Float64Array {
  const { leaves } = flattenTree(tree);
  const out = new Float64Array(leaves.reduce((n, l) => n + l.size, 0));
  let at = 0;
  for (const leaf of leaves) {
    out.set(leaf.toArray(), at);
    at += leaf.size;
  }
  return out;
}

/**
 * Splits a flat vector back into a tree shaped (and typed) like `like`.
 * @example fromVector(toVector(params), params) // equal to params
 */
export function fromVector<T extends Tree>(vector: ArrayLike<number>, like: T): T {
  const { leaves, unflatten } = flattenTree(like);
  const total = leaves.reduce((n, l) => n + l.size, 0);
  if (vector.length !== total) throw new ShapeError(`fromVector: vector has ${vector.length} entries, the tree ${total}`);
  // typed arrays hand each leaf a view (the backend copies it once, into the leaf's dtype);
  // going through a plain array would cost more than the HVP that usually follows
  const typed = vector instanceof Float64Array || vector instanceof Float32Array;
  let at = 0;
  const out: Tensor[] = leaves.map((leaf) => {
    const window = typed ? vector.subarray(at, at + leaf.size) : (Array.prototype.slice.call(vector, at, at + leaf.size) as number[]);
    at += leaf.size;
    return tensor(window, leaf.shape, leaf.dtype);
  });
  return unflatten(out);
}
