/** poolArgmax says where each max-pooling window peaks. Its output is data (small integers), so its derivatives are zero. */
import type { PoolGeometry } from '../backend.js';
import { ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { checkGeometry } from './im2col.js';

export const poolArgmaxP = definePrimitive<PoolGeometry>({
  name: 'poolArgmax',
  impl: (backend, [x], g) => backend.poolArgmax(x!, g),
  jvp: () => null,
  vjp: () => [null],
});

/**
 * For each kernelH×kernelW window of an [N, C, H, W] image (`stride` apart), the offset
 * ky·kernelW + kx of its largest pixel: [N, C, OH, OW], in x's dtype. The first maximum wins a
 * tie (as in PyTorch); a window holding NaN points at a NaN.
 * @example poolArgmax(tensor([[[[1, 4], [3, 2]]]]), { kernelH: 2, kernelW: 2, stride: 2 }) // [[[[1]]]]
 */
export function poolArgmax(x: Tensor, g: PoolGeometry): Tensor {
  if (x.rank !== 4) throw new ShapeError(`poolArgmax: expects an [N, C, H, W] input, got ${fmtShape(x.shape)}`);
  checkGeometry('poolArgmax', x.shape[2]!, x.shape[3]!, { ...g, padding: 0 });
  return bind(poolArgmaxP, [x], { kernelH: g.kernelH, kernelW: g.kernelW, stride: g.stride });
}
