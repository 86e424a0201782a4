/** |x|: its derivative is sign(x) (taken as 0 at 0), a flat function, so second derivatives vanish. */
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { mul } from './mul.js';
import { sign } from './sign.js';

export const absP = definePrimitive({
  name: 'abs',
  impl: (backend, [x]) => backend.unary('abs', x!),
  jvp: ([t], [x]) => mul(t!, sign(x!)),
  vjp: (ct, [x]) => [mul(ct, sign(x!))],
});

/** |x|. @example abs(tensor([-2, 3])) // [2, 3] */
export function abs(x: Tensor): Tensor {
  return bind(absP, [x], undefined);
}
