/** Broadcasting as an explicit primitive: its VJP sums the cotangent back ("unbroadcast"), so binary primitives never deal with shapes. */
import { ShapeError, fmtShape } from '../errors.js';
import { sameShape, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { reshape } from './reshape.js';
import { sum } from './sum.js';

export const broadcastToP = definePrimitive<{ shape: Shape }>({
  name: 'broadcastTo',
  impl: (backend, [x], { shape }) => backend.broadcastTo(x!, shape),
  jvp: ([t], _x, _o, { shape }) => broadcastTo(t!, shape),
  // every copy of an input element received cotangent: sum them back (NumPy's "unbroadcast")
  vjp: (ct, [x]) => [sumTo(ct, x!.shape)],
});

/** Sums `x` down to `shape`, the adjoint of broadcasting `shape` up to `x.shape`. */
export function sumTo(x: Tensor, shape: Shape): Tensor {
  const lead = x.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < x.rank; i++) if (i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1)) axes.push(i);
  return reshape(axes.length > 0 ? sum(x, axes) : x, shape);
}

/**
 * Repeats `x` along new leading axes and along its size-1 axes (NumPy rules).
 * @example broadcastTo(tensor([1, 2]), [3, 2]) // three rows of [1, 2]
 */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const lead = shape.length - x.rank;
  const ok = lead >= 0 && x.shape.every((d, i) => d === 1 || d === shape[i + lead]);
  if (!ok) throw new ShapeError(`broadcastTo: cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  return bind(broadcastToP, [x], { shape: [...shape] });
}
