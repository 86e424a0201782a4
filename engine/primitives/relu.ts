/** max(x, 0): the derivative is a step (0 at the kink, as PyTorch), itself flat, so HVPs through relu see only the linear pieces. */
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { greater } from './compare.js';
import { mul } from './mul.js';

export const reluP = definePrimitive({
  name: 'relu',
  impl: (backend, [x]) => backend.unary('relu', x!),
  // the derivative is the step function (taken as 0 at x = 0, as PyTorch does)
  jvp: ([t], [x]) => mul(t!, greater(x!, 0)),
  vjp: (ct, [x]) => [mul(ct, greater(x!, 0))],
});

/** max(x, 0); NaN stays NaN (as in PyTorch), so a bad value upstream is not hidden. @example relu(tensor([-1, 2])) // [0, 2] */
export function relu(x: Tensor): Tensor {
  return bind(reluP, [x], undefined);
}
