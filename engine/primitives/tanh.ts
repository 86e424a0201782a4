/** tanh x, with derivative 1 − tanh² written from the output. */
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { mul } from './mul.js';
import { square } from './square.js';
import { sub } from './sub.js';

export const tanhP = definePrimitive({
  name: 'tanh',
  impl: (backend, [x]) => backend.unary('tanh', x!),
  jvp: ([t], _x, y) => mul(t!, sub(1, square(y))), // tanh' = 1 − tanh²
  vjp: (ct, _x, y) => [mul(ct, sub(1, square(y)))],
});

/** Hyperbolic tangent. @example tanh(tensor([0])) // [0] */
export function tanh(x: Tensor): Tensor {
  return bind(tanhP, [x], undefined);
}
