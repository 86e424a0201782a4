/**
 * Tensors: immutable n-d arrays with a shape and a dtype.
 *
 * A `Tensor` is either concrete (a backend buffer holding numbers) or a tracer (a value that a
 * transform is following; see trace.ts). Operations never mutate a tensor; reading numbers out
 * is explicit (`toArray`, `item`), which is where a GPU backend downloads.
 */
import type { Backend, Buffer } from './backend.js';
import { getBackend } from './backends/registry.js';
import { allocate, type DType, type TypedArray } from './dtype.js';
import { ShapeError, ValueError, fmtShape } from './errors.js';
import { checkShape, sameShape, sizeOf, type Shape } from './shape.js';

export abstract class Tensor {
  abstract readonly shape: Shape;
  abstract readonly dtype: DType;
  /** Copies the values to host memory, row-major. Inside a transform, reads the primal values. */
  abstract toArray(): TypedArray;

  get rank(): number {
    return this.shape.length;
  }
  get size(): number {
    return sizeOf(this.shape);
  }
  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item: tensor of shape ${fmtShape(this.shape)} has ${this.size} elements, not 1`);
    return this.toArray()[0]!;
  }
  /** Values as nested JavaScript arrays (a number for a scalar). */
  toNested(): NestedArray {
    const flat = this.toArray();
    const build = (axis: number, offset: number): NestedArray => {
      if (axis === this.rank) return flat[offset]!;
      const stride = sizeOf(this.shape.slice(axis + 1));
      return Array.from({ length: this.shape[axis]! }, (_, i) => build(axis + 1, offset + i * stride));
    };
    return build(0, 0);
  }
  toString(): string {
    return `Tensor(${this.dtype}, ${fmtShape(this.shape)})`;
  }
}

/** Numbers nested to any depth, as `toNested` returns and `tensor` accepts. */
export type NestedArray = number | NestedArray[];

/** A tensor whose numbers live in a backend buffer. */
export class ConcreteTensor extends Tensor {
  constructor(readonly buffer: Buffer, readonly backend: Backend) {
    super();
  }
  get shape(): Shape {
    return this.buffer.shape;
  }
  get dtype(): DType {
    return this.buffer.dtype;
  }
  toArray(): TypedArray {
    return this.backend.toArray(this.buffer);
  }
  /** Frees device memory now instead of waiting for the garbage collector. */
  dispose(): void {
    this.backend.dispose(this.buffer);
  }
}

/** What the ops accept: a tensor, or a plain number that takes the other operand's dtype. */
export type TensorLike = Tensor | number;

let defaultDType: DType = 'float64';

/** The dtype of tensors created without one (float64 unless changed). */
export function getDefaultDType(): DType {
  return defaultDType;
}
/** Changes the dtype of tensors created without one. */
export function setDefaultDType(dtype: DType): void {
  defaultDType = dtype;
}

function flatten(values: NestedArray, shape: number[], out: number[], depth: number): void {
  if (typeof values === 'number') {
    if (depth !== shape.length && shape.length > 0) throw new ShapeError(`tensor: ragged nested array at depth ${depth}`);
    out.push(values);
    return;
  }
  if (depth === shape.length) shape.push(values.length);
  else if (shape[depth] !== values.length) throw new ShapeError(`tensor: ragged nested array: length ${values.length} at depth ${depth}, expected ${shape[depth]}`);
  for (const v of values) flatten(v, shape, out, depth + 1);
}

/**
 * Creates a tensor from numbers: nested arrays, or a flat array/typed array with a shape.
 * @example
 * const x = tensor([[1, 2], [3, 4]]);          // float64, shape [2, 2]
 * const y = tensor(new Float32Array(6), [2, 3]); // float32 taken from the array
 */
export function tensor(values: NestedArray | ArrayLike<number>, shape?: Shape, dtype?: DType): ConcreteTensor {
  let flat: ArrayLike<number>;
  let inferred: number[];
  // nested arrays are flattened (their shape checked against `shape` when one is given too)
  if (typeof values === 'number' || (Array.isArray(values) && (shape === undefined || values.some(Array.isArray)))) {
    const out: number[] = [];
    inferred = [];
    flatten(values as NestedArray, inferred, out, 0);
    flat = out;
    if (shape !== undefined && Array.isArray(values) && values.some(Array.isArray) && !sameShape(inferred, shape)) {
      throw new ShapeError(`tensor: nested array has shape ${fmtShape(inferred)}, not the ${fmtShape(shape)} asked for`);
    }
  } else {
    flat = values as ArrayLike<number>;
    inferred = [flat.length];
  }
  const finalShape = shape ?? inferred;
  checkShape('tensor', finalShape);
  if (sizeOf(finalShape) !== flat.length) {
    throw new ShapeError(`tensor: ${flat.length} values do not fill shape ${fmtShape(finalShape)} (${sizeOf(finalShape)} elements)`);
  }
  const dt = dtype ?? (flat instanceof Float32Array ? 'float32' : flat instanceof Float64Array ? 'float64' : defaultDType);
  const backend = getBackend();
  return new ConcreteTensor(backend.fromArray(flat, finalShape, dt), backend);
}

/** A tensor of the given shape filled with `value`. */
export function full(shape: Shape, value: number, dtype: DType = defaultDType): ConcreteTensor {
  checkShape('full', shape);
  const backend = getBackend();
  return new ConcreteTensor(backend.fill(shape, dtype, value), backend);
}
/** @example zeros([2, 3]) */
export function zeros(shape: Shape, dtype: DType = defaultDType): ConcreteTensor {
  return full(shape, 0, dtype);
}
/** @example ones([3]) */
export function ones(shape: Shape, dtype: DType = defaultDType): ConcreteTensor {
  return full(shape, 1, dtype);
}
/** A rank-0 tensor. @example scalar(2.5) */
export function scalar(value: number, dtype: DType = defaultDType): ConcreteTensor {
  return full([], value, dtype);
}
export function zerosLike(x: Tensor): ConcreteTensor {
  return full(x.shape, 0, x.dtype);
}
export function onesLike(x: Tensor): ConcreteTensor {
  return full(x.shape, 1, x.dtype);
}
/** 0, 1, ..., n-1. @example arange(4) */
export function arange(n: number, dtype: DType = defaultDType): ConcreteTensor {
  if (!Number.isInteger(n) || n < 0) throw new ValueError(`arange: n must be a non-negative integer, got ${n}`);
  const v = allocate(dtype, n);
  for (let i = 0; i < n; i++) v[i] = i;
  return tensor(v, [n], dtype);
}
