import type { Tensor, TensorLike } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { addTangents } from './add.js';
import { binaryOperands } from './operands.js';

export const mulP = definePrimitive({
  name: 'mul',
  impl: (backend, [x, y]) => backend.binary('mul', x!, y!),
  // product rule: d(xy) = dx·y + x·dy
  jvp: ([tx, ty], [x, y]) => addTangents(tx ? mul(tx, y!) : null, ty ? mul(x!, ty) : null),
  vjp: (ct, [x, y], _o, _p, needs) => [needs[0] ? mul(ct, y!) : null, needs[1] ? mul(ct, x!) : null],
});

/** Elementwise product with broadcasting. @example mul(tensor([1, 2]), 3) // [3, 6] */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return bind(mulP, binaryOperands('mul', a, b), undefined);
}
