/** x / y, with rules written in terms of the output y = x/y so nothing is computed twice. */
import type { Tensor, TensorLike } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { addTangents } from './add.js';
import { mul } from './mul.js';
import { neg } from './neg.js';
import { binaryOperands } from './operands.js';

export const divP = definePrimitive({
  name: 'div',
  impl: (backend, [x, y]) => backend.binary('div', x!, y!),
  // d(x/y) = dx/y − (x/y)·dy/y
  jvp: ([tx, ty], [, y], out) => addTangents(tx ? div(tx, y!) : null, ty ? neg(div(mul(out, ty), y!)) : null),
  vjp: (ct, [, y], out, _p, needs) => [needs[0] ? div(ct, y!) : null, needs[1] ? neg(div(mul(ct, out), y!)) : null],
});

/** Elementwise quotient with broadcasting. @example div(tensor([1, 2]), 2) // [0.5, 1] */
export function div(a: TensorLike, b: TensorLike): Tensor {
  return bind(divP, binaryOperands('div', a, b), undefined);
}
