/** √x, with derivative 1/(2√x) written from the output. */
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { div } from './div.js';
import { mul } from './mul.js';

export const sqrtP = definePrimitive({
  name: 'sqrt',
  impl: (backend, [x]) => backend.unary('sqrt', x!),
  jvp: ([t], _x, y) => div(t!, mul(y, 2)), // (√x)' = 1/(2√x)
  vjp: (ct, _x, y) => [div(ct, mul(y, 2))],
});

/** Square root. @example sqrt(tensor([4])) // [2] */
export function sqrt(x: Tensor): Tensor {
  return bind(sqrtP, [x], undefined);
}
