/**
 * Anatomy of a primitive (read this one first). A primitive is three things kept together:
 * `impl`, the forward kernel, which only ever talks to the backend; `jvp`, the forward-mode rule
 * (input tangents → output tangent); `vjp`, the reverse-mode rule (output cotangent → input
 * cotangents). Both rules are written with ops such as `mul` itself, never with raw numbers, so
 * when a rule runs under another transform it is differentiated in turn: that is what makes
 * hvp (jvp of grad) and higher derivatives work. `null` stands for a zero tangent/cotangent, and
 * `needs[i]` says whether anyone wants input i's cotangent, so constants cost nothing.
 * The public function at the bottom checks and broadcasts its arguments, then calls `bind`.
 */
import type { Tensor, TensorLike } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { addTangents } from './add.js';
import { binaryOperands } from './operands.js';

export const mulP = definePrimitive({
  name: 'mul',
  impl: (backend, [x, y]) => backend.binary('mul', x!, y!),
  // product rule: d(xy) = dx·y + x·dy
  jvp: ([tx, ty], [x, y]) => addTangents(tx ? mul(tx, y!) : null, ty ? mul(x!, ty) : null),
  vjp: (ct, [x, y], _o, _p, needs) => [needs[0] ? mul(ct, y!) : null, needs[1] ? mul(ct, x!) : null],
});

/** Elementwise product with broadcasting. @example mul(tensor([1, 2]), 3) // [3, 6] */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return bind(mulP, binaryOperands('mul', a, b), undefined);
}
