/** −x: linear, so both rules just negate. */
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';

export const negP = definePrimitive({
  name: 'neg',
  impl: (backend, [x]) => backend.unary('neg', x!),
  jvp: ([t]) => neg(t!),
  vjp: (ct) => [neg(ct)],
});

/** Elementwise negation. @example neg(tensor([1, -2])) // [-1, 2] */
export function neg(x: Tensor): Tensor {
  return bind(negP, [x], undefined);
}
