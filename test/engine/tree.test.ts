/**
 * Trees that go together (a primal and its tangent, parameters and gradients) are matched by key
 * and index in every transform: key order never changes a result, and another structure, other
 * keys or other shapes are typed errors that name the path.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DTypeError, ShapeError, TreeError, add, hvp, hvpReverse, jvp, leavesLike, linearize, grad, mul, sum, tensor, zipTree,
  flattenTree, zeros, type Tensor, type Tree,
} from '../../engine/index.js';
import { Sgd } from '../../nn/index.js';

const values = (t: Tensor): number[] => Array.from(t.toArray());
const flat = (t: Tree): number[] => flattenTree(t).leaves.flatMap(values);

type AB = { a: Tensor; b: Tensor };
// f(a, b) = Σa² · Σb: mixes the two leaves, so a tangent read from the wrong leaf shows
const f = (p: AB): Tensor => mul(sum(mul(p.a, p.a)), sum(p.b));
const p: AB = { a: tensor([1, 2, 3]), b: tensor([4, 5, 6]) };
const e0 = tensor([1, 0, 0]);
const zero = tensor([0, 0, 0]);

describe('trees are matched by key', () => {
  it('the tangent {b, a} gives the HVP of {a, b}, in hvp, hvpReverse and linearize', () => {
    // H·v for v = (e0, 0): ∂²f/∂a² e0 = 2Σb e0 = [30, 0, 0]; ∂²f/∂b∂a e0 = 2a₀ = [2, 2, 2]
    const expected = [30, 0, 0, 2, 2, 2];
    const inOrder: AB = { a: e0, b: zero };
    const swapped = { b: zero, a: e0 } as unknown as AB;
    expect(flat(hvp(f, p, inOrder))).toEqual(expected);
    expect(flat(hvp(f, p, swapped))).toEqual(expected);
    expect(flat(hvpReverse(f, p, swapped))).toEqual(expected);
    const [, hvpAt] = linearize(grad(f), p);
    expect(flat(hvpAt(swapped))).toEqual(expected);
    expect(flat(jvp(f, p, swapped)[1])).toEqual([2 * 15]);
  });

  it('a primal written {b, a} keeps its own order for the output', () => {
    const q = { b: p.b, a: p.a } as unknown as AB;
    const out = hvp(f, q, { a: e0, b: zero });
    expect(Object.keys(out)).toEqual(['b', 'a']);
    expect(flat(out)).toEqual([2, 2, 2, 30, 0, 0]);
  });

  it('renamed or missing keys, an array for an object and extra leaves are TreeErrors naming the path', () => {
    const bad: [unknown, RegExp][] = [
      [{ a: e0, c: zero }, /jvp: tangents lacks key b and has unknown key c/],
      [{ a: e0 }, /jvp: tangents lacks key b/],
      [[e0, zero], /jvp: tangents is an array of 2 where the primal has an object/],
      [{ a: e0, b: [zero] }, /jvp: tangents\.b is an array of 1 where the primal has a tensor of shape \[3\]/],
      [{ a: e0, b: zero, c: zero }, /has unknown key c/],
      [{ a: e0, b: 3 }, /tangents\.b is number 3/],
    ];
    for (const [v, message] of bad) {
      expect(() => jvp(f, p, v as AB)).toThrow(TreeError);
      expect(() => jvp(f, p, v as AB)).toThrow(message);
    }
    const [, hvpAt] = linearize(grad(f), p);
    expect(() => hvpAt({ a: e0, c: zero } as unknown as AB)).toThrow(/linearize: tangents lacks key b/);
  });

  it('a leaf of another shape or dtype names its path', () => {
    const nested = { layers: [{ w: zeros([2, 3]), b: zeros([3]) }] };
    const g = (q: typeof nested): Tensor => sum(add(q.layers[0]!.w, q.layers[0]!.b));
    const v = { layers: [{ w: zeros([2, 3]), b: zeros([2]) }] };
    expect(() => hvp(g, nested, v)).toThrow(ShapeError);
    expect(() => hvp(g, nested, v)).toThrow('jvp: tangents.layers[0].b has shape [2] where the primal has [3]');
    const v32 = { layers: [{ w: zeros([2, 3], 'float32'), b: zeros([3]) }] };
    expect(() => jvp(g, nested, v32)).toThrow(DTypeError);
    expect(() => jvp(g, nested, v32)).toThrow('jvp: tangents.layers[0].w is float32 where the primal is float64');
  });

  it('zipTree and the optimizers match by key too', () => {
    const sumOf = zipTree(p, { b: tensor([1, 1, 1]), a: tensor([0, 0, 0]) } as unknown as AB, add);
    expect(flat(sumOf)).toEqual([1, 2, 3, 5, 6, 7]);
    expect(() => zipTree(p, { a: e0 } as unknown as AB, add)).toThrow(/zipTree: b lacks key b/);
    const stepped = new Sgd({ lr: 1 }).step(p, { b: zero, a: e0 } as unknown as AB);
    expect(flat(stepped)).toEqual([0, 2, 3, 4, 5, 6]);
    expect(() => new Sgd({ lr: 1 }).step(p, { a: e0, b: tensor([1]) })).toThrow('Sgd: grads.b has shape [1] where the parameter tree has [3]');
  });

  it('a leaf that is not a tensor, or an object that is not plain, is refused in the primal too', () => {
    expect(() => flattenTree({ a: new Map() } as unknown as Tree)).toThrow(/the leaf at \.a is a Map/);
    expect(() => flattenTree([tensor([1]), null] as unknown as Tree)).toThrow(/the leaf at \[1\] is null/);
  });

  it('property: any key order of the tangent gives the same HVP bit for bit', () => {
    const keys = ['w', 'b', 'u', 'v'];
    fc.assert(fc.property(
      fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 8, maxLength: 8 }),
      fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 8, maxLength: 8 }),
      fc.shuffledSubarray(keys, { minLength: 4, maxLength: 4 }),
      (xs, vs, order) => {
        const primal = Object.fromEntries(keys.map((k, i) => [k, tensor(xs.slice(2 * i, 2 * i + 2))]));
        const tangent = Object.fromEntries(keys.map((k, i) => [k, tensor(vs.slice(2 * i, 2 * i + 2))]));
        const shuffled = Object.fromEntries(order.map((k) => [k, tangent[k]!]));
        // couples every leaf with every other: Σ_k (Σ x_k)² · Π-free mix
        const loss = (q: Record<string, Tensor>): Tensor => {
          const total = keys.map((k) => sum(q[k]!)).reduce((s, t) => add(s, t));
          return sum(mul(mul(total, total), keys.map((k, i) => mul(sum(mul(q[k]!, q[k]!)), i + 1)).reduce((s, t) => add(s, t))));
        };
        expect(flat(hvp(loss, primal, shuffled))).toEqual(flat(hvp(loss, primal, tangent)));
      },
    ), { numRuns: 40 });
  });

  it('leavesLike returns the other tree\'s leaves in the first tree\'s order', () => {
    const got = leavesLike(p, { b: zero, a: e0 }, 'test', 'v');
    expect(got.map(values)).toEqual([[1, 0, 0], [0, 0, 0]]);
  });
});
