/** Concatenation is linear: tangents concatenate; each input's cotangent is its own slice of the output's. */
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors.js';
import { normalizeAxes } from '../shape.js';
import { zerosLike, type Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { slice } from './slice.js';

export const concatP = definePrimitive<{ axis: number }>({
  name: 'concat',
  impl: (backend, xs, { axis }) => backend.concat(xs, axis),
  jvp: (ts, xs, _o, { axis }) => (ts.every((t) => t === null) ? null : concat(ts.map((t, i) => t ?? zerosLike(xs[i]!)), axis)),
  // each input gets back its own stretch of the cotangent
  vjp: (ct, xs, _o, { axis }, needs) => {
    let at = 0;
    return xs.map((x, i) => {
      const begin = ct.shape.map((_, j) => (j === axis ? at : 0));
      at += x.shape[axis]!;
      return needs[i] ? slice(ct, begin, x.shape) : null;
    });
  },
});

/** Joins tensors along an existing axis. @example concat([tensor([1]), tensor([2, 3])], 0) // [1, 2, 3] */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ValueError('concat: needs at least one tensor');
  const first = xs[0]!;
  const [ax] = normalizeAxes('concat', axis, first.rank);
  xs.forEach((x, i) => {
    if (x.dtype !== first.dtype) throw new DTypeError(`concat: tensor ${i} is ${x.dtype}, tensor 0 is ${first.dtype}`);
    if (x.rank !== first.rank || x.shape.some((d, j) => j !== ax && d !== first.shape[j])) {
      throw new ShapeError(`concat: tensor ${i} has shape ${fmtShape(x.shape)}, which does not match ${fmtShape(first.shape)} off axis ${ax}`);
    }
  });
  if (xs.length === 1) return first;
  return bind(concatP, xs, { axis: ax! });
}
