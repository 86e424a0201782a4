/** sign(x) is piecewise constant: zero derivative everywhere it has one. */
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';

export const signP = definePrimitive({
  name: 'sign',
  impl: (backend, [x]) => backend.unary('sign', x!),
  jvp: () => null, // piecewise constant
  vjp: () => [null],
});

/** −1, 0 or 1. @example sign(tensor([-2, 0, 5])) // [-1, 0, 1] */
export function sign(x: Tensor): Tensor {
  return bind(signP, [x], undefined);
}
