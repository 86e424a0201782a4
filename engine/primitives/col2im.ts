/** col2im sums patch rows back into an image: the adjoint (transpose) of im2col, so each is the other's VJP. */
import type { Conv2dGeometry } from '../backend.js';
import type { Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { im2col } from './im2col.js';

interface Params extends Conv2dGeometry {
  imageShape: Shape;
}

export const col2imP = definePrimitive<Params>({
  name: 'col2im',
  impl: (backend, [cols], p) => backend.col2im(cols!, p.imageShape, p),
  jvp: ([t], _c, _o, p) => col2im(t!, p.imageShape, p),
  vjp: (ct, _c, _o, p) => [im2col(ct, p)],
});

/** The adjoint of `im2col`: adds each patch row back into an image of `imageShape`. */
export function col2im(cols: Tensor, imageShape: Shape, g: Conv2dGeometry): Tensor {
  return bind(col2imP, [cols], { kernelH: g.kernelH, kernelW: g.kernelW, stride: g.stride, padding: g.padding, imageShape: [...imageShape] });
}
