/** σ(x) = 1/(1+e^−x), with derivative σ(1−σ) written from the output. */
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { mul } from './mul.js';
import { sub } from './sub.js';

export const sigmoidP = definePrimitive({
  name: 'sigmoid',
  impl: (backend, [x]) => backend.unary('sigmoid', x!),
  jvp: ([t], _x, s) => mul(t!, mul(s, sub(1, s))), // σ' = σ(1 − σ)
  vjp: (ct, _x, s) => [mul(ct, mul(s, sub(1, s)))],
});

/** The logistic function 1/(1+e^-x), computed without overflow. @example sigmoid(tensor([0])) // [0.5] */
export function sigmoid(x: Tensor): Tensor {
  return bind(sigmoidP, [x], undefined);
}
