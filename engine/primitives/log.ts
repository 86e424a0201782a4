/** log x: derivative 1/x (the caller keeps x positive). */
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { div } from './div.js';

export const logP = definePrimitive({
  name: 'log',
  impl: (backend, [x]) => backend.unary('log', x!),
  jvp: ([t], [x]) => div(t!, x!), // (log x)' = 1/x
  vjp: (ct, [x]) => [div(ct, x!)],
});

/** Natural logarithm. @example log(tensor([1])) // [0] */
export function log(x: Tensor): Tensor {
  return bind(logP, [x], undefined);
}
