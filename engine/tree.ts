/**
 * Parameter trees: tensors nested in arrays and plain objects, e.g. `{ w: Tensor, b: Tensor }`
 * or `[layer1, layer2]`. Transforms flatten a tree to its leaves, work on the list, and rebuild
 * a tree of the same structure. Leaf order is depth-first, object keys in insertion order —
 * the documented order of flat parameter vectors.
 */
import { ValueError } from './errors.js';
import { Tensor } from './tensor.js';

export type Tree = Tensor | readonly Tree[] | { readonly [key: string]: Tree };

/** The same structure as `T` with every leaf replaced by a Tensor (identity for tensor trees). */
export type TreeOf<T> = T;

/** Leaves of a tree in order, and a function that rebuilds the structure from new leaves. */
export function flattenTree<T extends Tree>(tree: T): { leaves: Tensor[]; unflatten: (leaves: readonly Tensor[]) => T } {
  const leaves: Tensor[] = [];
  const walk = (t: Tree, path: string): void => {
    if (t instanceof Tensor) leaves.push(t);
    else if (Array.isArray(t)) t.forEach((c, i) => walk(c, `${path}[${i}]`));
    else if (t !== null && typeof t === 'object') for (const [k, c] of Object.entries(t)) walk(c as Tree, `${path}.${k}`);
    else throw new ValueError(`tree: leaf at ${path || 'root'} is ${String(t)}, not a Tensor`);
  };
  walk(tree, '');
  const unflatten = (newLeaves: readonly Tensor[]): T => {
    let i = 0;
    const build = (t: Tree): Tree => {
      if (t instanceof Tensor) return newLeaves[i++]!;
      if (Array.isArray(t)) return t.map(build);
      return Object.fromEntries(Object.entries(t).map(([k, c]) => [k, build(c as Tree)]));
    };
    const out = build(tree) as T;
    if (i !== newLeaves.length) throw new ValueError(`tree: expected ${i} leaves, got ${newLeaves.length}`);
    return out;
  };
  return { leaves, unflatten };
}

/** Applies `f` to every leaf. @example mapTree(params, (p) => mul(p, 2)) */
export function mapTree<T extends Tree>(tree: T, f: (leaf: Tensor, index: number) => Tensor): T {
  const { leaves, unflatten } = flattenTree(tree);
  return unflatten(leaves.map(f));
}

/** Applies `f` leaf by leaf to two trees of the same structure. */
export function zipTree<T extends Tree>(a: T, b: T, f: (x: Tensor, y: Tensor) => Tensor): T {
  const fa = flattenTree(a), fb = flattenTree(b);
  if (fa.leaves.length !== fb.leaves.length) throw new ValueError(`zipTree: trees have ${fa.leaves.length} and ${fb.leaves.length} leaves`);
  return fa.unflatten(fa.leaves.map((x, i) => f(x, fb.leaves[i]!)));
}
