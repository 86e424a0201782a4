/** Turning op arguments into tensors of one dtype and one (broadcast) shape. */
import { DTypeError, fmtShape } from '../errors.js';
import { broadcastShapes, sameShape } from '../shape.js';
import { getDefaultDType, scalar, Tensor, type TensorLike } from '../tensor.js';
import { broadcastTo } from './broadcastTo.js';

/** A number becomes a scalar of `dtype`; a tensor must already have that dtype. */
export function asTensor(op: string, x: TensorLike, dtype = getDefaultDType(), arg = 'argument'): Tensor {
  if (typeof x === 'number') return scalar(x, dtype);
  if (x.dtype !== dtype) throw new DTypeError(`${op}: ${arg} is ${x.dtype} ${fmtShape(x.shape)}, expected ${dtype}; cast it first`);
  return x;
}

/** Two operands brought to one dtype (numbers adopt the tensor's) and one broadcast shape. */
export function binaryOperands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  const dtype = typeof a !== 'number' ? a.dtype : typeof b !== 'number' ? b.dtype : getDefaultDType();
  const x = typeof a === 'number' ? scalar(a, dtype) : a;
  const y = typeof b === 'number' ? scalar(b, dtype) : b;
  if (x.dtype !== y.dtype) {
    throw new DTypeError(`${op}: operands have different dtypes, ${x.dtype} ${fmtShape(x.shape)} and ${y.dtype} ${fmtShape(y.shape)}; cast one first`);
  }
  if (sameShape(x.shape, y.shape)) return [x, y];
  const shape = broadcastShapes(op, x.shape, y.shape);
  return [broadcastTo(x, shape), broadcastTo(y, shape)];
}
