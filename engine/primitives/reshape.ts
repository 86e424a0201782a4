/** Reshape: same numbers, new shape; the VJP reshapes the cotangent back. */
import { ShapeError, fmtShape } from '../errors.js';
import { checkShape, sameShape, sizeOf, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';

export const reshapeP = definePrimitive<{ shape: Shape }>({
  name: 'reshape',
  impl: (backend, [x], { shape }) => backend.reshape(x!, shape),
  jvp: ([t], _x, _o, { shape }) => reshape(t!, shape),
  vjp: (ct, [x]) => [reshape(ct, x!.shape)],
});

/**
 * Same values, new shape (row-major order); one dimension may be -1 and is inferred.
 * @example reshape(arange(6), [2, -1]) // shape [2, 3]
 */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const unknown = shape.indexOf(-1);
  let target = [...shape];
  if (unknown >= 0) {
    const known = sizeOf(shape.filter((_, i) => i !== unknown));
    if (known === 0 || x.size % known !== 0) throw new ShapeError(`reshape: cannot infer -1 in ${fmtShape(shape)} for ${x.size} elements of ${fmtShape(x.shape)}`);
    target[unknown] = x.size / known;
  }
  checkShape('reshape', target);
  if (sizeOf(target) !== x.size) throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(target)} (${sizeOf(target)})`);
  if (sameShape(target, x.shape)) return x;
  return bind(reshapeP, [x], { shape: target });
}
