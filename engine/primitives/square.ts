/** x², with derivative 2x: a primitive of its own because losses use it everywhere. */
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { mul } from './mul.js';

export const squareP = definePrimitive({
  name: 'square',
  impl: (backend, [x]) => backend.unary('square', x!),
  jvp: ([t], [x]) => mul(t!, mul(x!, 2)),
  vjp: (ct, [x]) => [mul(ct, mul(x!, 2))],
});

/** x². @example square(tensor([3])) // [9] */
export function square(x: Tensor): Tensor {
  return bind(squareP, [x], undefined);
}
