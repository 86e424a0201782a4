import { describe, expect, it } from 'vitest';
import {
  add, exp, grad, hvp, hvpReverse, jvp, mul, pow, sum, tensor, vjp, scalar, TransformError, type Tensor,
} from '../../engine/index.js';

const values = (t: Tensor): number[] => Array.from(t.toArray());

describe('transforms', () => {
  it('grad, jvp and vjp of x³ match the closed forms', () => {
    const f = (x: Tensor) => sum(pow(x, 3));
    expect(values(grad(f)(tensor([1, 2])))).toEqual([3, 12]);
    const [y, dy] = jvp((x: Tensor) => pow(x, 3), tensor([2]), tensor([1]));
    expect(values(y)).toEqual([8]);
    expect(values(dy)).toEqual([12]);
    const [, pullback] = vjp((x: Tensor) => pow(x, 3), tensor([1, 2]));
    expect(values(pullback(tensor([1, 1])))).toEqual([3, 12]);
  });

  it('forward-over-reverse and reverse-over-reverse HVPs agree with 6x·v', () => {
    const f = (x: Tensor) => sum(pow(x, 3));
    expect(values(hvp(f, tensor([1, 2]), tensor([1, 1])))).toEqual([6, 12]);
    expect(values(hvpReverse(f, tensor([1, 2]), tensor([1, 1])))).toEqual([6, 12]);
  });

  it('third derivatives by nesting grad three times: (e^{2x})‴ = 8e^{2x}', () => {
    const h = (x: Tensor) => sum(exp(mul(x, 2)));
    const d3 = grad((x: Tensor) => sum(grad((y: Tensor) => sum(grad(h)(y)))(x)));
    expect(d3(tensor([0.5])).item()).toBeCloseTo(8 * Math.E, 10);
  });

  it('does not confuse perturbations: d/dx [x · d/dy (x + y)] = 1', () => {
    const inner = (x: Tensor) => grad((y: Tensor) => add(x, y))(scalar(1));
    expect(grad((x: Tensor) => mul(x, inner(x)))(scalar(2)).item()).toBe(1);
  });

  it('rejects grad of a non-scalar output with a typed error', () => {
    expect(() => grad((x: Tensor) => mul(x, 2))(tensor([1, 2]))).toThrow(TransformError);
    expect(() => grad((x: Tensor) => mul(x, 2))(tensor([1, 2]))).toThrow(/scalar.*\[2\]/);
  });
});
