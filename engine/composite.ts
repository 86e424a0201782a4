/**
 * Ops built from primitives. They need no rules of their own: transforms see only the
 * primitives they are made of, so their derivatives (of any order) come for free.
 */
import type { Conv2dGeometry, PoolGeometry } from './backend.js';
import { DTypeError, ShapeError, fmtShape } from './errors.js';
import { normalizeAxes, sizeOf } from './shape.js';
import type { Tensor } from './tensor.js';
import { add } from './primitives/add.js';
import { div } from './primitives/div.js';
import { exp } from './primitives/exp.js';
import { checkGeometry, im2col } from './primitives/im2col.js';
import { log } from './primitives/log.js';
import { matmulT } from './primitives/matmul.js';
import { max } from './primitives/max.js';
import { mul } from './primitives/mul.js';
import { permute } from './primitives/permute.js';
import { poolArgmax } from './primitives/poolArgmax.js';
import { poolGather } from './primitives/poolGather.js';
import { reshape } from './primitives/reshape.js';
import { stopGradient } from './primitives/stopGradient.js';
import { sub } from './primitives/sub.js';
import { sum } from './primitives/sum.js';

/** Mean over `axes` (all by default). @example mean(tensor([1, 2, 3])) // 2 */
export function mean(x: Tensor, axes?: number | readonly number[], keepdims = false): Tensor {
  const ax = normalizeAxes('mean', axes, x.rank);
  return div(sum(x, ax, keepdims), sizeOf(ax.map((a) => x.shape[a]!)));
}

/**
 * log Σ exp(x) over `axes`, shifted by the maximum so it never overflows. The shift is a
 * constant (stopGradient): the result does not depend on it, so neither should derivatives.
 * @example logSumExp(tensor([0, 0])) // log 2
 */
export function logSumExp(x: Tensor, axes: number | readonly number[] = -1, keepdims = false): Tensor {
  const shift = stopGradient(max(x, axes, true));
  const y = add(log(sum(exp(sub(x, shift)), axes, true)), shift);
  return keepdims ? y : reshape(y, y.shape.filter((_, i) => !normalizeAxes('logSumExp', axes, x.rank).includes(i)));
}

/** log softmax along `axis`: x − logΣexp(x). @example logSoftmax(tensor([[1, 2]])) */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return sub(x, logSumExp(x, axis, true));
}

/** softmax along `axis`. @example softmax(tensor([0, 0])) // [0.5, 0.5] */
export function softmax(x: Tensor, axis = -1): Tensor {
  return exp(logSoftmax(x, axis));
}

/** Σ a·b over all elements (shapes must match): the inner product of two tensors. */
export function vdot(a: Tensor, b: Tensor): Tensor {
  if (a.size !== b.size) throw new ShapeError(`vdot: ${fmtShape(a.shape)} and ${fmtShape(b.shape)} differ in size`);
  return sum(mul(a, reshape(b, a.shape)));
}

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
}

/**
 * 2-D convolution (cross-correlation, as in PyTorch): x [N, C, H, W], w [O, C, kh, kw] →
 * [N, O, OH, OW]. Built as im2col followed by one matrix product.
 * @example conv2d(ones([1, 1, 5, 5]), ones([2, 1, 3, 3]), { padding: 1 }) // [1, 2, 5, 5]
 */
export function conv2d(x: Tensor, w: Tensor, { stride = 1, padding = 0 }: Conv2dOptions = {}): Tensor {
  if (x.rank !== 4 || w.rank !== 4) throw new ShapeError(`conv2d: expects x [N, C, H, W] and w [O, C, kh, kw], got ${fmtShape(x.shape)} and ${fmtShape(w.shape)}`);
  if (x.dtype !== w.dtype) throw new DTypeError(`conv2d: input is ${x.dtype}, weight ${w.dtype}`);
  const [n, c] = x.shape as [number, number];
  const [o, cw, kh, kw] = w.shape as [number, number, number, number];
  if (c !== cw) throw new ShapeError(`conv2d: input has ${c} channels ${fmtShape(x.shape)} but weight expects ${cw} ${fmtShape(w.shape)}`);
  const g: Conv2dGeometry = { kernelH: kh, kernelW: kw, stride, padding };
  const cols = im2col(x, g); // [N, OH, OW, C·kh·kw]
  const [, oh, ow, patch] = cols.shape as [number, number, number, number];
  const y = matmulT(reshape(cols, [n * oh * ow, patch]), reshape(w, [o, patch]), false, true);
  return permute(reshape(y, [n, oh, ow, o]), [0, 3, 1, 2]);
}

function pool(op: string, x: Tensor, kernel: number, stride: number, reduce: (patches: Tensor) => Tensor): Tensor {
  if (x.rank !== 4) throw new ShapeError(`${op}: expects [N, C, H, W], got ${fmtShape(x.shape)}`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const g: Conv2dGeometry = { kernelH: kernel, kernelW: kernel, stride, padding: 0 };
  checkGeometry(op, h, w, g);
  // each channel pooled on its own: fold channels into the batch, take patches, reduce them
  const patches = im2col(reshape(x, [n * c, 1, h, w]), g); // [N·C, OH, OW, k·k]
  const [, oh, ow] = patches.shape as [number, number, number];
  return reshape(reduce(patches), [n, c, oh, ow]);
}

/**
 * Max pooling over k×k windows (stride k by default): each window's largest pixel, read by
 * poolGather where poolArgmax says it is. The derivatives go to that pixel (the first one on a
 * tie, as in PyTorch), and cost one pass over the windows instead of a patch matrix.
 * @example maxPool2d(x, 2)
 */
export function maxPool2d(x: Tensor, kernel: number, stride = kernel): Tensor {
  if (x.rank !== 4) throw new ShapeError(`maxPool2d: expects [N, C, H, W], got ${fmtShape(x.shape)}`);
  const g: PoolGeometry = { kernelH: kernel, kernelW: kernel, stride };
  checkGeometry('maxPool2d', x.shape[2]!, x.shape[3]!, { ...g, padding: 0 });
  return poolGather(x, poolArgmax(x, g), g);
}

/** Average pooling over k×k windows (stride k by default). @example avgPool2d(x, 2) */
export function avgPool2d(x: Tensor, kernel: number, stride = kernel): Tensor {
  return pool('avgPool2d', x, kernel, stride, (p) => mean(p, 3));
}
