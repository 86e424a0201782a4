/** The two floating-point dtypes the engine computes in. */
export type DType = 'float32' | 'float64';

/** The typed array that stores a dtype. */
export type TypedArray = Float32Array | Float64Array;

/** Allocates a zero-filled typed array of `dtype`. */
export function allocate(dtype: DType, size: number): TypedArray {
  return dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
}

/** Machine epsilon of a dtype: the spacing of floats near 1. */
export function epsilon(dtype: DType): number {
  return dtype === 'float64' ? 2 ** -52 : 2 ** -23;
}
