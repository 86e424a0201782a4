/** The identity for values, a constant for every transform: used where a value must not carry derivatives (the shift in logSumExp). */
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';

export const stopGradientP = definePrimitive({
  name: 'stopGradient',
  impl: (_backend, [x]) => x!, // buffers are immutable, so sharing one is safe
  jvp: () => null,
  vjp: () => [null],
});

/** The value of `x`, seen by every transform as a constant. @example stopGradient(x) */
export function stopGradient(x: Tensor): Tensor {
  return bind(stopGradientP, [x], undefined);
}
