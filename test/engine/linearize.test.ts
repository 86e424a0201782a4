import { describe, expect, it } from 'vitest';
import {
  DTypeError, ShapeError, TransformError, add, exp, grad, hvp, jvp, linearize, matmul, mul, pow, sum, tanh, tensor, toVector,
  type Tensor,
} from '../../engine/index.js';
import { bind, definePrimitive } from '../../engine/trace.js';

const values = (t: Tensor): number[] => Array.from(t.toArray());

describe('linearize', () => {
  it('returns f(x) and the JVP at x as a reusable function (the TSDoc example)', () => {
    const [value, hvpAt] = linearize(grad((x: Tensor) => sum(pow(x, 3))), tensor([1, 2]));
    expect(values(value)).toEqual([3, 12]);
    expect(values(hvpAt(tensor([1, 0])))).toEqual([6, 0]);
    expect(values(hvpAt(tensor([0, 1])))).toEqual([0, 12]);
  });

  it('replays only the tangent half: primal ops run once, however many tangents follow', () => {
    let calls = 0;
    // an identity primitive that counts its kernel runs, with linear rules
    const counted = definePrimitive({
      name: 'counted',
      impl: (backend, [x]) => { calls++; return x!; },
      jvp: ([t]) => t ?? null,
      vjp: (ct) => [ct],
    });
    const f = (x: Tensor) => mul(tanh(bind(counted, [tensor([1, 2, 3])], undefined)), x);
    const [, at] = linearize(f, tensor([0.5, -1, 2]));
    const afterLinearize = calls;
    expect(afterLinearize).toBe(1);
    for (let k = 0; k < 5; k++) at(tensor([k, 1, -k]));
    expect(calls).toBe(afterLinearize); // the constant branch is never recomputed
    expect(values(at(tensor([1, 1, 1])))).toEqual(values(jvp(f, tensor([0.5, -1, 2]), tensor([1, 1, 1]))[1]));
  });

  it('works on trees and matches jvp on a small network, for several tangents', () => {
    const x = tensor([[0.3, -1.2], [0.7, 0.1], [-0.4, 2]]);
    const params = { w: tensor([[0.5, -0.2, 1], [0.1, 0.8, -0.6]]), b: tensor([0.1, 0, -0.1]) };
    const loss = (p: typeof params) => sum(pow(tanh(add(matmul(x, p.w), p.b)), 2));
    const [, at] = linearize(grad(loss), params);
    for (const seed of [1, 2, 3]) {
      const v = { w: tensor([[seed, -1, 0.5], [0.2, seed / 3, -2]]), b: tensor([1, -seed, 0.25]) };
      expect(toVector(at(v))).toEqual(toVector(hvp(loss, params, v)));
    }
  });

  it('gives zero tangents for outputs the input does not reach', () => {
    const [y, at] = linearize((x: Tensor) => [mul(x, 2), exp(tensor([0, 1]))], tensor([1, 2]));
    expect(values(y[1]!)).toEqual([1, Math.E]);
    const [d0, d1] = at(tensor([3, 4]));
    expect(values(d0!)).toEqual([6, 8]);
    expect(values(d1!)).toEqual([0, 0]);
  });

  it('is linear and composes with other transforms: jvp of the linear map is the map itself', () => {
    const [, at] = linearize<Tensor, Tensor>((x) => mul(exp(x), x), tensor([0.2, -0.5]));
    const [, dAt] = jvp((t: Tensor) => at(t), tensor([1, 1]), tensor([2, -3]));
    expect(values(dAt)).toEqual(values(at(tensor([2, -3]))));
  });

  it('rejects tangents of the wrong shape, dtype or structure, naming which', () => {
    const [, at] = linearize((p: [Tensor, Tensor]) => mul(p[0], p[1]), [tensor([1, 2]), tensor([3, 4])]);
    expect(() => at([tensor([1, 2]), tensor([1, 2, 3])])).toThrow(ShapeError);
    expect(() => at([tensor([1, 2]), tensor([1, 2, 3])])).toThrow(/linearize: tangents\[1\] has shape \[3\] where the primal has \[2\]/);
    expect(() => at([tensor([1, 2]), tensor([1, 2], [2], 'float32')])).toThrow(DTypeError);
    expect(() => at([tensor([1, 2])] as unknown as [Tensor, Tensor])).toThrow(/linearize: tangents is an array of 1 where the primal has an array of 2/);
  });

  it('refuses to read a tangent while linearizing, instead of returning a placeholder', () => {
    const peek = definePrimitive({
      name: 'peek',
      impl: (_backend, [x]) => x!,
      jvp: ([t]) => { if (t) t.toArray(); return t ?? null; },
      vjp: (ct) => [ct],
    });
    expect(() => linearize((x: Tensor) => bind(peek, [x], undefined), tensor([1]))).toThrow(TransformError);
    expect(() => linearize((x: Tensor) => bind(peek, [x], undefined), tensor([1]))).toThrow(/tangent was read/);
  });
});
