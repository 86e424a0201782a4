/** Hessian-vector products and dense Hessians for small parameter counts. */
import { ValueError } from '../errors.js';
import { vdot } from '../composite.js';
import { add } from '../primitives/add.js';
import { reshape } from '../primitives/reshape.js';
import { tensor, zerosLike, type Tensor } from '../tensor.js';
import { flattenTree, leavesLike, type Tree } from '../tree.js';
import { grad } from './grad.js';
import { jvp } from './jvp.js';

/**
 * H(x)·v by forward-over-reverse (Pearlmutter): the directional derivative of ∇f along v,
 * `jvp(grad f, x, v)`. Costs about one gradient plus one forward-mode pass over it.
 * @example
 * hvp((x: Tensor) => sum(pow(x, 3)), tensor([1, 2]), tensor([1, 0])); // [6, 0]
 */
export function hvp<T extends Tree, A extends unknown[]>(f: (x: T, ...rest: A) => Tensor, x: T, v: T, ...rest: A): T {
  const g = grad(f);
  return jvp((p: T) => g(p, ...rest), x, v)[1];
}

/**
 * H(x)·v by reverse-over-reverse: ∇ₓ⟨∇f(x), v⟩. Slower than `hvp`; kept as a cross-check.
 * @example hvpReverse((x: Tensor) => sum(pow(x, 3)), tensor([1, 2]), tensor([1, 0])); // [6, 0]
 */
export function hvpReverse<T extends Tree, A extends unknown[]>(f: (x: T, ...rest: A) => Tensor, x: T, v: T, ...rest: A): T {
  const vs = leavesLike(x, v, 'hvpReverse', 'v');
  const inner = (p: T): Tensor => {
    const gs = flattenTree(grad(f)(p, ...rest)).leaves;
    return gs.map((gi, i) => vdot(gi, vs[i] as Tensor)).reduce((a, b) => add(a, b));
  };
  return grad(inner)(x);
}

/**
 * The dense Hessian of `f` at `x` (a tree of P values in flattening order), built from P HVP
 * columns and returned as a row-major P×P Float64Array. For small models and for tests.
 * @example hessian((x: Tensor) => sum(square(x)), tensor([1, 2])).matrix // [2, 0, 0, 2]
 */
export function hessian<T extends Tree, A extends unknown[]>(f: (x: T, ...rest: A) => Tensor, x: T, ...rest: A): { size: number; matrix: Float64Array } {
  const { leaves, unflatten } = flattenTree(x);
  const sizes = leaves.map((l) => l.size);
  const P = sizes.reduce((a, b) => a + b, 0);
  if (P > 20000) throw new ValueError(`hessian: ${P} parameters would need a ${P}×${P} dense matrix; use hvp instead`);
  const matrix = new Float64Array(P * P);
  let col = 0;
  leaves.forEach((leaf, li) => {
    for (let k = 0; k < sizes[li]!; k++, col++) {
      const basis = leaves.map((l, j) => {
        if (j !== li) return zerosLike(l);
        const e = new Float64Array(l.size);
        e[k] = 1;
        return reshape(tensor(e, [l.size], l.dtype), l.shape);
      });
      const hv = flattenTree(hvp(f, x, unflatten(basis), ...rest)).leaves;
      let row = 0;
      for (const h of hv) {
        const vals = h.toArray();
        for (let i = 0; i < vals.length; i++, row++) matrix[row * P + col] = vals[i]!;
      }
    }
  });
  return { size: P, matrix };
}
