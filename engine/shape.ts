/** Shapes: sizes, row-major strides, NumPy broadcasting and axis normalisation, shared by every op's argument checks. */
import { ShapeError, ValueError, fmtShape } from './errors.js';

/** A tensor's shape: one non-negative integer per axis; `[]` is a scalar. */
export type Shape = readonly number[];

/** Number of elements of a shape. */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C order) strides of a shape. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Checks that `shape` is a list of non-negative integers. */
export function checkShape(op: string, shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`${op}: invalid shape ${fmtShape(shape)}: dimensions must be non-negative integers`);
  }
}

/** NumPy broadcasting: align trailing axes; each pair must be equal or contain a 1. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast (axis ${i - n}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Resolves possibly negative axes against a rank; throws on out-of-range or repeated axes. */
export function normalizeAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out: number[] = [];
  for (const a of list) {
    if (!Number.isInteger(a) || a < -rank || a >= Math.max(rank, 1) || (rank === 0)) {
      throw new ValueError(`${op}: axis ${a} is out of range for a tensor of rank ${rank}`);
    }
    const r = a < 0 ? a + rank : a;
    if (out.includes(r)) throw new ValueError(`${op}: axis ${a} is repeated`);
    out.push(r);
  }
  return out.sort((x, y) => x - y);
}

/** The shape after reducing `axes`, keeping them as size 1 when `keepdims`. */
export function reducedShape(shape: Shape, axes: readonly number[], keepdims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}
