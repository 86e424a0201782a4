/** poolScatter puts one value per pooling window back at a pixel of it: the adjoint of poolGather, so each is the other's VJP. */
import type { PoolGeometry } from '../backend.js';
import { ShapeError, fmtShape } from '../errors.js';
import type { Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { checkPoolOffsets, poolGather } from './poolGather.js';

interface Params extends PoolGeometry {
  imageShape: Shape;
}

export const poolScatterP = definePrimitive<Params>({
  name: 'poolScatter',
  impl: (backend, [v, at], p) => backend.poolScatter(v!, at!, p.imageShape, p),
  jvp: ([t], [, at], _o, p) => (t === null ? null : poolScatter(t!, at!, p.imageShape, p)),
  vjp: (ct, [, at], _o, p, needs) => [needs[0] ? poolGather(ct, at!, p) : null, null],
});

/**
 * An image of `imageShape`, zero except that each v[n, c, oy, ox] is added at the pixel of its
 * window that at[n, c, oy, ox] = ky·kernelW + kx points to (overlapping windows add up).
 * @example
 * const g = { kernelH: 2, kernelW: 2, stride: 2 };
 * poolScatter(ones([1, 1, 1, 1]), tensor([[[[3]]]]), [1, 1, 2, 2], g) // [[[[0, 0], [0, 1]]]]
 */
export function poolScatter(v: Tensor, at: Tensor, imageShape: Shape, g: PoolGeometry): Tensor {
  checkPoolOffsets('poolScatter', imageShape, v.dtype, at, g);
  if (v.rank !== 4 || v.shape.some((d, i) => d !== at.shape[i])) {
    throw new ShapeError(`poolScatter: values have shape ${fmtShape(v.shape)}, offsets ${fmtShape(at.shape)}; they must match`);
  }
  return bind(poolScatterP, [v, at], { kernelH: g.kernelH, kernelW: g.kernelW, stride: g.stride, imageShape: [...imageShape] });
}
