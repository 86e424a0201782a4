/** gather(x, labels) = x[i, labels[i]]: how a cross-entropy reads the true class. Labels are data (params), not differentiated; gather and scatter are adjoint. */
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { scatter } from './scatter.js';

export const gatherP = definePrimitive<{ labels: Int32Array }>({
  name: 'gather',
  impl: (backend, [x], { labels }) => backend.gather(x!, labels),
  jvp: ([t], _x, _o, { labels }) => gather(t!, labels),
  vjp: (ct, [x], _o, { labels }) => [scatter(ct, labels, x!.shape[1]!)],
});

/** Checks integer labels in [0, classes) and returns them as an Int32Array. */
export function checkLabels(op: string, labels: ArrayLike<number>, n: number, classes: number): Int32Array {
  if (labels.length !== n) throw new ShapeError(`${op}: ${labels.length} labels for ${n} rows`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    if (!Number.isInteger(l)) throw new ValueError(`${op}: label ${i} is ${l}, not an integer`);
    if (l < 0 || l >= classes) throw new ValueError(`${op}: label ${i} is ${l}, outside [0, ${classes})`);
    out[i] = l;
  }
  return out;
}

/**
 * Picks one entry per row: out[i] = x[i, labels[i]] for x of shape [N, C] — how a
 * cross-entropy reads the log-probability of the true class.
 * @example gather(tensor([[1, 2], [3, 4]]), [1, 0]) // [2, 3]
 */
export function gather(x: Tensor, labels: ArrayLike<number>): Tensor {
  if (x.rank !== 2) throw new ShapeError(`gather: expects [N, C] input, got ${fmtShape(x.shape)}`);
  return bind(gatherP, [x], { labels: checkLabels('gather', labels, x.shape[0]!, x.shape[1]!) });
}
