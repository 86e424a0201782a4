/**
 * Small helpers on flat Float64Array vectors and index sets, shared by the GIF solvers and
 * edits: restriction to a selection J, padding back to the full vector, norms.
 */
import { NonFiniteError, ShapeError, ValueError } from '../../engine/errors.js';

/** Euclidean norm. @example norm(Float64Array.of(3, 4)) // 5 */
export function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/** Inner product of two vectors of the same length. @example dot(a, b) */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new ShapeError(`dot: vectors of length ${a.length} and ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** `a + alpha·b` into a new vector. @example axpy(a, 2, b) */
export function axpy(a: ArrayLike<number>, alpha: number, b: ArrayLike<number>): Float64Array {
  if (a.length !== b.length) throw new ShapeError(`axpy: vectors of length ${a.length} and ${b.length}`);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + alpha * b[i]!;
  return out;
}

/** `alpha·v` into a new vector. @example scale(v, 0.5) */
export function scale(v: ArrayLike<number>, alpha: number): Float64Array {
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = alpha * v[i]!;
  return out;
}

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
