/** Sum over axes: the JVP sums tangents; the VJP broadcasts the cotangent back over the reduced axes. */
import { normalizeAxes, reducedShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { broadcastTo } from './broadcastTo.js';
import { reshape } from './reshape.js';

export const sumP = definePrimitive<{ axes: readonly number[] }>({
  name: 'sum',
  impl: (backend, [x], { axes }) => backend.reduce('sum', x!, axes),
  jvp: ([t], _x, _o, { axes }) => sum(t!, axes),
  // each input element contributed once: spread the cotangent back over the reduced axes
  vjp: (ct, [x], _o, { axes }) => [broadcastTo(reshape(ct, reducedShape(x!.shape, axes, true)), x!.shape)],
});

/**
 * Sum over `axes` (all by default); `keepdims` keeps them as size 1.
 * @example sum(tensor([[1, 2], [3, 4]]), 0) // [4, 6]
 */
export function sum(x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor {
  const ax = normalizeAxes('sum', axes, x.rank);
  const y = ax.length === 0 ? x : bind(sumP, [x], { axes: ax });
  return keepdims ? reshape(y, reducedShape(x.shape, ax, true)) : y;
}
