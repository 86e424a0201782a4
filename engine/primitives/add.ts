/** x + y: tangents add, and the cotangent flows unchanged to both inputs (broadcasting was undone by broadcastTo's rule). */
import type { Tensor, TensorLike } from '../tensor.js';
import { bind, definePrimitive, type MaybeTensor } from '../trace.js';
import { binaryOperands } from './operands.js';

export const addP = definePrimitive({
  name: 'add',
  impl: (backend, [x, y]) => backend.binary('add', x!, y!),
  jvp: ([tx, ty]) => addTangents(tx!, ty!),
  vjp: (ct) => [ct, ct],
});

/**
 * Elementwise sum with NumPy broadcasting.
 * @example add(tensor([1, 2]), 10) // [11, 12]
 */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return bind(addP, binaryOperands('add', a, b), undefined);
}

/** Sum of two tangents where `null` means zero, so zero tangents are never materialised. */
export function addTangents(a: MaybeTensor, b: MaybeTensor): MaybeTensor {
  if (a === null) return b;
  if (b === null) return a;
  return add(a, b);
}
