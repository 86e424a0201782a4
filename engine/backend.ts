/**
 * The kernel interface. Everything in engine/ reaches numbers through a Backend and never around
 * it, so a second implementation (gpu.js) can run the same primitives. A backend stores data in
 * `Buffer`s it defines itself; the engine only ever reads `shape` and `dtype` from them.
 *
 * Kernels are deliberately few and dumb: elementwise ops take same-shape operands (broadcasting
 * is done by the engine through `broadcastTo`), reductions remove axes, matmul takes transpose
 * flags so that gradients need no copies.
 */
import type { DType, TypedArray } from './dtype.js';
import type { Shape } from './shape.js';

/** A backend's handle to stored data. */
export interface Buffer {
  readonly shape: Shape;
  readonly dtype: DType;
}

export type UnaryOp = 'neg' | 'exp' | 'log' | 'tanh' | 'sigmoid' | 'relu' | 'softplus' | 'square' | 'sqrt' | 'abs' | 'sign';
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min' | 'equal' | 'greater';

export interface Conv2dGeometry {
  readonly kernelH: number;
  readonly kernelW: number;
  readonly stride: number;
  readonly padding: number;
}

/** Pooling windows: kernelH×kernelW, `stride` apart, no padding. */
export interface PoolGeometry {
  readonly kernelH: number;
  readonly kernelW: number;
  readonly stride: number;
}

export interface Backend {
  readonly name: string;
  /** Copies host numbers into a new buffer (the upload point). */
  fromArray(values: ArrayLike<number>, shape: Shape, dtype: DType): Buffer;
  /** Copies a buffer to host memory, contiguous row-major (the download point). */
  toArray(x: Buffer): TypedArray;
  /** Releases device memory early; on the CPU it is a no-op (the GC owns the memory). */
  dispose(x: Buffer): void;
  fill(shape: Shape, dtype: DType, value: number): Buffer;

  unary(op: UnaryOp, x: Buffer): Buffer;
  /** Elementwise on two buffers of the same shape; comparisons return 1 or 0. */
  binary(op: BinaryOp, a: Buffer, b: Buffer): Buffer;
  /** x ** p for a constant exponent. */
  pow(x: Buffer, p: number): Buffer;
  /** cond ≠ 0 ? a : b, all three the same shape. */
  where(cond: Buffer, a: Buffer, b: Buffer): Buffer;
  cast(x: Buffer, dtype: DType): Buffer;

  /** Reduces the (sorted, unique) axes away. */
  reduce(op: 'sum' | 'max', x: Buffer, axes: readonly number[]): Buffer;
  /** [...B, M, K] × [...B, K, N] with equal batch dims; a transpose flag swaps that operand's last two axes. */
  matmul(a: Buffer, b: Buffer, transA: boolean, transB: boolean): Buffer;

  reshape(x: Buffer, shape: Shape): Buffer;
  permute(x: Buffer, perm: readonly number[]): Buffer;
  broadcastTo(x: Buffer, shape: Shape): Buffer;
  slice(x: Buffer, begin: readonly number[], size: readonly number[]): Buffer;
  /** Zero padding: `before[i]` zeros in front of axis i, `after[i]` behind. */
  pad(x: Buffer, before: readonly number[], after: readonly number[]): Buffer;
  concat(xs: readonly Buffer[], axis: number): Buffer;

  /** out[i] = x[i, labels[i]] for x of shape [N, C]. */
  gather(x: Buffer, labels: Int32Array): Buffer;
  /** out[i, labels[i]] = v[i], zeros elsewhere, out of shape [N, classes]. */
  scatter(v: Buffer, labels: Int32Array, classes: number): Buffer;

  /** Image patches: [N, C, H, W] → [N, OH, OW, C·kh·kw], zero padded. */
  im2col(x: Buffer, g: Conv2dGeometry): Buffer;
  /** The adjoint of im2col: sums patches back into an image of shape `imageShape`. */
  col2im(cols: Buffer, imageShape: Shape, g: Conv2dGeometry): Buffer;

  /**
   * Where each pooling window of an [N, C, H, W] image is largest, as the offset ky·kw + kx of
   * that pixel inside the window: [N, C, OH, OW] in x's dtype. The first maximum wins a tie; a
   * window holding NaN points at a NaN.
   */
  poolArgmax(x: Buffer, g: PoolGeometry): Buffer;
  /** out[n, c, oy, ox] = x[n, c, oy·stride + ky, ox·stride + kx] where at[n, c, oy, ox] = ky·kw + kx. */
  poolGather(x: Buffer, at: Buffer, g: PoolGeometry): Buffer;
  /** The adjoint of poolGather: each v[n, c, oy, ox] added to the pixel `at` points to, in an image of `imageShape`. */
  poolScatter(v: Buffer, at: Buffer, imageShape: Shape, g: PoolGeometry): Buffer;
}

/** Output size of a convolution or pooling window along one axis. */
export function convOutSize(size: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((size + 2 * padding - kernel) / stride) + 1;
}
