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

/** Where x attains its maximum, as weights that share ties equally (they sum to 1 per slice). */
function argmaxWeights(x: Tensor, out: Tensor, axes: readonly number[]): Tensor {
  const keep = reducedShape(x.shape, axes, true);
  const mask = equal(x, broadcastTo(reshape(out, keep), x.shape));
  return div(mask, broadcastTo(sum(mask, axes, true), x.shape));
}

export const maxP = definePrimitive<{ axes: readonly number[] }>({
  name: 'max',
  impl: (backend, [x], { axes }) => backend.reduce('max', x!, axes),
  jvp: ([t], [x], out, { axes }) => sum(mul(t!, argmaxWeights(x!, out, axes)), axes),
  vjp: (ct, [x], out, { axes }) => [
    mul(broadcastTo(reshape(ct, reducedShape(x!.shape, axes, true)), x!.shape), argmaxWeights(x!, out, axes)),
  ],
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
