/** Zero padding: linear; its VJP cuts the window back out (pad and slice are adjoint). */
import { ValueError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { slice } from './slice.js';

interface Padding {
  before: readonly number[];
  after: readonly number[];
}

export const padP = definePrimitive<Padding>({
  name: 'pad',
  impl: (backend, [x], { before, after }) => backend.pad(x!, before, after),
  jvp: ([t], _x, _o, { before, after }) => pad(t!, before, after),
  vjp: (ct, [x], _o, { before }) => [slice(ct, before, x!.shape)],
});

/**
 * Zero padding: `before[i]` zeros ahead of axis i and `after[i]` behind it.
 * @example pad(tensor([1, 2]), [1], [2]) // [0, 1, 2, 0, 0]
 */
export function pad(x: Tensor, before: readonly number[], after: readonly number[]): Tensor {
  if (before.length !== x.rank || after.length !== x.rank || [...before, ...after].some((p) => !Number.isInteger(p) || p < 0)) {
    throw new ValueError(`pad: before [${before.join(', ')}] and after [${after.join(', ')}] need one non-negative integer per axis of ${fmtShape(x.shape)}`);
  }
  if ([...before, ...after].every((p) => p === 0)) return x;
  return bind(padP, [x], { before: [...before], after: [...after] });
}
