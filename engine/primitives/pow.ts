/** x^p for a constant p: the rule p·x^(p−1) uses pow again, so any order of derivative works. */
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { mul } from './mul.js';

export const powP = definePrimitive<{ exponent: number }>({
  name: 'pow',
  impl: (backend, [x], { exponent }) => backend.pow(x!, exponent),
  jvp: ([t], [x], _y, { exponent: p }) => mul(t!, mul(pow(x!, p - 1), p)), // (x^p)' = p·x^(p−1)
  vjp: (ct, [x], _y, { exponent: p }) => [mul(ct, mul(pow(x!, p - 1), p))],
});

/** x raised to a constant exponent. @example pow(tensor([2, 3]), 2) // [4, 9] */
export function pow(x: Tensor, exponent: number): Tensor {
  if (!Number.isFinite(exponent)) throw new ValueError(`pow: exponent must be a finite number, got ${exponent}`);
  return bind(powP, [x], { exponent });
}
