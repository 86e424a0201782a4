/**
 * Every typed error: the class, and a message that names the operation, the shapes and the
 * offending argument.
 */
import { describe, expect, it } from 'vitest';
import {
  add, broadcastTo, concat, conv2d, DTypeError, gather, GiftError, grad, hessian, jvp, log, logSoftmax, matmul,
  max, maxPool2d, mean, mul, ones, permute, poolArgmax, poolGather, poolScatter, pow, reshape, scatter, ShapeError, slice, sum, tensor, TransformError,
  ValueError, vjp, zeros, type Tensor,
} from '../../engine/index.js';

describe('typed errors', () => {
  it('mismatched shapes name the op and both shapes', () => {
    expect(() => add(ones([2, 3]), ones([4]))).toThrow(ShapeError);
    expect(() => add(ones([2, 3]), ones([4]))).toThrow(/add: shapes \[2, 3\] and \[4\] do not broadcast/);
    expect(() => matmul(ones([2, 3]), ones([4, 5]))).toThrow(/matmul: inner dimensions differ: \[2, 3\] × \[4, 5\]/);
    expect(() => matmul(ones([2, 3, 4]), ones([5, 4, 2]))).toThrow(ShapeError);
    expect(() => matmul(ones([3]), ones([3, 2]))).toThrow(/matmul: both operands need rank ≥ 2/);
    expect(() => reshape(ones([2, 3]), [4, 2])).toThrow(/reshape: cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\]/);
    expect(() => broadcastTo(ones([3]), [2, 4])).toThrow(/broadcastTo: cannot broadcast \[3\] to \[2, 4\]/);
    expect(() => concat([ones([2, 3]), ones([2, 4])], 0)).toThrow(/concat: tensor 1 has shape \[2, 4\]/);
    expect(() => conv2d(ones([1, 2, 5, 5]), ones([3, 1, 3, 3]))).toThrow(/conv2d: input has 2 channels/);
    expect(() => maxPool2d(ones([1, 1, 2, 2]), 3)).toThrow(/maxPool2d: a 3×3 window/);
    expect(() => tensor([[1, 2], [3]])).toThrow(ShapeError);
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/3 values do not fill shape \[2, 2\]/);
    expect(() => tensor([[1, 2], [3, 4]], [4, 1])).toThrow(/tensor: nested array has shape \[2, 2\], not the \[4, 1\] asked for/);
    expect(tensor([[1, 2], [3, 4]], [2, 2]).toNested()).toEqual([[1, 2], [3, 4]]);
  });

  it('mixed dtypes name the op, both dtypes and shapes', () => {
    const a = ones([2], 'float32'), b = ones([2], 'float64');
    expect(() => add(a, b)).toThrow(DTypeError);
    expect(() => mul(a, b)).toThrow(/mul: operands have different dtypes, float32 \[2\] and float64 \[2\]/);
    expect(() => matmul(ones([2, 2], 'float32'), ones([2, 2]))).toThrow(/matmul: operands have dtypes float32 \[2, 2\] and float64 \[2, 2\]/);
    expect(() => conv2d(ones([1, 1, 3, 3], 'float32'), ones([1, 1, 2, 2]))).toThrow(DTypeError);
    expect(() => concat([a, b])).toThrow(/concat: tensor 1 is float64, tensor 0 is float32/);
    expect(() => jvp((x: Tensor) => x, a, b)).toThrow(/jvp: tangents is float64 where the primal is float32/);
  });

  it('grad of a non-scalar output', () => {
    expect(() => grad((x: Tensor) => mul(x, 2))(ones([2, 3]))).toThrow(TransformError);
    expect(() => grad((x: Tensor) => mul(x, 2))(ones([2, 3]))).toThrow(/grad: the function must return a scalar, got shape \[2, 3\]/);
  });

  it('an axis out of range names the op, the axis and the rank', () => {
    expect(() => sum(ones([2, 3]), 2)).toThrow(ValueError);
    expect(() => sum(ones([2, 3]), 2)).toThrow(/sum: axis 2 is out of range for a tensor of rank 2/);
    expect(() => mean(ones([2, 3]), -3)).toThrow(/mean: axis -3 is out of range/);
    expect(() => max(ones([2]), [0, 0])).toThrow(/max: axis 0 is repeated/);
    expect(() => logSoftmax(ones([2, 3]), 5)).toThrow(ValueError);
    expect(() => sum(ones([2]), 0.5)).toThrow(ValueError);
    expect(() => permute(ones([2, 3]), [0, 0])).toThrow(/permute: \[0, 0\] is not a permutation/);
    expect(() => slice(ones([4]), [3], [2])).toThrow(/slice: window \[3, 5\) on axis 0 is outside \[4\]/);
  });

  it('pooling offsets of the wrong shape, dtype or value name the op and what was wrong', () => {
    const g = { kernelH: 2, kernelW: 2, stride: 2 };
    const x = ones([1, 1, 4, 4]);
    expect(() => poolArgmax(ones([4, 4]), g)).toThrow(/poolArgmax: expects an \[N, C, H, W\] input, got \[4, 4\]/);
    expect(() => poolGather(x, zeros([1, 1, 2, 3]), g)).toThrow(/poolGather: offsets have shape \[1, 1, 2, 3\], but a \[1, 1, 4, 4\] image has \[1, 1, 2, 2\] windows of 2×2 \(stride 2\)/);
    expect(() => poolGather(x, zeros([1, 1, 2, 2], 'float32'), g)).toThrow(DTypeError);
    expect(() => poolScatter(ones([1, 1, 2, 1]), zeros([1, 1, 2, 2]), x.shape, g)).toThrow(/poolScatter: values have shape \[1, 1, 2, 1\], offsets \[1, 1, 2, 2\]/);
    expect(() => poolScatter(ones([1, 1, 2, 2]), zeros([1, 1, 2, 2]), [1, 1, 1, 1], g)).toThrow(/poolScatter: a 2×2 window \(padding 0\) does not fit a 1×1 image/);
    // the values of the offsets are checked by the CPU kernels, where they are read anyway
    const at = tensor([0, 3, 4, 1], [1, 1, 2, 2]);
    expect(() => poolGather(x, at, g)).toThrow(ValueError);
    expect(() => poolGather(x, at, g)).toThrow(/poolGather: offset 2 \(flat\) is 4, not a window position in \[0, 4\) of a 2×2 window/);
    expect(() => poolScatter(ones([1, 1, 2, 2]), tensor([0, 0.5, 0, 0], [1, 1, 2, 2]), x.shape, g)).toThrow(/poolScatter: offset 1 \(flat\) is 0.5/);
  });

  it('a non-integer label', () => {
    expect(() => gather(ones([2, 3]), [0, 1.5])).toThrow(ValueError);
    expect(() => gather(ones([2, 3]), [0, 1.5])).toThrow(/gather: label 1 is 1.5, not an integer/);
    expect(() => scatter(ones([1]), [Number.NaN], 3)).toThrow(/scatter: label 0 is NaN, not an integer/);
  });

  it('a label out of range', () => {
    expect(() => gather(ones([2, 3]), [0, 3])).toThrow(/gather: label 1 is 3, outside \[0, 3\)/);
    expect(() => gather(ones([2, 3]), [-1, 0])).toThrow(ValueError);
    expect(() => gather(ones([2, 3]), [0])).toThrow(/gather: 1 labels for 2 rows/);
  });

  it('a tracer escaping its transform', () => {
    let leaked: Tensor | null = null;
    grad((x: Tensor) => { leaked = mul(x, 2); return sum(x); })(ones([2]));
    expect(() => add(leaked!, 1)).toThrow(TransformError);
    expect(() => add(leaked!, 1)).toThrow(/add: a value traced by a finished vjp transform was used outside it/);
    let leakedJvp: Tensor | null = null;
    jvp((x: Tensor) => { leakedJvp = log(x); return x; }, ones([1]), ones([1]));
    expect(() => mul(leakedJvp!, leakedJvp!)).toThrow(/finished jvp transform/);
  });

  it('transform arguments that do not fit', () => {
    expect(() => jvp((x: Tensor) => x, ones([2]), ones([3]))).toThrow(/jvp: tangents has shape \[3\] where the primal has \[2\]/);
    const [, pullback] = vjp((x: Tensor) => mul(x, 2), ones([2]));
    expect(() => pullback(ones([3]))).toThrow(/vjp: cotangent shape \[3\] differs from the output's \[2\]/);
    expect(() => pullback(ones([2], 'float32'))).toThrow(DTypeError);
    expect(() => pow(ones([2]), Infinity)).toThrow(/pow: exponent must be a finite number/);
    expect(() => hessian((x: Tensor) => sum(x), zeros([20001]))).toThrow(/hessian: 20001 parameters/);
  });

  it('every error is a GiftError with its class name', () => {
    try {
      add(ones([2]), ones([3]));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(GiftError);
      expect((e as Error).name).toBe('ShapeError');
    }
  });
});
