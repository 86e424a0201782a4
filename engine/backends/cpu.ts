/**
 * The CPU backend: typed arrays (Float64Array / Float32Array) held in ndarray views.
 *
 * Views make reshape, permute, slice and broadcastTo free (strides, offsets and zero strides);
 * kernels that need contiguous memory call `dense()`, which copies only when a view is strided.
 * Hot loops index typed arrays directly: no per-element closures, one `switch` per kernel call.
 * Matmul, most of the time of any gradient, packs its operands into panels and runs a
 * register-tiled kernel (WebAssembly SIMD where available, see wasm-tiles.ts); scratch panels are
 * reused, so steady-state loops allocate only their outputs.
 */
import ndarray from 'ndarray';
import type { NdArray } from 'ndarray';
import type { Backend, BinaryOp, Buffer, UnaryOp } from '../backend.js';
import { convOutSize } from '../backend.js';
import { allocate, type DType, type TypedArray } from '../dtype.js';
import { ValueError } from '../errors.js';
import { sizeOf, stridesOf, type Shape } from '../shape.js';
import { wasmTiles } from './wasm-tiles.js';

/** A CPU buffer: an ndarray view over a typed array. */
export class CpuBuffer implements Buffer {
  constructor(readonly nd: NdArray<TypedArray>, readonly dtype: DType) {}
  get shape(): Shape {
    return this.nd.shape;
  }
}

function wrap(data: TypedArray, shape: Shape, dtype: DType): CpuBuffer {
  return new CpuBuffer(ndarray(data, [...shape]), dtype);
}

function isContiguous(nd: NdArray<TypedArray>): boolean {
  const expected = stridesOf(nd.shape);
  for (let i = 0; i < nd.shape.length; i++) if (nd.shape[i]! > 1 && nd.stride[i] !== expected[i]) return false;
  return true;
}

/** Copies a strided view into a fresh contiguous array (innermost axis as the tight loop). */
function copyStrided(nd: NdArray<TypedArray>, dtype: DType): TypedArray {
  const shape = nd.shape, stride = nd.stride, src = nd.data;
  const size = sizeOf(shape);
  const out = allocate(dtype, size);
  if (size === 0) return out;
  const rank = shape.length;
  if (rank === 0) {
    out[0] = src[nd.offset]!;
    return out;
  }
  const inner = shape[rank - 1]!, innerStride = stride[rank - 1]!;
  const index = new Array<number>(rank - 1).fill(0);
  let base = nd.offset;
  for (let o = 0; o < size; o += inner) {
    for (let j = 0, p = base; j < inner; j++, p += innerStride) out[o + j] = src[p]!;
    // advance the outer multi-index like an odometer
    for (let ax = rank - 2; ax >= 0; ax--) {
      index[ax]!++;
      base += stride[ax]!;
      if (index[ax]! < shape[ax]!) break;
      base -= stride[ax]! * shape[ax]!;
      index[ax] = 0;
    }
  }
  return out;
}

/** Contiguous row-major data of a buffer, copying only if it is a strided view. */
export function dense(x: Buffer): TypedArray {
  const { nd, dtype } = x as CpuBuffer;
  const size = sizeOf(nd.shape);
  if (nd.offset === 0 && nd.data.length === size && isContiguous(nd)) return nd.data;
  if (isContiguous(nd)) return nd.data.subarray(nd.offset, nd.offset + size) as TypedArray;
  return copyStrided(nd, dtype);
}

function unaryKernel(op: UnaryOp, a: TypedArray, o: TypedArray): void {
  const n = a.length;
  switch (op) {
    case 'neg': for (let i = 0; i < n; i++) o[i] = -a[i]!; break;
    case 'exp': for (let i = 0; i < n; i++) o[i] = Math.exp(a[i]!); break;
    case 'log': for (let i = 0; i < n; i++) o[i] = Math.log(a[i]!); break;
    case 'tanh': for (let i = 0; i < n; i++) o[i] = Math.tanh(a[i]!); break;
    case 'sigmoid':
      for (let i = 0; i < n; i++) {
        const x = a[i]!;
        // two branches keep exp from overflowing for large |x|
        if (x >= 0) o[i] = 1 / (1 + Math.exp(-x));
        else { const e = Math.exp(x); o[i] = e / (1 + e); }
      }
      break;
    case 'relu': {
      // Branch-free: a branch on the sign mispredicts on real activations, and this runs about 4×
      // faster. (x > 0)·x keeps NaN (0·NaN), as PyTorch does; + 0 turns −0 into 0; only −∞ needs
      // the fix-up, since 0·−∞ is NaN.
      let negInf = 0;
      for (let i = 0; i < n; i++) { const x = a[i]!; o[i] = +(x > 0) * x + 0; negInf |= +(x === -Infinity); }
      if (negInf) for (let i = 0; i < n; i++) if (a[i] === -Infinity) o[i] = 0;
      break;
    }
    case 'softplus':
      // log(1 + e^x) = max(x, 0) + log1p(e^-|x|), stable for both signs
      for (let i = 0; i < n; i++) { const x = a[i]!; o[i] = Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))); }
      break;
    case 'square': for (let i = 0; i < n; i++) { const x = a[i]!; o[i] = x * x; } break;
    case 'sqrt': for (let i = 0; i < n; i++) o[i] = Math.sqrt(a[i]!); break;
    case 'abs': for (let i = 0; i < n; i++) o[i] = Math.abs(a[i]!); break;
    case 'sign': for (let i = 0; i < n; i++) { const x = a[i]!; o[i] = +(x > 0) - +(x < 0); } break; // branch-free, like relu; NaN → 0
  }
}

function binaryKernel(op: BinaryOp, a: TypedArray, b: TypedArray, o: TypedArray): void {
  const n = o.length;
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) o[i] = a[i]! + b[i]!; break;
    case 'sub': for (let i = 0; i < n; i++) o[i] = a[i]! - b[i]!; break;
    case 'mul': for (let i = 0; i < n; i++) o[i] = a[i]! * b[i]!; break;
    case 'div': for (let i = 0; i < n; i++) o[i] = a[i]! / b[i]!; break;
    // NaN in either operand wins (x !== x, or a failed comparison picks y), as in PyTorch
    case 'max': for (let i = 0; i < n; i++) { const x = a[i]!; o[i] = x >= b[i]! || x !== x ? x : b[i]!; } break;
    case 'min': for (let i = 0; i < n; i++) { const x = a[i]!; o[i] = x <= b[i]! || x !== x ? x : b[i]!; } break;
    // +(bool) compiles without a branch: comparisons of activations with 0 are coin flips
    case 'equal': for (let i = 0; i < n; i++) o[i] = +(a[i] === b[i]); break;
    case 'greater': for (let i = 0; i < n; i++) o[i] = +(a[i]! > b[i]!); break;
  }
}

/**
 * A binary op on two strided views of one shape, written contiguously into `o`, without first
 * copying the views. Axes are merged where both views allow it, so loops are as long as
 * possible; the inner loop then runs with each operand's own stride (0 for a broadcast operand).
 * If the last merged axis is short (a 2×2 pooling window, say) and the one before it long, the
 * two swap roles, so the inner loop stays long.
 */
function binaryStrided(op: BinaryOp, a: NdArray<TypedArray>, b: NdArray<TypedArray>, o: TypedArray): void {
  if (o.length === 0) return;
  const sizes: number[] = [], sa: number[] = [], sb: number[] = [];
  a.shape.forEach((d, i) => {
    if (d === 1) return;
    const g = sizes.length - 1;
    // axis i continues the previous group if stepping over the group equals one step of axis i
    if (g >= 0 && sa[g] === a.stride[i]! * d && sb[g] === b.stride[i]! * d) {
      sizes[g]! *= d; sa[g] = a.stride[i]!; sb[g] = b.stride[i]!;
    } else { sizes.push(d); sa.push(a.stride[i]!); sb.push(b.stride[i]!); }
  });
  if (sizes.length === 0) { sizes.push(1); sa.push(0); sb.push(0); }
  const G = sizes.length;
  const so = new Array<number>(G); // the output is contiguous
  for (let g = G - 1, stride = 1; g >= 0; g--) { so[g] = stride; stride *= sizes[g]!; }
  if (G >= 2 && sizes[G - 1]! < 16 && sizes[G - 2]! > sizes[G - 1]!) {
    for (const xs of [sizes, sa, sb, so]) [xs[G - 2], xs[G - 1]] = [xs[G - 1]!, xs[G - 2]!];
  }
  const n = sizes[G - 1]!, stepA = sa[G - 1]!, stepB = sb[G - 1]!, stepO = so[G - 1]!;
  const A = a.data, B = b.data, index = new Array<number>(G).fill(0);
  const rows = o.length / n;
  let pa = a.offset, pb = b.offset, po = 0;
  for (let row = 0; row < rows; row++) {
    binaryRow(op, A, pa, stepA, B, pb, stepB, o, po, stepO, n);
    for (let g = G - 2; g >= 0; g--) {
      index[g]!++;
      pa += sa[g]!; pb += sb[g]!; po += so[g]!;
      if (index[g]! < sizes[g]!) break;
      pa -= sa[g]! * sizes[g]!; pb -= sb[g]! * sizes[g]!; po -= so[g]! * sizes[g]!;
      index[g] = 0;
    }
  }
}

function binaryRow(op: BinaryOp, A: TypedArray, pa: number, sa: number, B: TypedArray, pb: number, sb: number, o: TypedArray, po: number, so: number, n: number): void {
  switch (op) {
    case 'add': for (let i = 0; i < n; i++, pa += sa, pb += sb, po += so) o[po] = A[pa]! + B[pb]!; break;
    case 'sub': for (let i = 0; i < n; i++, pa += sa, pb += sb, po += so) o[po] = A[pa]! - B[pb]!; break;
    case 'mul': for (let i = 0; i < n; i++, pa += sa, pb += sb, po += so) o[po] = A[pa]! * B[pb]!; break;
    case 'div': for (let i = 0; i < n; i++, pa += sa, pb += sb, po += so) o[po] = A[pa]! / B[pb]!; break;
    case 'max': for (let i = 0; i < n; i++, pa += sa, pb += sb, po += so) { const x = A[pa]!, y = B[pb]!; o[po] = x >= y || x !== x ? x : y; } break;
    case 'min': for (let i = 0; i < n; i++, pa += sa, pb += sb, po += so) { const x = A[pa]!, y = B[pb]!; o[po] = x <= y || x !== x ? x : y; } break;
    case 'equal': for (let i = 0; i < n; i++, pa += sa, pb += sb, po += so) o[po] = +(A[pa] === B[pb]); break;
    case 'greater': for (let i = 0; i < n; i++, pa += sa, pb += sb, po += so) o[po] = +(A[pa]! > B[pb]!); break;
  }
}

/**
 * poolArgmax for 2×2 windows, the common case, without branches: the general loop's `if` on
 * random activations mispredicts half the time, and this runs about 2.4× faster. `take` is 1
 * where a pixel beats the best so far (the general loop's rule: a larger value, or the first
 * NaN); the best's offset and position then move by take·(new − old).
 */
function argmax2x2(a: TypedArray, o: TypedArray, planes: number, h: number, w: number, oh: number, ow: number, stride: number): void {
  // 1 where the pixel at p beats the best so far, at pos
  const beats = (p: number, pos: number): number => {
    const v = a[p]!, best = a[pos]!;
    return +(v > best) | (+(v !== v) & +(best === best));
  };
  for (let plane = 0, q = 0; plane < planes; plane++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0, corner = plane * h * w + y * stride * w; xx < ow; xx++, q++, corner += stride) {
        // offsets 1, 2, 3 (the pixels right, below, below-right) challenge offset 0, in order
        let at = 0, pos = corner, take = beats(corner + 1, pos);
        at += take * (1 - at); pos += take * (corner + 1 - pos);
        take = beats(corner + w, pos);
        at += take * (2 - at); pos += take * (corner + w - pos);
        take = beats(corner + w + 1, pos);
        o[q] = at + take * (3 - at);
      }
}

// ---------- matmul ----------
//
// The classic recipe (GotoBLAS, BLIS) at JavaScript scale: for each block of KC columns of
// op(A) / rows of op(B), copy ("pack") both operands into float64 scratch panels laid out in the
// exact order the inner kernel reads them, then compute C one 4×4 tile at a time with sixteen
// accumulators held in registers. Each step of the inner loop loads 8 numbers and does 16
// multiply-adds; a naive loop loads 2 per multiply-add and strides through B by columns.
// Packing also absorbs the transpose flags and the dtype: float32 inputs are widened once per
// panel, so float32 runs the same float64 kernel (JavaScript arithmetic is float64 anyway) and
// accumulates more accurately than float32 would.

const MR = 4, NR = 4, KC = 256, MC = 256;

/**
 * Which inner kernel matmul uses: 'wasm' (WebAssembly SIMD, two multiply-adds per instruction;
 * the default where available) or 'js' (the same algorithm in plain JavaScript, the fallback).
 * Exposed so that tests and benchmarks can check and time both.
 */
export type MatmulKernel = 'wasm' | 'js';
let matmulKernel: MatmulKernel = wasmTiles() !== null ? 'wasm' : 'js';

/** Chooses the matmul inner kernel; returns the previous choice. 'wasm' falls back to 'js' where unsupported. */
export function setMatmulKernel(kernel: MatmulKernel): MatmulKernel {
  const previous = matmulKernel;
  matmulKernel = kernel === 'wasm' && wasmTiles() === null ? 'js' : kernel;
  return previous;
}

// Scratch panels are reused across calls, so a loop of matmuls allocates nothing but its outputs.
let packedA = new Float64Array(MR * KC * 64);
let packedB = new Float64Array(NR * KC * 64);

/**
 * C[M,N] += op(A)·op(B) for one matrix pair stored row-major at the given offsets, where
 * op(A) is A [M,K] or, with `transA`, Aᵀ for A stored [K,M] (likewise B: [K,N] or [N,K]).
 * With `accumulate = false`, C is overwritten instead (no need to zero it first).
 */
export function matmulInto(
  A: TypedArray, aOff: number, B: TypedArray, bOff: number, C: TypedArray, cOff: number,
  M: number, K: number, N: number, transA: boolean, transB: boolean, accumulate = true,
): void {
  // op(A)[i,k] = A[aOff + i·aI + k·aK]; op(B)[k,j] = B[bOff + k·bK + j·bJ]
  const aI = transA ? 1 : K, aK = transA ? M : 1;
  const bK = transB ? 1 : N, bJ = transB ? K : 1;
  // Rows of C in bands of MC: the scratch panels stay small (bounded by N, not by M) and a band
  // of C stays in cache while it is accumulated. B is re-packed per band, a 1/MC share of the work.
  for (let i0 = 0; i0 < M; i0 += MC) {
    const rows = Math.min(MC, M - i0);
    matmulBand(A, aOff + i0 * aI, aI, aK, B, bOff, bJ, bK, C, cOff + i0 * N, rows, K, N, accumulate);
  }
}

/** One band of `rows` rows of C: pack, multiply tile by tile, bring the band home. */
function matmulBand(
  A: TypedArray, aOff: number, aI: number, aK: number, B: TypedArray, bOff: number, bJ: number, bK: number,
  C: TypedArray, cOff: number, M: number, K: number, N: number, accumulate: boolean,
): void {
  const mPanels = Math.ceil(M / MR), nPanels = Math.ceil(N / NR);
  const wasm = matmulKernel === 'wasm' ? wasmTiles() : null;
  // the same packing, into WebAssembly memory: [A panels | B panels | C, 4·nPanels wide]
  const kMax = Math.min(K, KC);
  const bAt = mPanels * MR * kMax, cAt = bAt + nPanels * NR * kMax, ldc = nPanels * NR;
  const mem = wasm === null ? null : wasm.view(cAt + mPanels * MR * ldc);
  if (wasm !== null && mem !== null) {
    mem.fill(0, cAt, cAt + mPanels * MR * ldc);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = Math.min(KC, K - k0);
      packPanels(A, aOff, M, aI, aK, k0, kc, mem, 0);
      packPanels(B, bOff, N, bJ, bK, k0, kc, mem, bAt);
      wasm.run(0, bAt, cAt, kc, mPanels, nPanels);
    }
    // bring C home: a native block copy where rows line up, else row by row
    if (!accumulate && ldc === N) C.set(mem.subarray(cAt, cAt + M * N), cOff);
    else if (!accumulate) for (let i = 0; i < M; i++) C.set(mem.subarray(cAt + i * ldc, cAt + i * ldc + N), cOff + i * N);
    else {
      for (let i = 0; i < M; i++) {
        const row = cOff + i * N, from = cAt + i * ldc;
        for (let j = 0; j < N; j++) C[row + j] += mem[from + j]!;
      }
    }
    return;
  }
  if (!accumulate) C.fill(0, cOff, cOff + M * N);
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    if (packedA.length < mPanels * MR * kc) packedA = new Float64Array(mPanels * MR * kc);
    if (packedB.length < nPanels * NR * kc) packedB = new Float64Array(nPanels * NR * kc);
    packPanels(A, aOff, M, aI, aK, k0, kc, packedA, 0);
    packPanels(B, bOff, N, bJ, bK, k0, kc, packedB, 0);
    tiles(packedA, packedB, C, cOff, M, N, kc, mPanels, nPanels);
  }
}

/**
 * Copies columns k0..k0+kc of a matrix X with `rows` rows (element (i, k) at
 * X[off + i·rowStride + k·kStride]) into panels of 4 rows, zero-padded to whole panels:
 * dst[at + (p·kc + k)·4 + r] = X(4p + r, k0 + k). A's panels are its rows, B's its columns.
 * The loop order follows the memory: along rows when those are contiguous, else along k.
 */
function packPanels(
  X: TypedArray, off: number, rows: number, rowStride: number, kStride: number,
  k0: number, kc: number, dst: Float64Array, at: number,
): void {
  const full = Math.floor(rows / 4), rest = rows - 4 * full;
  if (rowStride === 1) {
    // rows are adjacent in memory (Aᵀ, or B stored [K,N]): read each k-slice sequentially
    for (let k = 0; k < kc; k++) {
      const src = off + (k0 + k) * kStride;
      let d = at + k * 4;
      for (let p = 0, x = src; p < full; p++, x += 4, d += kc * 4) {
        dst[d] = X[x]!; dst[d + 1] = X[x + 1]!; dst[d + 2] = X[x + 2]!; dst[d + 3] = X[x + 3]!;
      }
      if (rest > 0) for (let r = 0; r < 4; r++) dst[d + r] = r < rest ? X[src + 4 * full + r]! : 0;
    }
    return;
  }
  // otherwise walk k, four rows at a time (four read streams, one sequential write stream)
  for (let p = 0; p < full; p++) {
    let x0 = off + 4 * p * rowStride + k0 * kStride, d = at + p * kc * 4;
    const x1 = rowStride, x2 = 2 * rowStride, x3 = 3 * rowStride;
    for (let k = 0; k < kc; k++, x0 += kStride, d += 4) {
      dst[d] = X[x0]!; dst[d + 1] = X[x0 + x1]!; dst[d + 2] = X[x0 + x2]!; dst[d + 3] = X[x0 + x3]!;
    }
  }
  if (rest > 0) {
    for (let r = 0; r < 4; r++) {
      let d = at + full * kc * 4 + r;
      const i = 4 * full + r;
      if (i < rows) for (let k = 0, x = off + i * rowStride + k0 * kStride; k < kc; k++, x += kStride, d += 4) dst[d] = X[x]!;
      else for (let k = 0; k < kc; k++, d += 4) dst[d] = 0;
    }
  }
}

/** C += packed A panels × packed B panels, one 4×4 tile of C per (panel of A, panel of B). */
function tiles(pa: Float64Array, pb: Float64Array, C: TypedArray, cOff: number, M: number, N: number, kc: number, mPanels: number, nPanels: number): void {
  for (let q = 0; q < nPanels; q++) {
    const j0 = q * NR, bStart = q * kc * NR;
    for (let p = 0; p < mPanels; p++) {
      const i0 = p * MR;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let k = 0, a = p * kc * MR, b = bStart; k < kc; k++, a += MR, b += NR) {
        const a0 = pa[a]!, a1 = pa[a + 1]!, a2 = pa[a + 2]!, a3 = pa[a + 3]!;
        const b0 = pb[b]!, b1 = pb[b + 1]!, b2 = pb[b + 2]!, b3 = pb[b + 3]!;
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      if (i0 + MR <= M && j0 + NR <= N) {
        let o = cOff + i0 * N + j0;
        C[o] += c00; C[o + 1] += c01; C[o + 2] += c02; C[o + 3] += c03; o += N;
        C[o] += c10; C[o + 1] += c11; C[o + 2] += c12; C[o + 3] += c13; o += N;
        C[o] += c20; C[o + 1] += c21; C[o + 2] += c22; C[o + 3] += c23; o += N;
        C[o] += c30; C[o + 1] += c31; C[o + 2] += c32; C[o + 3] += c33;
      } else {
        // a ragged tile at the bottom or right edge: write only the entries inside C
        const tile = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
        for (let r = 0; r < MR && i0 + r < M; r++) {
          for (let s = 0; s < NR && j0 + s < N; s++) C[cOff + (i0 + r) * N + j0 + s] += tile[r * NR + s]!;
        }
      }
    }
  }
}

export const cpuBackend: Backend = {
  name: 'cpu',

  fromArray(values, shape, dtype) {
    const data = allocate(dtype, sizeOf(shape));
    if (values.length === data.length) data.set(values); // a native copy (and conversion)
    else for (let i = 0; i < data.length; i++) data[i] = values[i]!;
    return wrap(data, shape, dtype);
  },
  toArray(x) {
    return dense(x).slice() as TypedArray; // a copy: tensors are immutable, callers may write to theirs
  },
  dispose() {},
  fill(shape, dtype, value) {
    const data = allocate(dtype, sizeOf(shape));
    if (value !== 0) data.fill(value);
    return wrap(data, shape, dtype);
  },

  unary(op, x) {
    const a = dense(x);
    const o = allocate(x.dtype, a.length);
    unaryKernel(op, a, o);
    return wrap(o, x.shape, x.dtype);
  },
  binary(op, a, b) {
    const o = allocate(a.dtype, sizeOf(a.shape));
    const na = (a as CpuBuffer).nd, nb = (b as CpuBuffer).nd;
    if (isContiguous(na) && isContiguous(nb)) binaryKernel(op, dense(a), dense(b), o);
    else binaryStrided(op, na, nb, o); // e.g. a bias broadcast by stride 0: read it in place
    return wrap(o, a.shape, a.dtype);
  },
  pow(x, p) {
    const a = dense(x);
    const o = allocate(x.dtype, a.length);
    for (let i = 0; i < a.length; i++) o[i] = Math.pow(a[i]!, p);
    return wrap(o, x.shape, x.dtype);
  },
  where(cond, a, b) {
    const c = dense(cond), av = dense(a), bv = dense(b);
    const o = allocate(a.dtype, c.length);
    for (let i = 0; i < c.length; i++) o[i] = c[i] !== 0 ? av[i]! : bv[i]!;
    return wrap(o, a.shape, a.dtype);
  },
  cast(x, dtype) {
    const a = dense(x);
    const o = allocate(dtype, a.length);
    o.set(a);
    return wrap(o, x.shape, dtype);
  },

  reduce(op, x, axes) {
    // Walk the (contiguous) input once, in memory order, without transposing it: adjacent axes
    // that are all reduced or all kept merge into one, and the innermost run either folds into
    // one accumulator (reduced) or adds a whole row into the output (kept, e.g. a bias gradient
    // summed over the batch).
    const a = dense(x);
    const outShape = x.shape.filter((_, i) => !axes.includes(i));
    const o = allocate(x.dtype, sizeOf(outShape));
    const isMax = op === 'max';
    if (isMax) o.fill(-Infinity);
    const sizes: number[] = [], reduced: boolean[] = [];
    x.shape.forEach((d, i) => {
      if (d === 1) return;
      const r = axes.includes(i);
      if (sizes.length > 0 && reduced[reduced.length - 1] === r) sizes[sizes.length - 1]! *= d;
      else { sizes.push(d); reduced.push(r); }
    });
    if (a.length === 0) return wrap(o, outShape, x.dtype);
    if (sizes.length === 0) { o[0] = a[0]!; return wrap(o, outShape, x.dtype); }
    const G = sizes.length, inner = sizes[G - 1]!, innerReduced = reduced[G - 1]!;
    const outStride = new Array<number>(G);
    for (let g = G - 1, stride = 1; g >= 0; g--) {
      outStride[g] = reduced[g] ? 0 : stride;
      if (!reduced[g]) stride *= sizes[g]!;
    }
    const index = new Array<number>(G).fill(0);
    const rows = a.length / inner;
    for (let row = 0, p = 0, q = 0; row < rows; row++, p += inner) {
      if (innerReduced) {
        let acc = isMax ? -Infinity : 0;
        if (isMax) for (let j = 0; j < inner; j++) { const v = a[p + j]!; if (v > acc || v !== v) acc = v; }
        else for (let j = 0; j < inner; j++) acc += a[p + j]!;
        if (!isMax) o[q] += acc;
        else if (acc > o[q]! || acc !== acc) o[q] = acc;
      } else if (isMax) {
        for (let j = 0; j < inner; j++) { const v = a[p + j]!; if (v > o[q + j]! || v !== v) o[q + j] = v; }
      } else {
        for (let j = 0; j < inner; j++) o[q + j] += a[p + j]!;
      }
      // advance the outer multi-index (groups G-2..0) like an odometer, tracking the output offset
      for (let g = G - 2; g >= 0; g--) {
        index[g]!++;
        q += outStride[g]!;
        if (index[g]! < sizes[g]!) break;
        q -= outStride[g]! * sizes[g]!;
        index[g] = 0;
      }
    }
    return wrap(o, outShape, x.dtype);
  },

  matmul(a, b, transA, transB) {
    const ra = a.shape.length;
    const batchShape = a.shape.slice(0, ra - 2);
    const [aR, aC] = [a.shape[ra - 2]!, a.shape[ra - 1]!];
    const [bR, bC] = [b.shape[ra - 2]!, b.shape[ra - 1]!];
    const M = transA ? aC : aR, K = transA ? aR : aC, N = transB ? bR : bC;
    const batch = sizeOf(batchShape);
    const A = dense(a), B = dense(b);
    const C = allocate(a.dtype, batch * M * N);
    for (let t = 0; t < batch; t++) matmulInto(A, t * M * K, B, t * K * N, C, t * M * N, M, K, N, transA, transB, false);
    return wrap(C, [...batchShape, M, N], a.dtype);
  },

  reshape(x, shape) {
    const nd = (x as CpuBuffer).nd;
    if (isContiguous(nd)) return new CpuBuffer(ndarray(nd.data, [...shape], stridesOf(shape), nd.offset), x.dtype);
    return wrap(dense(x), shape, x.dtype);
  },
  permute(x, perm) {
    return new CpuBuffer((x as CpuBuffer).nd.transpose(...perm), x.dtype);
  },
  broadcastTo(x, shape) {
    // A broadcast is a view: new leading axes and size-1 axes get stride 0.
    const nd = (x as CpuBuffer).nd;
    const lead = shape.length - nd.shape.length;
    const stride = shape.map((d, i) => (i < lead || nd.shape[i - lead] === 1 ? 0 : nd.stride[i - lead]!));
    return new CpuBuffer(ndarray(nd.data, [...shape], stride, nd.offset), x.dtype);
  },
  slice(x, begin, size) {
    const nd = (x as CpuBuffer).nd;
    return new CpuBuffer(nd.hi(...begin.map((b, i) => b + size[i]!)).lo(...begin), x.dtype);
  },
  pad(x, before, after) {
    const outShape = x.shape.map((d, i) => d + before[i]! + after[i]!);
    const out = wrap(allocate(x.dtype, sizeOf(outShape)), outShape, x.dtype);
    const window = out.nd.hi(...before.map((b, i) => b + x.shape[i]!)).lo(...before);
    assign(window, dense(x));
    return out;
  },
  concat(xs, axis) {
    const first = xs[0]!;
    const outShape = [...first.shape];
    outShape[axis] = xs.reduce((s, x) => s + x.shape[axis]!, 0);
    const out = wrap(allocate(first.dtype, sizeOf(outShape)), outShape, first.dtype);
    let at = 0;
    for (const x of xs) {
      const lo = outShape.map((_, i) => (i === axis ? at : 0));
      const hi = outShape.map((d, i) => (i === axis ? at + x.shape[axis]! : d));
      assign(out.nd.hi(...hi).lo(...lo), dense(x));
      at += x.shape[axis]!;
    }
    return out;
  },

  gather(x, labels) {
    const [n, c] = x.shape as [number, number];
    const a = dense(x);
    const o = allocate(x.dtype, n);
    for (let i = 0; i < n; i++) o[i] = a[i * c + labels[i]!]!;
    return wrap(o, [n], x.dtype);
  },
  scatter(v, labels, classes) {
    const n = v.shape[0]!;
    const a = dense(v);
    const o = allocate(v.dtype, n * classes);
    for (let i = 0; i < n; i++) o[i * classes + labels[i]!] = a[i]!;
    return wrap(o, [n, classes], v.dtype);
  },

  im2col(x, g) {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const { kernelH: kh, kernelW: kw, stride, padding } = g;
    const oh = convOutSize(h, kh, stride, padding), ow = convOutSize(w, kw, stride, padding);
    const a = dense(x);
    const patch = c * kh * kw;
    const o = allocate(x.dtype, n * oh * ow * patch);
    let p = 0;
    for (let b = 0; b < n; b++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          // the kernel columns that land inside the image: the inner loop needs no bounds checks
          const x0 = xx * stride - padding;
          const kxLo = Math.max(0, -x0), kxHi = Math.min(kw, w - x0);
          for (let ch = 0; ch < c; ch++) {
            const plane = (b * c + ch) * h * w;
            for (let ky = 0; ky < kh; ky++, p += kw) {
              const iy = y * stride - padding + ky;
              if (iy < 0 || iy >= h) continue; // a padding row: stays zero
              const src = plane + iy * w + x0;
              for (let kx = kxLo; kx < kxHi; kx++) o[p + kx] = a[src + kx]!;
            }
          }
        }
    return wrap(o, [n, oh, ow, patch], x.dtype);
  },
  col2im(cols, imageShape, g) {
    const [n, c, h, w] = imageShape as [number, number, number, number];
    const { kernelH: kh, kernelW: kw, stride, padding } = g;
    const oh = convOutSize(h, kh, stride, padding), ow = convOutSize(w, kw, stride, padding);
    const a = dense(cols);
    const o = allocate(cols.dtype, n * c * h * w);
    let p = 0;
    for (let b = 0; b < n; b++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          const x0 = xx * stride - padding;
          const kxLo = Math.max(0, -x0), kxHi = Math.min(kw, w - x0);
          for (let ch = 0; ch < c; ch++) {
            const plane = (b * c + ch) * h * w;
            for (let ky = 0; ky < kh; ky++, p += kw) {
              const iy = y * stride - padding + ky;
              if (iy < 0 || iy >= h) continue;
              const dst = plane + iy * w + x0;
              for (let kx = kxLo; kx < kxHi; kx++) o[dst + kx] += a[p + kx]!;
            }
          }
        }
    return wrap(o, imageShape, cols.dtype);
  },

  poolArgmax(x, g) {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const { kernelH: kh, kernelW: kw, stride } = g;
    const oh = convOutSize(h, kh, stride, 0), ow = convOutSize(w, kw, stride, 0);
    const a = dense(x);
    const o = allocate(x.dtype, n * c * oh * ow);
    if (kh === 2 && kw === 2) {
      argmax2x2(a, o, n * c, h, w, oh, ow, stride);
      return wrap(o, [n, c, oh, ow], x.dtype);
    }
    for (let plane = 0, q = 0; plane < n * c; plane++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++, q++) {
          const corner = plane * h * w + y * stride * w + xx * stride;
          let best = a[corner]!, at = 0;
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const v = a[corner + ky * w + kx]!;
              if (v > best || (v !== v && best === best)) { best = v; at = ky * kw + kx; } // the first maximum, or the first NaN
            }
          o[q] = at;
        }
    return wrap(o, [n, c, oh, ow], x.dtype);
  },
  poolGather(x, at, g) {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const [, , oh, ow] = at.shape as [number, number, number, number];
    const { kernelH: kh, kernelW: kw, stride } = g;
    const a = dense(x), offsets = dense(at), step = windowSteps(kh, kw, w);
    const o = allocate(x.dtype, n * c * oh * ow);
    for (let plane = 0, q = 0; plane < n * c; plane++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++, q++) {
          const k = offsets[q]!;
          if (!(k >= 0 && k < step.length && (k | 0) === k)) throw badOffset('poolGather', q, k, kh, kw);
          o[q] = a[plane * h * w + y * stride * w + xx * stride + step[k]!]!;
        }
    return wrap(o, at.shape, x.dtype);
  },
  poolScatter(v, at, imageShape, g) {
    const [n, c, h, w] = imageShape as [number, number, number, number];
    const [, , oh, ow] = at.shape as [number, number, number, number];
    const { kernelH: kh, kernelW: kw, stride } = g;
    const a = dense(v), offsets = dense(at), step = windowSteps(kh, kw, w);
    const o = allocate(v.dtype, n * c * h * w);
    for (let plane = 0, q = 0; plane < n * c; plane++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++, q++) {
          const k = offsets[q]!;
          if (!(k >= 0 && k < step.length && (k | 0) === k)) throw badOffset('poolScatter', q, k, kh, kw);
          o[plane * h * w + y * stride * w + xx * stride + step[k]!] += a[q]!; // windows may overlap: add
        }
    return wrap(o, imageShape, v.dtype);
  },
};

/** step[ky·kw + kx] = ky·w + kx: how far a window's pixel lies from its corner in a row-major image of width w. */
function windowSteps(kh: number, kw: number, w: number): Int32Array {
  const step = new Int32Array(kh * kw);
  for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) step[ky * kw + kx] = ky * w + kx;
  return step;
}

function badOffset(op: string, index: number, value: number, kh: number, kw: number): ValueError {
  return new ValueError(`${op}: offset ${index} (flat) is ${value}, not a window position in [0, ${kh * kw}) of a ${kh}×${kw} window`);
}

/** Writes contiguous `values` into a (possibly strided) view, in row-major order. */
function assign(view: NdArray<TypedArray>, values: TypedArray): void {
  const shape = view.shape, stride = view.stride, dst = view.data;
  const rank = shape.length, size = values.length;
  if (size === 0) return;
  if (rank === 0) { dst[view.offset] = values[0]!; return; }
  const inner = shape[rank - 1]!, innerStride = stride[rank - 1]!;
  const index = new Array<number>(rank - 1).fill(0);
  let base = view.offset;
  for (let o = 0; o < size; o += inner) {
    for (let j = 0, p = base; j < inner; j++, p += innerStride) dst[p] = values[o + j]!;
    for (let ax = rank - 2; ax >= 0; ax--) {
      index[ax]!++;
      base += stride[ax]!;
      if (index[ax]! < shape[ax]!) break;
      base -= stride[ax]! * shape[ax]!;
      index[ax] = 0;
    }
  }
}
