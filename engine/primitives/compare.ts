/** Comparisons return 1 or 0 in the operands' dtype; they are flat, so their derivatives are zero. */
import type { Tensor, TensorLike } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { binaryOperands } from './operands.js';

export const equalP = definePrimitive({
  name: 'equal',
  impl: (backend, [x, y]) => backend.binary('equal', x!, y!),
  jvp: () => null,
  vjp: () => [null, null],
});

export const greaterP = definePrimitive({
  name: 'greater',
  impl: (backend, [x, y]) => backend.binary('greater', x!, y!),
  jvp: () => null,
  vjp: () => [null, null],
});

/** 1 where a == b, else 0. @example equal(tensor([1, 2]), 2) // [0, 1] */
export function equal(a: TensorLike, b: TensorLike): Tensor {
  return bind(equalP, binaryOperands('equal', a, b), undefined);
}

/** 1 where a > b, else 0. @example greater(tensor([1, 3]), 2) // [0, 1] */
export function greater(a: TensorLike, b: TensorLike): Tensor {
  return bind(greaterP, binaryOperands('greater', a, b), undefined);
}
