/** Dense linear algebra oracles for the GIF tests (small matrices, row-major Float64Array). */

/** The columns J of a row-major n×n matrix: an n×|J| matrix. */
export function columns(A: Float64Array, n: number, J: ArrayLike<number>): Float64Array {
  const k = J.length;
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) out[i * k + c] = A[i * n + J[c]!]!;
  return out;
}

/** Aᵀ B for A (r×a) and B (r×b). */
export function transposeTimes(A: Float64Array, B: Float64Array, r: number, a: number, b: number): Float64Array {
  const out = new Float64Array(a * b);
  for (let i = 0; i < r; i++) for (let p = 0; p < a; p++) {
    const x = A[i * a + p]!;
    for (let q = 0; q < b; q++) out[p * b + q]! += x * B[i * b + q]!;
  }
  return out;
}

/** A v for A (r×c). */
export function matVec(A: Float64Array, v: ArrayLike<number>, r: number, c: number): Float64Array {
  const out = new Float64Array(r);
  for (let i = 0; i < r; i++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += A[i * c + j]! * v[j]!;
    out[i] = s;
  }
  return out;
}

/** Solves the square system A x = b by Gaussian elimination with partial pivoting. */
export function solve(Ain: Float64Array, bin: ArrayLike<number>, n: number): Float64Array {
  const A = Float64Array.from(Ain), b = Float64Array.from(bin);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(A[r * n + c]!) > Math.abs(A[piv * n + c]!)) piv = r;
    if (A[piv * n + c] === 0) throw new Error('singular matrix');
    if (piv !== c) {
      for (let j = 0; j < n; j++) { const t = A[c * n + j]!; A[c * n + j] = A[piv * n + j]!; A[piv * n + j] = t; }
      const t = b[c]!; b[c] = b[piv]!; b[piv] = t;
    }
    for (let r = c + 1; r < n; r++) {
      const f = A[r * n + c]! / A[c * n + c]!;
      if (f === 0) continue;
      for (let j = c; j < n; j++) A[r * n + j]! -= f * A[c * n + j]!;
      b[r]! -= f * b[c]!;
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r]!;
    for (let j = r + 1; j < n; j++) s -= A[r * n + j]! * x[j]!;
    x[r] = s / A[r * n + r]!;
  }
  return x;
}


/** The dense least-squares solution (MᵀM)⁻¹Mᵀg for M (r×c). */
export function leastSquares(M: Float64Array, g: ArrayLike<number>, r: number, c: number): Float64Array {
  const MtM = transposeTimes(M, M, r, c, c);
  const Mtg = transposeTimes(M, Float64Array.from(g), r, c, 1);
  return solve(MtM, Mtg, c);
}

/** max_i |a_i − b_i| / max_i |b_i|. */
export function relativeMaxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0, scale = 1e-300;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return err / scale;
}
