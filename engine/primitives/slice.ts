/** A window of a tensor: linear; its VJP pads the cotangent back to the input's shape. */
import { ValueError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { pad } from './pad.js';

interface Window {
  begin: readonly number[];
  size: readonly number[];
}

export const sliceP = definePrimitive<Window>({
  name: 'slice',
  impl: (backend, [x], { begin, size }) => backend.slice(x!, begin, size),
  jvp: ([t], _x, _o, { begin, size }) => slice(t!, begin, size),
  // the adjoint of cutting a window out is padding the window back with zeros
  vjp: (ct, [x], _o, { begin, size }) => [pad(ct, begin, x!.shape.map((d, i) => d - begin[i]! - size[i]!))],
});

/**
 * The window `[begin, begin + size)` on every axis; a size of -1 runs to the end.
 * @example slice(tensor([1, 2, 3, 4]), [1], [2]) // [2, 3]
 */
export function slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
  if (begin.length !== x.rank || size.length !== x.rank) {
    throw new ValueError(`slice: begin [${begin.join(', ')}] and size [${size.join(', ')}] need one entry per axis of ${fmtShape(x.shape)}`);
  }
  const sz = size.map((s, i) => (s === -1 ? x.shape[i]! - begin[i]! : s));
  x.shape.forEach((d, i) => {
    const b = begin[i]!, s = sz[i]!;
    if (!Number.isInteger(b) || !Number.isInteger(s) || b < 0 || s < 0 || b + s > d) {
      throw new ValueError(`slice: window [${b}, ${b + s}) on axis ${i} is outside ${fmtShape(x.shape)}`);
    }
  });
  if (sz.every((s, i) => s === x.shape[i])) return x;
  return bind(sliceP, [x], { begin: [...begin], size: sz });
}
