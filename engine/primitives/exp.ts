/** e^x is its own derivative, so both rules reuse the output instead of recomputing it. */
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { mul } from './mul.js';

export const expP = definePrimitive({
  name: 'exp',
  impl: (backend, [x]) => backend.unary('exp', x!),
  jvp: ([t], _x, out) => mul(t!, out), // (e^x)' = e^x
  vjp: (ct, _x, out) => [mul(ct, out)],
});

/** Elementwise e^x. @example exp(tensor([0, 1])) // [1, 2.718...] */
export function exp(x: Tensor): Tensor {
  return bind(expP, [x], undefined);
}
