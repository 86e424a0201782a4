import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  Rng, ShapeError, ValueError, grad, mul, sum, tensor, toVector, flattenTree, type Tensor,
} from '../../engine/index.js';
import {
  AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, Sigmoid, Softplus, Tanh,
  logisticRegression, mlp, smallCnn, type Layer, type LayerParams, type Params,
} from '../../nn/index.js';
import { checkGradientAlongDirections, expectAllClose, finiteDifferenceGradient } from './fd.js';

const values = (t: Tensor): number[] => Array.from(t.toArray());

/** A direct six-loop convolution: the oracle for Conv2d. */
function naiveConv(x: Float64Array, xs: number[], w: Float64Array, ws: number[], b: Float64Array, stride: number, pad: number): { out: number[]; shape: number[] } {
  const [n, c, h, wd] = xs as [number, number, number, number];
  const [o, , k] = ws as [number, number, number, number];
  const oh = Math.floor((h + 2 * pad - k) / stride) + 1, ow = Math.floor((wd + 2 * pad - k) / stride) + 1;
  const out: number[] = [];
  for (let s = 0; s < n; s++) for (let f = 0; f < o; f++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    let acc = b[f]!;
    for (let ch = 0; ch < c; ch++) for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) {
      const r = i * stride + u - pad, col = j * stride + v - pad;
      if (r < 0 || r >= h || col < 0 || col >= wd) continue;
      acc += x[((s * c + ch) * h + r) * wd + col]! * w[((f * c + ch) * k + u) * k + v]!;
    }
    out.push(acc);
  }
  return { out, shape: [n, o, oh, ow] };
}

describe('layers: values against hand computation', () => {
  it('Linear computes x·Wᵀ + b with PyTorch layout W [out, in]', () => {
    const fc1 = new Linear(2, 3);
    const p = { weight: tensor([[1, 2], [3, 4], [5, 6]]), bias: tensor([1, 0, -1]) };
    const y = fc1.apply(p, tensor([[1, 1], [2, 0]]));
    expect(y.shape).toEqual([2, 3]);
    expect(values(y)).toEqual([4, 7, 10, 3, 6, 9]);
  });

  it('Conv2d: a 2×2 identity-diagonal kernel, then stride 2 with padding 1', () => {
    const x = tensor(Array.from({ length: 9 }, (_, i) => i + 1), [1, 1, 3, 3]);
    const p = { weight: tensor([1, 0, 0, 1], [1, 1, 2, 2]), bias: tensor([0.5]) };
    expect(values(new Conv2d(1, 1, 2).apply(p, x))).toEqual([6.5, 8.5, 12.5, 14.5]);
    const strided = new Conv2d(1, 1, 2, 2, 1).apply(p, x);
    expect(strided.shape).toEqual([1, 1, 2, 2]);
    expect(values(strided)).toEqual([1.5, 3.5, 7.5, 14.5]);
  });

  it('Conv2d matches a direct loop on random multi-channel inputs (stride, padding)', () => {
    const rng = new Rng(3);
    for (const [stride, pad] of [[1, 0], [2, 1], [1, 2]] as const) {
      const conv = new Conv2d(3, 4, 3, stride, pad);
      const p = conv.init(rng, 'float64');
      const x = rng.normalTensor([2, 3, 6, 5]);
      const want = naiveConv(x.toArray() as Float64Array, [2, 3, 6, 5], p.weight.toArray() as Float64Array, [4, 3, 3, 3], p.bias.toArray() as Float64Array, stride, pad);
      const y = conv.apply(p, x);
      expect(y.shape).toEqual(want.shape);
      expectAllClose(y.toArray(), want.out, 1e-12);
    }
  });

  it('MaxPool2d and AvgPool2d on a 4×4 ramp; Flatten keeps row-major order', () => {
    const x = tensor(Array.from({ length: 16 }, (_, i) => i + 1), [1, 1, 4, 4]);
    expect(values(new MaxPool2d(2).apply({}, x))).toEqual([6, 8, 14, 16]);
    expect(values(new AvgPool2d(2).apply({}, x))).toEqual([3.5, 5.5, 11.5, 13.5]);
    expect(values(new MaxPool2d(3, 1).apply({}, x))).toEqual([11, 12, 15, 16]);
    const y = new Flatten().apply({}, tensor(Array.from({ length: 24 }, (_, i) => i), [2, 3, 2, 2]));
    expect(y.shape).toEqual([2, 12]);
    expect(values(y)).toEqual(Array.from({ length: 24 }, (_, i) => i));
  });

  it('activations match their formulas', () => {
    const pts = [-3, -0.5, 0.25, 2];
    const x = tensor(pts);
    expectAllClose(new ReLU().apply({}, x).toArray(), pts.map((v) => Math.max(v, 0)), 1e-15);
    expectAllClose(new Tanh().apply({}, x).toArray(), pts.map(Math.tanh), 1e-15);
    expectAllClose(new Sigmoid().apply({}, x).toArray(), pts.map((v) => 1 / (1 + Math.exp(-v))), 1e-15);
    expectAllClose(new Softplus().apply({}, x).toArray(), pts.map((v) => Math.log1p(Math.exp(v))), 1e-15);
  });

  it('wrong input shapes and wrong parameters are typed errors naming the layer', () => {
    const fc1 = new Linear(4, 2);
    const p = fc1.init(new Rng(0), 'float64');
    expect(() => fc1.apply(p, tensor([[1, 2, 3]]))).toThrow(/Linear\(4, 2\).*\[1, 3\]/);
    expect(() => fc1.apply({ weight: tensor([[1, 2]]), bias: p.bias }, tensor([[1, 2, 3, 4]]))).toThrow(ShapeError);
    expect(() => fc1.apply({}, tensor([[1, 2, 3, 4]]))).toThrow(ValueError);
    expect(() => new Conv2d(1, 2, 5).apply(new Conv2d(1, 2, 5).init(new Rng(0), 'float64'), tensor(new Float64Array(9), [1, 1, 3, 3]))).toThrow(ShapeError);
    expect(() => new MaxPool2d(2).apply({}, tensor([1, 2, 3, 4]))).toThrow(ShapeError);
    expect(() => new Linear(0, 2)).toThrow(ValueError);
    expect(() => new Conv2d(1, 1, 3, 0)).toThrow(ValueError);
  });
});

describe('layers: gradients against finite differences (float64)', () => {
  /** f(θ, x) = Σ layer(θ, x) ⊙ R for a fixed random R, differentiated in θ and in x, every coordinate. */
  const cases: [string, Layer, number[]][] = [
    ['Linear', new Linear(3, 4), [2, 3]],
    ['Conv2d', new Conv2d(2, 3, 3), [2, 2, 5, 4]],
    ['Conv2d stride 2 padding 1', new Conv2d(2, 2, 3, 2, 1), [1, 2, 5, 5]],
    ['MaxPool2d', new MaxPool2d(2), [2, 2, 4, 4]],
    ['AvgPool2d stride 1', new AvgPool2d(2, 1), [1, 2, 3, 3]],
    ['Flatten', new Flatten(), [2, 2, 3]],
    ['ReLU', new ReLU(), [3, 4]],
    ['Tanh', new Tanh(), [3, 4]],
    ['Sigmoid', new Sigmoid(), [3, 4]],
    ['Softplus', new Softplus(), [3, 4]],
  ];
  it.each(cases)('%s', (_name, layer, inputShape) => {
    const rng = new Rng(11);
    const params = layer.init(rng, 'float64');
    const x = rng.normalTensor(inputShape);
    const r = rng.normalTensor(layer.outputShape(inputShape));
    const fParams = (p: LayerParams): Tensor => sum(mul(layer.apply(p, x), r));
    const fInput = (z: Tensor): Tensor => sum(mul(layer.apply(params, z), r));
    if (flattenTree(params).leaves.length > 0) {
      expectAllClose(toVector(grad(fParams)(params)), finiteDifferenceGradient(fParams, params), 1e-7);
    }
    expectAllClose(toVector(grad(fInput)(x)), finiteDifferenceGradient(fInput, x), 1e-7);
  });

  it('property: Conv2d and pooling of random geometry, along random directions', () => {
    fc.assert(fc.property(
      fc.record({ c: fc.integer({ min: 1, max: 3 }), o: fc.integer({ min: 1, max: 3 }), k: fc.integer({ min: 1, max: 3 }), stride: fc.integer({ min: 1, max: 2 }), padding: fc.integer({ min: 0, max: 2 }), h: fc.integer({ min: 3, max: 6 }), w: fc.integer({ min: 3, max: 6 }), pool: fc.integer({ min: 1, max: 2 }), seed: fc.nat(1000) }),
      ({ c, o, k, stride, padding, h, w, pool, seed }) => {
        const rng = new Rng(seed);
        const net = new Sequential([new Conv2d(c, o, k, stride, padding), new Softplus(), pool === 1 ? new AvgPool2d(2, 1) : new MaxPool2d(2, 1), new Flatten()]);
        const inputShape = [2, c, h, w];
        let outShape: number[];
        try {
          outShape = net.outputShape(inputShape);
        } catch (e) {
          expect(e).toBeInstanceOf(ShapeError); // a window that does not fit is reported, not computed
          return;
        }
        const params = net.init(rng, 'float64');
        const x = rng.normalTensor(inputShape), r = rng.normalTensor(outShape);
        checkGradientAlongDirections((p: Params) => sum(mul(net.apply(p, x), r)), params, rng, 2, 1e-6, 1e-6);
        checkGradientAlongDirections((z: Tensor) => sum(mul(net.apply(params, z), r)), x, rng, 2, 1e-6, 1e-6);
      },
    ), { numRuns: 25 });
  });

  it('a whole smallCnn and a tanh MLP, along random directions', () => {
    const rng = new Rng(5);
    const cnn = smallCnn();
    const pc = cnn.init(rng, 'float64');
    const xc = rng.uniformTensor([2, 1, 28, 28]);
    const rc = rng.normalTensor([2, 10]);
    checkGradientAlongDirections((p: Params) => sum(mul(cnn.apply(p, xc), rc)), pc, rng, 3, 1e-6, 1e-6);
    const net = mlp([6, 5, 3], 'tanh');
    const pm = net.init(rng, 'float64');
    const xm = rng.normalTensor([4, 6]), rm = rng.normalTensor([4, 3]);
    const f = (p: Params) => sum(mul(net.apply(p, xm), rm));
    expectAllClose(toVector(grad(f)(pm)), finiteDifferenceGradient(f, pm), 1e-7);
  });
});

describe('Sequential', () => {
  it('parameters are per-layer trees in PyTorch state_dict order, and parameterLayout locates them in θ', () => {
    const net = smallCnn();
    const params = net.init(new Rng(0), 'float32');
    expect(params.map((p) => Object.keys(p))).toEqual([['weight', 'bias'], [], [], ['weight', 'bias'], [], [], [], ['weight', 'bias']]);
    expect(net.parameterNames()).toEqual(['0.weight', '0.bias', '3.weight', '3.bias', '7.weight', '7.bias']);
    const layout = net.parameterLayout();
    expect(layout.map((s) => [s.layer, s.kind, s.units, s.fanIn, s.offset, s.size])).toEqual([
      [0, 'conv2d', 8, 25, 0, 208],
      [3, 'conv2d', 16, 200, 208, 3216],
      [7, 'linear', 10, 256, 3424, 2570],
    ]);
    expect(net.parameterCount).toBe(5994);
    const theta = toVector(params);
    expect(theta.length).toBe(5994);
    for (const s of layout) {
      const p = params[s.layer] as { weight: Tensor; bias: Tensor };
      expect(Array.from(theta.subarray(s.weightOffset, s.biasOffset))).toEqual(Array.from(p.weight.toArray()));
      expect(Array.from(theta.subarray(s.biasOffset, s.offset + s.size))).toEqual(Array.from(p.bias.toArray()));
    }
  });

  it('PyTorch default init: U(±1/√fan_in), seeded, in the requested dtype', () => {
    const net = mlp([784, 128, 10]);
    const a = net.init(new Rng(7), 'float32'), b = net.init(new Rng(7), 'float32'), c = net.init(new Rng(8), 'float32');
    expect(toVector(a)).toEqual(toVector(b));
    expect(toVector(a)).not.toEqual(toVector(c));
    for (const s of net.parameterLayout()) {
      const p = a[s.layer] as { weight: Tensor; bias: Tensor };
      expect(p.weight.dtype).toBe('float32');
      const bound = 1 / Math.sqrt(s.fanIn);
      const w = p.weight.toArray();
      expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.95 * bound); // the whole range is used
      expect(Math.max(...p.bias.toArray().map(Math.abs))).toBeLessThanOrEqual(bound);
    }
  });

  it('applyWithOutputs returns every layer output (pre-activations for Linear) and the output', () => {
    const net = mlp([3, 4, 2], 'tanh');
    const rng = new Rng(1);
    const params = net.init(rng, 'float64');
    const x = rng.normalTensor([5, 3]);
    const { output, layerOutputs } = net.applyWithOutputs(params, x);
    expect(layerOutputs.map((t) => t.shape)).toEqual([[5, 4], [5, 4], [5, 2]]);
    expectAllClose(layerOutputs[1]!.toArray(), Array.from(layerOutputs[0]!.toArray(), Math.tanh), 1e-15);
    expect(values(output)).toEqual(values(net.apply(params, x)));
    expect(values(layerOutputs[0]!)).toEqual(values(new Linear(3, 4).apply(params[0]!, x)));
  });

  it('toSpec / fromSpec round-trip through JSON; bad specs are ValueErrors', () => {
    for (const net of [mlp(), smallCnn(), logisticRegression(5, 3), new Sequential([new Conv2d(1, 2, 3, 2, 1), new AvgPool2d(2), new Flatten(), new Sigmoid(), new Softplus()])]) {
      const again = Sequential.fromSpec(JSON.parse(JSON.stringify(net.toSpec())));
      expect(again.toSpec()).toEqual(net.toSpec());
      expect(again.parameterLayout()).toEqual(net.parameterLayout());
    }
    expect(() => Sequential.fromSpec({ format: 'gift.sequential', version: 1, layers: [{ type: 'dense' }] })).toThrow(/unknown layer type "dense"/);
    expect(() => Sequential.fromSpec({ format: 'gift.sequential', version: 2, layers: [] })).toThrow(ValueError);
    expect(() => Sequential.fromSpec({ format: 'gift.sequential', version: 1, layers: [{ type: 'linear', inFeatures: 3 }] })).toThrow(/outFeatures/);
    expect(() => new Sequential([new Linear(3, 4), new Linear(5, 2)], { inputShape: [3] })).toThrow(/layer 1/);
  });

  it('property: layout offsets tile θ exactly for random MLPs', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 2, maxLength: 5 }), (sizes) => {
      const net = mlp(sizes, 'relu');
      const layout = net.parameterLayout();
      let at = 0;
      for (const s of layout) {
        expect(s.offset).toBe(at);
        expect(s.biasOffset - s.weightOffset).toBe(s.units * s.fanIn);
        at += s.size;
      }
      expect(at).toBe(toVector(net.init(new Rng(0), 'float64')).length);
    }), { numRuns: 30 });
  });

  it('checkParams rejects parameters of another architecture', () => {
    const net = mlp([4, 3, 2]);
    const other = mlp([4, 5, 2]).init(new Rng(0), 'float64');
    expect(() => net.checkParams(other)).toThrow(/0\.weight has shape \[5, 4\]/);
    expect(() => net.apply(other.slice(0, 2), tensor([[1, 2, 3, 4]]))).toThrow(ValueError);
    expect(() => net.apply(net.init(new Rng(0), 'float32'), tensor([[1, 2, 3, 4]]))).toThrow(/input is float64 but layer 0's parameters are float32/);
  });
});
