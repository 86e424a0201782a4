/** Max over axes: the derivative routes the tangent/cotangent to the arg-max; ties share it equally so the rule is symmetric. */
import { ValueError, fmtShape } from '../errors.js';
import { normalizeAxes, reducedShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { broadcastTo } from './broadcastTo.js';
import { equal } from './compare.js';
import { div } from './div.js';
import { mul } from './mul.js';
import { reshape } from './reshape.js';
import { sum } from './sum.js';

/**
 * Where x attains its maximum (a 0/1 mask of x's shape) and how many times per slice (the
 * reduced shape): the derivative goes to the arg-max, split evenly between ties.
 */
function argmax(x: Tensor, out: Tensor, axes: readonly number[]): { mask: Tensor; count: Tensor } {
  const keep = reducedShape(x.shape, axes, true);
  const mask = equal(x, broadcastTo(reshape(out, keep), x.shape));
  return { mask, count: sum(mask, axes) };
}

export const maxP = definePrimitive<{ axes: readonly number[] }>({
  name: 'max',
  impl: (backend, [x], { axes }) => backend.reduce('max', x!, axes),
  // the divisions by the tie count act on the small reduced shape, not on x's
  jvp: ([t], [x], out, { axes }) => {
    const { mask, count } = argmax(x!, out, axes);
    return div(sum(mul(t!, mask), axes), count);
  },
  vjp: (ct, [x], out, { axes }) => {
    const { mask, count } = argmax(x!, out, axes);
    return [mul(broadcastTo(reshape(div(ct, count), reducedShape(x!.shape, axes, true)), x!.shape), mask)];
  },
});

/**
 * Maximum over `axes` (all by default). The gradient goes to the arg-max, split evenly on ties.
 * @example max(tensor([[1, 5], [7, 2]]), 1) // [5, 7]
 */
export function max(x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor {
  const ax = normalizeAxes('max', axes, x.rank);
  for (const a of ax) if (x.shape[a] === 0) throw new ValueError(`max: axis ${a} of ${fmtShape(x.shape)} is empty`);
  const y = ax.length === 0 ? x : bind(maxP, [x], { axes: ax });
  return keepdims ? reshape(y, reducedShape(x.shape, ax, true)) : y;
}
