/** softplus(x) = log(1 + e^x), whose derivative is σ(x). */
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { mul } from './mul.js';
import { sigmoid } from './sigmoid.js';

export const softplusP = definePrimitive({
  name: 'softplus',
  impl: (backend, [x]) => backend.unary('softplus', x!),
  jvp: ([t], [x]) => mul(t!, sigmoid(x!)), // softplus' = σ
  vjp: (ct, [x]) => [mul(ct, sigmoid(x!))],
});

/** log(1 + e^x), stable for large |x|. @example softplus(tensor([0])) // [0.693...] */
export function softplus(x: Tensor): Tensor {
  return bind(softplusP, [x], undefined);
}
