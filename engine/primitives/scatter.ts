/** scatter places v[i] at [i, labels[i]] (a weighted one-hot): the adjoint of gather. */
import { ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { checkLabels, gather } from './gather.js';

export const scatterP = definePrimitive<{ labels: Int32Array; classes: number }>({
  name: 'scatter',
  impl: (backend, [v], { labels, classes }) => backend.scatter(v!, labels, classes),
  jvp: ([t], _v, _o, { labels, classes }) => scatter(t!, labels, classes),
  vjp: (ct, _v, _o, { labels }) => [gather(ct, labels)], // gather and scatter are adjoint
});

/**
 * Places v[i] at column labels[i] of row i in an [N, classes] tensor of zeros (a weighted one-hot).
 * @example scatter(tensor([5, 6]), [1, 0], 2) // [[0, 5], [6, 0]]
 */
export function scatter(v: Tensor, labels: ArrayLike<number>, classes: number): Tensor {
  if (v.rank !== 1) throw new ShapeError(`scatter: expects [N] values, got ${fmtShape(v.shape)}`);
  return bind(scatterP, [v], { labels: checkLabels('scatter', labels, v.shape[0]!, classes), classes });
}
