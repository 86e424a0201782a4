/**
 * Small dense linear algebra on Float64Array: what the solvers and the correlation reports
 * need, written out so nothing is hidden (vectors, Cholesky, Jacobi eigendecomposition,
 * Pearson/Spearman). Matrices are row-major n×n.
 */
import { ShapeError, ValueError } from '../engine/index.js';

/** xᵀy. @example dot(Float64Array.of(1, 2), Float64Array.of(3, 4)) // 11 */
export function dot(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new ShapeError(`dot: lengths ${x.length} and ${y.length} differ`);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
  return s;
}

/** ‖x‖₂. @example norm(Float64Array.of(3, 4)) // 5 */
export function norm(x: ArrayLike<number>): number {
  return Math.sqrt(dot(x, x));
}

/** a·x + y as a new vector. @example axpy(2, Float64Array.of(1), Float64Array.of(1)) // [3] */
export function axpy(a: number, x: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  if (x.length !== y.length) throw new ShapeError(`axpy: lengths ${x.length} and ${y.length} differ`);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = a * x[i]! + y[i]!;
  return out;
}

/** a·x as a new vector. @example scale(2, Float64Array.of(1, 2)) // [2, 4] */
export function scale(a: number, x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = a * x[i]!;
  return out;
}

/**
 * The lower Cholesky factor L of a symmetric matrix (A = L·Lᵀ), or null when A is not
 * (numerically) positive definite.
 * @example cholesky(Float64Array.of(4, 2, 2, 3), 2) // [2, 0, 1, √2]
 */
export function cholesky(a: Float64Array, n: number): Float64Array | null {
  if (a.length !== n * n) throw new ShapeError(`cholesky: ${a.length} entries for ${n}×${n}`);
  const l = new Float64Array(n * n);
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, Math.abs(a[i * n + i]!));
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!;
    for (let k = 0; k < j; k++) d -= l[j * n + k]! * l[j * n + k]!;
    if (!(d > 1e-13 * maxDiag)) return null;
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = s / ljj;
    }
  }
  return l;
}

/** Solves L·Lᵀ x = b given the Cholesky factor. @example choleskySolve(cholesky(A, n)!, n, b) */
export function choleskySolve(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * y[k]!;
    y[i] = s / l[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * x[k]!;
    x[i] = s / l[i * n + i]!;
  }
  return x;
}

/**
 * Eigendecomposition of a symmetric matrix by cyclic Jacobi rotations: `values[i]` with
 * eigenvector column i of `vectors` (row-major n×n). O(n³) per sweep; for small n.
 * @example symmetricEigen(Float64Array.of(2, 1, 1, 2), 2).values // [1, 3] in some order
 */
export function symmetricEigen(matrix: Float64Array, n: number, maxSweeps = 100): { values: Float64Array; vectors: Float64Array } {
  if (matrix.length !== n * n) throw new ShapeError(`symmetricEigen: ${matrix.length} entries for ${n}×${n}`);
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += a[i]! * a[i]!;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += a[i * n + j]! * a[i * n + j]!;
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const app = a[p * n + p]!, aqq = a[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!, akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!, aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!, vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
  return { values, vectors: v };
}

/** Pearson correlation of two samples. @example pearson([1, 2, 3], [2, 4, 7]) // ≈ 0.99 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new ShapeError(`pearson: ${x.length} and ${y.length} values`);
  const n = x.length;
  if (n < 2) throw new ValueError(`pearson: needs at least 2 pairs, got ${n}`);
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) { mx += x[i]!; my += y[i]!; }
  mx /= n; my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx, dy = y[i]! - my;
    sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) throw new ValueError('pearson: one sample is constant, the correlation is undefined');
  return sxy / Math.sqrt(sxx * syy);
}

/** Ranks (1-based, ties get their average rank). @example ranks([10, 30, 20]) // [1, 3, 2] */
export function ranks(x: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a]! - x[b]!);
  const r = new Float64Array(x.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && x[order[j + 1]!] === x[order[i]!]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[order[k]!] = avg;
    i = j + 1;
  }
  return r;
}

/** Spearman rank correlation (Pearson of the ranks). @example spearman([1, 2, 3], [1, 4, 9]) // 1 */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  return pearson(ranks(x), ranks(y));
}
