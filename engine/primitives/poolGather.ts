/**
 * poolGather reads one pixel per pooling window: max pooling is poolGather at poolArgmax. It is
 * linear in the image, so its JVP is itself and its VJP its adjoint, poolScatter. The offsets
 * are data: no derivative flows into them.
 */
import type { PoolGeometry } from '../backend.js';
import type { DType } from '../dtype.js';
import { DTypeError, ShapeError, fmtShape } from '../errors.js';
import { convOutSize } from '../backend.js';
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { checkGeometry } from './im2col.js';
import { poolScatter } from './poolScatter.js';

export const poolGatherP = definePrimitive<PoolGeometry>({
  name: 'poolGather',
  impl: (backend, [x, at], g) => backend.poolGather(x!, at!, g),
  jvp: ([t], [, at], _o, g) => (t === null ? null : poolGather(t!, at!, g)),
  vjp: (ct, [x, at], _o, g, needs) => [needs[0] ? poolScatter(ct, at!, x!.shape, g) : null, null],
});

/**
 * out[n, c, oy, ox] = x[n, c, oy·stride + ky, ox·stride + kx] where at[n, c, oy, ox] = ky·kernelW + kx:
 * one pixel of each window, chosen by `at` (e.g. {@link poolArgmax}'s offsets).
 * @example
 * const g = { kernelH: 2, kernelW: 2, stride: 2 };
 * poolGather(x, poolArgmax(x, g), g) // max pooling of x
 */
export function poolGather(x: Tensor, at: Tensor, g: PoolGeometry): Tensor {
  checkPoolOffsets('poolGather', x.shape, x.dtype, at, g);
  return bind(poolGatherP, [x, at], { kernelH: g.kernelH, kernelW: g.kernelW, stride: g.stride });
}

/**
 * Checks that `at` holds one offset per window of an image of shape `image`, in the image's
 * dtype. Their values are checked where they are read anyway: the CPU kernels throw on one
 * outside [0, kernelH·kernelW). The gpu.js kernels cannot throw and do not check (checking would
 * cost a download); poolArgmax's offsets are always valid.
 */
export function checkPoolOffsets(op: string, image: readonly number[], dtype: DType, at: Tensor, g: PoolGeometry): void {
  if (image.length !== 4) throw new ShapeError(`${op}: expects an [N, C, H, W] image, got ${fmtShape(image)}`);
  const [n, c, h, w] = image as [number, number, number, number];
  checkGeometry(op, h, w, { ...g, padding: 0 });
  const want = [n, c, convOutSize(h, g.kernelH, g.stride, 0), convOutSize(w, g.kernelW, g.stride, 0)];
  if (at.rank !== 4 || at.shape.some((d, i) => d !== want[i])) {
    throw new ShapeError(`${op}: offsets have shape ${fmtShape(at.shape)}, but a ${fmtShape(image)} image has ${fmtShape(want)} windows of ${g.kernelH}×${g.kernelW} (stride ${g.stride})`);
  }
  if (at.dtype !== dtype) throw new DTypeError(`${op}: the image is ${dtype}, its offsets ${at.dtype}`);
}
