/**
 * Index-set helpers shared by the GIF solvers and edits: restriction to a selection J and
 * padding back to the full vector. Plain vector algebra (dot, norm, axpy) is influence/linalg.ts.
 */
import { NonFiniteError, ShapeError, ValueError } from '../../engine/errors.js';
export { dot, norm } from '../linalg.js';

/** The entries of `v` at the indices `J` (x_J). @example restrict(Float64Array.of(5, 6, 7), Int32Array.of(0, 2)) // [5, 7] */
export function restrict(v: ArrayLike<number>, J: Int32Array): Float64Array {
  const out = new Float64Array(J.length);
  for (let k = 0; k < J.length; k++) out[k] = v[J[k]!]!;
  return out;
}

/** A full-length vector that is `x` on `J` and zero elsewhere (Pᵀx). @example pad(Float64Array.of(1, 2), Int32Array.of(0, 2), 3) // [1, 0, 2] */
export function pad(x: ArrayLike<number>, J: Int32Array, size: number): Float64Array {
  if (x.length !== J.length) throw new ShapeError(`pad: ${x.length} values for ${J.length} indices`);
  const out = new Float64Array(size);
  for (let k = 0; k < J.length; k++) out[J[k]!] = x[k]!;
  return out;
}

/** Checks that `J` is a strictly increasing set of indices into a vector of length `size`. @example checkIndexSet('gifEdit', J, H.size) */
export function checkIndexSet(where: string, J: Int32Array, size: number): void {
  if (J.length === 0) throw new ValueError(`${where}: the selection J is empty`);
  for (let k = 0; k < J.length; k++) {
    const j = J[k]!;
    if (j < 0 || j >= size) throw new ValueError(`${where}: index J[${k}] = ${j} is outside [0, ${size})`);
    if (k > 0 && j <= J[k - 1]!) throw new ValueError(`${where}: J must be strictly increasing (J[${k - 1}] = ${J[k - 1]}, J[${k}] = ${j})`);
  }
}

/** Throws a NonFiniteError naming `what` when `v` holds a NaN or an infinity. @example checkFinite('GIF edit', delta) */
export function checkFinite(what: string, v: ArrayLike<number>): void {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) throw new NonFiniteError(`${what}: entry ${i} is ${v[i]}`);
  }
}
