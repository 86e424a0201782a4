/** im2col turns convolution into one matmul and pooling into a reduction. It is linear, so its JVP is itself and its VJP its adjoint, col2im. */
import type { Conv2dGeometry } from '../backend.js';
import { convOutSize } from '../backend.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { col2im } from './col2im.js';

export const im2colP = definePrimitive<Conv2dGeometry>({
  name: 'im2col',
  impl: (backend, [x], g) => backend.im2col(x!, g),
  jvp: ([t], _x, _o, g) => im2col(t!, g), // linear
  vjp: (ct, [x], _o, g) => [col2im(ct, x!.shape, g)], // its adjoint sums patches back
});

/**
 * Every kernel-sized patch of an [N, C, H, W] image as a row: [N, OH, OW, C·kh·kw]. A
 * convolution is then one matrix product, and pooling a reduction over the patch axis.
 * @example im2col(zeros([1, 1, 4, 4]), { kernelH: 2, kernelW: 2, stride: 2, padding: 0 }) // [1, 2, 2, 4]
 */
export function im2col(x: Tensor, g: Conv2dGeometry): Tensor {
  if (x.rank !== 4) throw new ShapeError(`im2col: expects an [N, C, H, W] input, got ${fmtShape(x.shape)}`);
  checkGeometry('im2col', x.shape[2]!, x.shape[3]!, g);
  return bind(im2colP, [x], { ...g });
}

export function checkGeometry(op: string, h: number, w: number, g: Conv2dGeometry): void {
  const { kernelH, kernelW, stride, padding } = g;
  for (const [name, v, min] of [['kernelH', kernelH, 1], ['kernelW', kernelW, 1], ['stride', stride, 1], ['padding', padding, 0]] as const) {
    if (!Number.isInteger(v) || v < min) throw new ValueError(`${op}: ${name} must be an integer ≥ ${min}, got ${v}`);
  }
  if (convOutSize(h, kernelH, stride, padding) < 1 || convOutSize(w, kernelW, stride, padding) < 1) {
    throw new ShapeError(`${op}: a ${kernelH}×${kernelW} window (padding ${padding}) does not fit a ${h}×${w} image`);
  }
}
