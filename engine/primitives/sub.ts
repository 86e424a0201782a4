/** x − y: like add, with the second cotangent negated. */
import type { Tensor, TensorLike } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { addTangents } from './add.js';
import { neg } from './neg.js';
import { binaryOperands } from './operands.js';

export const subP = definePrimitive({
  name: 'sub',
  impl: (backend, [x, y]) => backend.binary('sub', x!, y!),
  jvp: ([tx, ty]) => addTangents(tx!, ty ? neg(ty) : null),
  vjp: (ct, _p, _o, _params, needs) => [ct, needs[1] ? neg(ct) : null],
});

/** Elementwise difference with broadcasting. @example sub(tensor([3, 4]), 1) // [2, 3] */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return bind(subP, binaryOperands('sub', a, b), undefined);
}
