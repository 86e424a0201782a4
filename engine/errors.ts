/**
 * Typed errors. Every error names the operation, the shapes involved and the argument at fault,
 * so a message read out of context still says what went wrong and where.
 */

/** Base class of every error gift throws on purpose. */
export class GiftError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Shapes that do not fit the operation (broadcasting, matmul inner dims, reshape sizes, ...). */
export class ShapeError extends GiftError {}

/** Mixed or unsupported dtypes. */
export class DTypeError extends GiftError {}

/** An argument with a bad value: an axis out of range, a non-integer label, a negative size. */
export class ValueError extends GiftError {}

/** A transform used the wrong way: grad of a non-scalar, a tracer that escaped its transform. */
export class TransformError extends GiftError {}

/** Non-finite numbers where finite ones are required (NaN/Inf inputs, a diverging solver). */
export class NonFiniteError extends GiftError {}

/** Formats a shape the way messages print it: `[2, 3]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
