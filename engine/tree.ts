/**
 * Parameter trees: tensors nested in arrays and plain objects, e.g. `{ w: Tensor, b: Tensor }`
 * or `[layer1, layer2]`. Transforms flatten a tree to its leaves, work on the list, and rebuild
 * a tree of the same structure. Leaf order is depth-first, object keys in insertion order —
 * the documented order of flat parameter vectors.
 *
 * A second tree that goes with a first one (a tangent for a primal, a gradient for parameters)
 * is matched by key and index, never by position: `leavesLike` reads its leaves in the first
 * tree's order, so `{ b, a }` and `{ a, b }` are the same tangent, and a tree with other keys,
 * other lengths or other shapes is an error that names the path where they differ.
 */
import { DTypeError, ShapeError, fmtShape } from './errors.js';
import { Tensor } from './tensor.js';

export type Tree = Tensor | readonly Tree[] | { readonly [key: string]: Tree };

/** The same structure as `T` with every leaf replaced by a Tensor (identity for tensor trees). */
export type TreeOf<T> = T;

/** Two trees that should have one structure do not: other keys, other lengths, a missing leaf. */
export class TreeError extends ShapeError {}

function isPlainObject(t: unknown): t is { readonly [key: string]: unknown } {
  if (t === null || typeof t !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(t);
  return proto === Object.prototype || proto === null;
}

function describe(t: unknown): string {
  if (t instanceof Tensor) return `a tensor of shape ${fmtShape(t.shape)}`;
  if (Array.isArray(t)) return `an array of ${t.length}`;
  if (isPlainObject(t)) return 'an object';
  if (t === null || t === undefined) return String(t);
  if (typeof t === 'object') return `a ${t.constructor.name}`;
  return `${typeof t} ${String(t)}`;
}

/**
 * Leaves of a tree in order, their paths (`.w`, `[1].bias`; `''` for a lone tensor), and a
 * function that rebuilds the structure from new leaves.
 * @example
 * const { leaves, paths } = flattenTree({ w: zeros([2, 3]), b: zeros([3]) });
 * paths; // ['.w', '.b']
 */
export function flattenTree<T extends Tree>(tree: T): { leaves: Tensor[]; paths: string[]; unflatten: (leaves: readonly Tensor[]) => T } {
  const leaves: Tensor[] = [];
  const paths: string[] = [];
  const walk = (t: unknown, path: string): void => {
    if (t instanceof Tensor) {
      leaves.push(t);
      paths.push(path);
    } else if (Array.isArray(t)) t.forEach((c, i) => walk(c, `${path}[${i}]`));
    else if (isPlainObject(t)) for (const [k, c] of Object.entries(t)) walk(c, `${path}.${k}`);
    else throw new TreeError(`tree: the leaf at ${path || 'the root'} is ${describe(t)}, not a Tensor`);
  };
  walk(tree, '');
  const unflatten = (newLeaves: readonly Tensor[]): T => {
    if (newLeaves.length !== leaves.length) throw new TreeError(`tree: expected ${leaves.length} leaves, got ${newLeaves.length}`);
    let i = 0;
    const build = (t: Tree): Tree => {
      if (t instanceof Tensor) return newLeaves[i++] as Tensor;
      if (Array.isArray(t)) return t.map(build);
      return Object.fromEntries(Object.entries(t).map(([k, c]) => [k, build(c as Tree)]));
    };
    return build(tree) as T;
  };
  return { leaves, paths, unflatten };
}

/**
 * The leaves of `other` in the order of `like`'s leaves, matched by object key and array index.
 * `other` must have exactly `like`'s structure (the same keys, in any order, and the same array
 * lengths), and each leaf `like`'s shape and dtype; otherwise the error names the operation,
 * the argument and the path: `jvp: tangents.b has shape [3] where the primal has [2, 3]`.
 * `likeName` is how messages call `like`.
 * @example
 * const p = { a: tensor([1, 2]), b: tensor([3]) };
 * leavesLike(p, { b: tensor([0]), a: tensor([1, 0]) }, 'jvp', 'tangents'); // [[1, 0], [0]]
 */
export function leavesLike(like: Tree, other: unknown, op: string, name: string, likeName = 'the primal'): Tensor[] {
  const out: Tensor[] = [];
  const walk = (l: Tree, o: unknown, path: string): void => {
    const where = `${op}: ${name}${path}`;
    if (l instanceof Tensor) {
      if (!(o instanceof Tensor)) throw new TreeError(`${where} is ${describe(o)} where ${likeName} has a tensor of shape ${fmtShape(l.shape)}`);
      if (o.shape.length !== l.shape.length || o.shape.some((d, i) => d !== l.shape[i])) {
        throw new ShapeError(`${where} has shape ${fmtShape(o.shape)} where ${likeName} has ${fmtShape(l.shape)}`);
      }
      if (o.dtype !== l.dtype) throw new DTypeError(`${where} is ${o.dtype} where ${likeName} is ${l.dtype}`);
      out.push(o);
    } else if (Array.isArray(l)) {
      if (!Array.isArray(o) || o.length !== l.length) throw new TreeError(`${where} is ${describe(o)} where ${likeName} has an array of ${l.length}`);
      l.forEach((c: Tree, i) => walk(c, o[i], `${path}[${i}]`));
    } else {
      if (!isPlainObject(o)) throw new TreeError(`${where} is ${describe(o)} where ${likeName} has an object`);
      const keys = Object.keys(l);
      const missing = keys.filter((k) => !Object.hasOwn(o, k));
      const extra = Object.keys(o).filter((k) => !Object.hasOwn(l, k));
      if (missing.length > 0 || extra.length > 0) {
        const parts = [missing.length > 0 ? `lacks key ${missing.join(', ')}` : '', extra.length > 0 ? `has unknown key ${extra.join(', ')}` : ''];
        throw new TreeError(`${where} ${parts.filter((s) => s !== '').join(' and ')} (${likeName} has ${keys.join(', ')})`);
      }
      for (const k of keys) walk((l as { readonly [key: string]: Tree })[k] as Tree, o[k], `${path}.${k}`);
    }
  };
  walk(like, other, '');
  return out;
}

/** Applies `f` to every leaf. @example mapTree(params, (p) => mul(p, 2)) */
export function mapTree<T extends Tree>(tree: T, f: (leaf: Tensor, index: number) => Tensor): T {
  const { leaves, unflatten } = flattenTree(tree);
  return unflatten(leaves.map(f));
}

/**
 * Applies `f` leaf by leaf to two trees of the same structure, matched by key; the result has
 * `a`'s structure. @example zipTree(params, grads, (p, g) => sub(p, mul(g, 0.1)))
 */
export function zipTree<T extends Tree>(a: T, b: T, f: (x: Tensor, y: Tensor) => Tensor): T {
  const fa = flattenTree(a);
  const bs = leavesLike(a, b, 'zipTree', 'b', 'a');
  return fa.unflatten(fa.leaves.map((x, i) => f(x, bs[i] as Tensor)));
}
