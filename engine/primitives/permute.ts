/** Axis permutation: a free view on the CPU; its VJP applies the inverse permutation. */
import { ValueError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';

export const permuteP = definePrimitive<{ perm: readonly number[] }>({
  name: 'permute',
  impl: (backend, [x], { perm }) => backend.permute(x!, perm),
  jvp: ([t], _x, _o, { perm }) => permute(t!, perm),
  vjp: (ct, _x, _o, { perm }) => [permute(ct, inversePermutation(perm))],
});

function inversePermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/** Reorders axes: output axis i is input axis perm[i]. @example permute(x, [1, 0]) // transpose */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const sorted = [...perm].sort((a, b) => a - b);
  if (perm.length !== x.rank || sorted.some((p, i) => p !== i)) {
    throw new ValueError(`permute: [${perm.join(', ')}] is not a permutation of the ${x.rank} axes of ${fmtShape(x.shape)}`);
  }
  if (perm.every((p, i) => p === i)) return x;
  return bind(permuteP, [x], { perm: [...perm] });
}

/** Swaps the last two axes. @example transpose(ones([2, 3])) // shape [3, 2] */
export function transpose(x: Tensor): Tensor {
  if (x.rank < 2) throw new ValueError(`transpose: needs rank ≥ 2, got ${fmtShape(x.shape)}`);
  const perm = [...Array(x.rank).keys()];
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1]!, perm[x.rank - 2]!];
  return permute(x, perm);
}
