/** where(c, a, b) picks per element; the condition is data, so derivatives flow only into the chosen branch. */
import { DTypeError, fmtShape } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import { zerosLike, type Tensor, type TensorLike } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { broadcastTo } from './broadcastTo.js';
import { binaryOperands } from './operands.js';

export const whereP = definePrimitive({
  name: 'where',
  impl: (backend, [c, x, y]) => backend.where(c!, x!, y!),
  // the condition is data, not a variable: only the chosen branch carries derivatives
  jvp: ([, tx, ty], [c, x]) => (tx === null && ty === null ? null : where(c!, tx ?? zerosLike(x!), ty ?? zerosLike(x!))),
  vjp: (ct, [c], _o, _p, needs) => [null, needs[1] ? where(c!, ct, 0) : null, needs[2] ? where(c!, 0, ct) : null],
});

/**
 * Picks `a` where `cond` is non-zero and `b` elsewhere; all three broadcast together.
 * @example where(greater(x, 0), x, 0) // relu
 */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = binaryOperands('where', a, b);
  if (cond.dtype !== x.dtype) throw new DTypeError(`where: condition is ${cond.dtype} ${fmtShape(cond.shape)}, branches ${x.dtype}`);
  const shape = broadcastShapes('where', cond.shape, x.shape);
  return bind(whereP, [broadcastTo(cond, shape), broadcastTo(x, shape), broadcastTo(y, shape)], undefined);
}
