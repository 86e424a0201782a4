/**
 * The larger (maximum) or smaller (minimum) of two tensors, elementwise. Which operand was taken
 * is data, so derivatives flow into that one only: into the second where it strictly wins, into
 * the first otherwise (ties included). NaN in either operand gives NaN, as in PyTorch: a bad
 * value is not hidden.
 */
import type { BinaryOp } from '../backend.js';
import type { Tensor, TensorLike } from '../tensor.js';
import { bind, definePrimitive, type Primitive } from '../trace.js';
import { greater } from './compare.js';
import { binaryOperands } from './operands.js';
import { where } from './where.js';

/** A primitive on kernel `op` whose derivatives go to y where `secondWins(x, y)` is 1, else to x. */
function choosing(name: string, op: BinaryOp, secondWins: (x: Tensor, y: Tensor) => Tensor): Primitive<undefined> {
  return definePrimitive({
    name,
    impl: (backend, [x, y]) => backend.binary(op, x!, y!),
    jvp: ([tx, ty], [x, y]) => (tx === null && ty === null ? null : where(secondWins(x!, y!), ty ?? 0, tx ?? 0)),
    vjp: (ct, [x, y], _o, _p, needs) => {
      const second = secondWins(x!, y!);
      return [needs[0] ? where(second, 0, ct) : null, needs[1] ? where(second, ct, 0) : null];
    },
  });
}

export const maximumP = choosing('maximum', 'max', (x, y) => greater(y, x));
export const minimumP = choosing('minimum', 'min', (x, y) => greater(x, y));

/**
 * Elementwise maximum with broadcasting; the derivative goes to `a` on ties, and NaN in either
 * operand gives NaN.
 * @example maximum(tensor([-1, 2, NaN]), 0) // [0, 2, NaN]
 */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return bind(maximumP, binaryOperands('maximum', a, b), undefined);
}

/**
 * Elementwise minimum with broadcasting; the derivative goes to `a` on ties, and NaN in either
 * operand gives NaN.
 * @example minimum(tensor([-1, 2, NaN]), 1) // [-1, 1, NaN]
 */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return bind(minimumP, binaryOperands('minimum', a, b), undefined);
}
