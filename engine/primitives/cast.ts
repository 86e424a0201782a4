/** Changing dtype is linear: tangents are cast forward, cotangents are cast back to the input's dtype. */
import type { DType } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';

export const castP = definePrimitive<{ dtype: DType }>({
  name: 'cast',
  impl: (backend, [x], { dtype }) => backend.cast(x!, dtype),
  jvp: ([t], _x, _o, { dtype }) => cast(t!, dtype),
  vjp: (ct, [x]) => [cast(ct, x!.dtype)],
});

/** Converts to another dtype. @example cast(tensor([1.5]), 'float32') */
export function cast(x: Tensor, dtype: DType): Tensor {
  return x.dtype === dtype ? x : bind(castP, [x], { dtype });
}
