/** grad and valueAndGrad: a few lines on top of vjp, as in JAX. */
import { TransformError, fmtShape } from '../errors.js';
import { onesLike, type Tensor } from '../tensor.js';
import type { Tree } from '../tree.js';
import { vjp } from './vjp.js';

/**
 * Wraps `f(x, ...rest)` (scalar output) into a function returning `[f(x), ∇ₓf]`; the gradient
 * is taken with respect to the first argument, a tensor or a tree of tensors.
 * @example
 * const [loss, g] = valueAndGrad((w: Tensor) => sum(square(w)))(tensor([1, 2])); // 5, [2, 4]
 */
export function valueAndGrad<T extends Tree, A extends unknown[]>(f: (x: T, ...rest: A) => Tensor): (x: T, ...rest: A) => [Tensor, T] {
  return (x, ...rest) => {
    const [y, pullback] = vjp((p: T) => f(p, ...rest), x);
    if (y.rank !== 0) throw new TransformError(`grad: the function must return a scalar, got shape ${fmtShape(y.shape)}`);
    return [y, pullback(onesLike(y))];
  };
}

/**
 * The gradient of a scalar function with respect to its first argument.
 * @example
 * const df = grad((x: Tensor) => sum(mul(x, x)));
 * df(tensor([3])); // [6]
 */
export function grad<T extends Tree, A extends unknown[]>(f: (x: T, ...rest: A) => Tensor): (x: T, ...rest: A) => T {
  const vg = valueAndGrad(f);
  return (x, ...rest) => vg(x, ...rest)[1];
}
