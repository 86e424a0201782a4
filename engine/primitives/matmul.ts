/** Matrix product. Transpose flags live in the params so that the VJP's Aᵀ and Bᵀ are free (no copies), and the rule stays bilinear. */
import { DTypeError, ShapeError, fmtShape } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { bind, definePrimitive } from '../trace.js';
import { addTangents } from './add.js';
import { broadcastTo } from './broadcastTo.js';

interface Flags {
  transA: boolean;
  transB: boolean;
}

export const matmulP = definePrimitive<Flags>({
  name: 'matmul',
  impl: (backend, [a, b], { transA, transB }) => backend.matmul(a!, b!, transA, transB),
  // bilinear: d(AB) = dA·B + A·dB
  jvp: ([ta, tb], [a, b], _o, f) =>
    addTangents(ta ? matmulT(ta, b!, f.transA, f.transB) : null, tb ? matmulT(a!, tb, f.transA, f.transB) : null),
  // C = op(A)·op(B): dA = ct·op(B)ᵀ and dB = op(A)ᵀ·ct, written with flags so nothing is copied
  vjp: (ct, [a, b], _o, { transA, transB }, needs) => [
    !needs[0] ? null : transA ? matmulT(b!, ct, transB, true) : matmulT(ct, b!, false, !transB),
    !needs[1] ? null : transB ? matmulT(ct, a!, true, transA) : matmulT(a!, ct, !transA, false),
  ],
});

/** op(a)·op(b) on the last two axes, where op transposes when its flag is set. Shapes are trusted. */
export function matmulT(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  return bind(matmulP, [a, b], { transA, transB });
}

/**
 * Matrix product on the last two axes; leading (batch) axes broadcast.
 * @example matmul(ones([2, 3]), ones([3, 4])) // shape [2, 4], every entry 3
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank < 2 || b.rank < 2) throw new ShapeError(`matmul: both operands need rank ≥ 2, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  if (a.dtype !== b.dtype) throw new DTypeError(`matmul: operands have dtypes ${a.dtype} ${fmtShape(a.shape)} and ${b.dtype} ${fmtShape(b.shape)}`);
  const k1 = a.shape[a.rank - 1]!, k2 = b.shape[b.rank - 2]!;
  if (k1 !== k2) throw new ShapeError(`matmul: inner dimensions differ: ${fmtShape(a.shape)} × ${fmtShape(b.shape)} (${k1} vs ${k2})`);
  const batch = broadcastShapes('matmul (batch axes)', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const x = broadcastTo(a, [...batch, ...a.shape.slice(-2)]);
  const y = broadcastTo(b, [...batch, ...b.shape.slice(-2)]);
  return matmulT(x, y, false, false);
}
