import { describe, expect, it } from 'vitest';
import { ShapeError, fromVector, tensor, toVector, treeSize, type Tensor } from '../../engine/index.js';

type Params = { layers: [{ weight: Tensor; bias: Tensor }, Record<string, never>]; scale: Tensor };

describe('flat parameter vectors', () => {
  const tree = (dtype: 'float32' | 'float64'): Params => ({
    layers: [{ weight: tensor([[1, 2, 3], [4, 5, 6]], [2, 3], dtype), bias: tensor([7, 8], [2], dtype) }, {}],
    scale: tensor([9], [], dtype),
  });

  it.each(['float32', 'float64'] as const)('round-trips a %s tree in flattening order, keeping shapes and dtypes', (dtype) => {
    const t = tree(dtype);
    const v = toVector(t);
    expect(Array.from(v)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(treeSize(t)).toBe(9);
    const back = fromVector(v.map((x) => x * 10), t) ;
    const w = back.layers[0].weight;
    expect(w.shape).toEqual([2, 3]);
    expect(w.dtype).toBe(dtype);
    expect(w.toNested()).toEqual([[10, 20, 30], [40, 50, 60]]);
    expect(back.scale.shape).toEqual([]);
    expect(back.scale.item()).toBe(90);
  });

  it('accepts plain arrays, and tensors do not alias the source vector', () => {
    const t = tree('float64');
    const fromArray = fromVector([1, 1, 1, 1, 1, 1, 2, 2, 3], t) ;
    expect(Array.from(toVector(fromArray))).toEqual([1, 1, 1, 1, 1, 1, 2, 2, 3]);
    const v = Float64Array.from({ length: 9 }, (_, i) => i);
    const back = fromVector(v, t);
    v.fill(-1);
    expect(Array.from(toVector(back))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('rejects a vector of the wrong length, naming both sizes', () => {
    expect(() => fromVector(new Float64Array(8), tree('float64'))).toThrow(ShapeError);
    expect(() => fromVector(new Float64Array(8), tree('float64'))).toThrow(/8 entries, the tree 9/);
  });
});
