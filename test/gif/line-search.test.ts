/** The step search's line evaluation against a fresh forward pass at each point of the line. */
import { describe, expect, it } from 'vitest';
import { Rng, fromVector, toVector } from '../../engine/index.js';
import { Conv2d, Flatten, Linear, ReLU, Sequential, Tanh, mlp, predict, smallCnn, type Params } from '../../nn/index.js';
import { lineSearch } from '../../influence/gif/line-search.js';
import { relativeMaxError } from './dense.js';

function pointOnLine(params: Params, d: Float64Array, length: number): Params {
  const theta = toVector(params);
  const nd = Math.hypot(...d);
  return fromVector(theta.map((v, i) => v + (length * d[i]!) / nd), params);
}

describe('lineSearch', () => {
  const cases: [string, () => Sequential, number[]][] = [
    ['MLP', () => mlp([12, 7, 4], 'tanh'), [11, 12]],
    ['ReLU MLP with three layers', () => mlp([12, 9, 6, 4], 'relu'), [5, 12]],
    ['CNN (conv first, then pooling)', () => smallCnn(3), [5, 1, 28, 28]],
    ['parameter-free layer first (Flatten, then Linear)', () => new Sequential([new Flatten(), new Linear(12, 5), new Tanh(), new Linear(5, 3)]), [6, 3, 4]],
    ['a changed channel through Flatten into a Linear', () => new Sequential([new Conv2d(2, 6, 3), new ReLU(), new Flatten(), new Linear(6 * 16, 3)]), [4, 2, 6, 6]],
  ];
  // in one chunk per input, and in chunks of 2 (inputs of 5–11 samples and of 3: uneven last chunks)
  const chunked = cases.flatMap(([name, make, shape]) => [[name, make, shape, undefined], [`${name}, chunks of 2`, make, shape, 2]] as const);
  it.each(chunked)('%s: outputs and predictions at every step equal a fresh forward pass, for dense and selection-like edits', (_name, make, shape, batchSize) => {
    const rng = new Rng(4);
    const net = make();
    const params = net.init(rng, 'float64');
    const inputs = [rng.normalTensor(shape), rng.normalTensor([3, ...shape.slice(1)])];
    const P = toVector(params).length;
    const [slot] = net.parameterLayout();
    // dense: every unit moves; selection-like: two units of the first layer (a weight and a bias)
    // and entries of later layers; later-only: the first layer stays put
    const dense = Float64Array.from({ length: P }, () => rng.normal());
    const selection = new Float64Array(P);
    selection[slot!.weightOffset + 1 * slot!.fanIn + 2] = rng.normal();
    selection[slot!.biasOffset + 3] = rng.normal();
    for (let k = 0; k < 6; k++) selection[slot!.offset + slot!.size + ((k * 7919) % (P - slot!.size))] = rng.normal();
    const laterOnly = Float64Array.from(selection, (v, i) => (i < slot!.offset + slot!.size ? 0 : v));
    const search = lineSearch(net, params, inputs, { batchSize });
    for (const [d, moved] of [[dense, slot!.units], [selection, 2], [laterOnly, 0]] as const) {
      const line = search.along(d);
      expect(line.movedUnits).toBe(moved);
      for (const length of [0, 0.3, 2.5]) {
        const at = pointOnLine(params, d, length);
        line.outputs(length).forEach((out, k) => {
          expect(relativeMaxError(out.toArray(), net.apply(at, inputs[k]!).toArray())).toBeLessThan(1e-12);
        });
        expect(line.predictions(length).map((p) => Array.from(p))).toEqual(inputs.map((x) => Array.from(predict(net, at, x))));
      }
    }
  });

  it('rejects a direction of the wrong length and a non-finite step, naming them', () => {
    const net = mlp([4, 3, 2], 'tanh');
    const params = net.init(new Rng(0), 'float64');
    const search = lineSearch(net, params, [new Rng(1).normalTensor([2, 4])]);
    expect(() => search.along(new Float64Array(5))).toThrow(/direction has 5 entries, θ\* 23/);
    expect(() => search.along(new Float64Array(23)).outputs(Number.NaN)).toThrow(/step length must be finite/);
    expect(() => lineSearch(net, params, [new Rng(1).normalTensor([2, 4])], { batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
    expect(() => lineSearch(net, params, [new Rng(1).normalTensor([2, 4]), new Rng(1).normalTensor([0, 4])])).toThrow(/input 1 has no samples/);
  });
});
