/**
 * Every primitive and composite op, on random shapes (broadcasting included) and values, on
 * every backend under test: grad and jvp against finite differences, hvp against finite
 * differences of gradients, forward-over-reverse against reverse-over-reverse, symmetry and
 * linearity of the HVP. See check.ts for the oracles.
 */
import { describe, it } from 'vitest';
import {
  abs, add, avgPool2d, broadcastTo, col2im, concat, conv2d, div, exp, gather, im2col, log, logSoftmax,
  logSumExp, matmul, max, maximum, maxPool2d, mean, minimum, mul, neg, pad, permute, poolGather, poolScatter, pow, relu, reshape,
  scatter, sigmoid, slice, softmax, softplus, sqrt, square, sub, sum, tanh, transpose, vdot,
  where, equal, greater, sign, Rng, tensor, type Tensor,
} from '../../engine/index.js';
import { convOutSize } from '../../engine/backend.js';
import { backendsUnderTest } from '../backends.js';
import { broadcastableTo, checkCase, randomShape, sampleArb, type Case, type Domain, type Sample } from './check.js';

const unary = (name: string, f: (x: Tensor) => Tensor, domain: Domain = 'real'): Case => ({
  name, nDiff: 1,
  sample: sampleArb((rng) => [randomShape(rng)], [domain]),
  op: ([x]) => f(x!),
});

/** Two operands whose shapes broadcast to a common one (either may be the smaller). */
const binary = (name: string, f: (a: Tensor, b: Tensor) => Tensor, domains: [Domain, Domain] = ['real', 'real']): Case => ({
  name, nDiff: 2,
  sample: sampleArb((rng) => {
    const out = randomShape(rng);
    const other = broadcastableTo(out, rng);
    return rng.uniform() < 0.5 ? [out, other] : [other, out];
  }, domains),
  op: ([a, b]) => f(a!, b!),
});

/** A shape with a random subset of axes; axes as a list. */
function randomAxes(rng: Rng, rank: number): number[] {
  return [...Array(rank).keys()].filter(() => rng.uniform() < 0.5);
}

const seeded = (s: Sample) => new Rng(s.seed ^ 0x2545f491);

const image = (rng: Rng, channels = 1 + rng.int(2)) => [1 + rng.int(2), channels, 3 + rng.int(3), 3 + rng.int(3)];

/** A pooling/convolution geometry that fits an h×w image. */
function geometry(rng: Rng, h: number, w: number) {
  for (;;) {
    const g = { kernelH: 1 + rng.int(3), kernelW: 1 + rng.int(3), stride: 1 + rng.int(2), padding: rng.int(2) };
    if (convOutSize(h, g.kernelH, g.stride, g.padding) >= 1 && convOutSize(w, g.kernelW, g.stride, g.padding) >= 1) return g;
  }
}

/** A pooling geometry (no padding) that fits an h×w image. */
function poolGeometry(rng: Rng, h: number, w: number) {
  const { kernelH, kernelW, stride } = geometry(rng, h, w);
  return { kernelH: Math.min(kernelH, h), kernelW: Math.min(kernelW, w), stride };
}

/** Random window positions, one per window: data for poolGather/poolScatter. */
function poolOffsets(rng: Rng, shape: readonly number[], g: { kernelH: number; kernelW: number }, dtype: Tensor['dtype']): Tensor {
  return tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.int(g.kernelH * g.kernelW)), shape, dtype);
}

/** The two operands differ by more than 0.01 everywhere, so no finite-difference step swaps them. */
function apart(s: Sample): boolean {
  const [a, b] = s.arrays.map((x, i) => tensor(x, s.shapes[i]!, 'float64'));
  return -max(neg(abs(sub(a!, b!)))).item() > 1e-2;
}

const cases: Case[] = [
  // elementwise, one input
  unary('neg', neg),
  unary('exp', exp),
  unary('log', log, 'positive'),
  unary('tanh', tanh),
  unary('sigmoid', sigmoid),
  unary('relu', relu, 'nonzero'),
  unary('softplus', softplus),
  unary('square', square),
  unary('sqrt', sqrt, 'positive'),
  unary('abs', abs, 'nonzero'),
  unary('pow 3', (x) => pow(x, 3)),
  unary('pow -1', (x) => pow(x, -1), 'positive'),
  unary('pow 1.5', (x) => pow(x, 1.5), 'positive'),
  unary('sign (zero derivative) times x', (x) => mul(sign(x), x), 'nonzero'),
  // elementwise, two inputs, broadcasting
  binary('add', add),
  binary('sub', sub),
  binary('mul', mul),
  binary('div', div, ['real', 'nonzero']),
  { ...binary('maximum', maximum), admissible: apart },
  { ...binary('minimum', minimum), admissible: apart },
  binary('equal/greater are flat', (a, b) => add(mul(greater(a, b), a), mul(equal(a, a), b))),
  {
    name: 'where (condition broadcast, constant)', nDiff: 2,
    sample: sampleArb((rng) => {
      const out = randomShape(rng);
      return [broadcastableTo(out, rng), broadcastableTo(out, rng), out.length === 0 ? [] : broadcastableTo(out, rng)];
    }, ['real', 'real', 'binary']),
    op: ([a, b], [c]) => where(c!, a!, b!),
  },
  // linear algebra
  {
    name: 'matmul 2-D', nDiff: 2,
    sample: sampleArb((rng) => {
      const [m, k, n] = [1 + rng.int(4), 1 + rng.int(5), 1 + rng.int(4)];
      return [[m, k], [k, n]];
    }, ['real', 'real']),
    op: ([a, b]) => matmul(a!, b!),
  },
  {
    name: 'matmul batched with broadcast batch axes', nDiff: 2,
    sample: sampleArb((rng) => {
      const [m, k, n] = [1 + rng.int(3), 1 + rng.int(4), 1 + rng.int(3)];
      const batch = randomShape(rng, 2, 3, 1);
      const other = broadcastableTo(batch, rng);
      return rng.uniform() < 0.5 ? [[...batch, m, k], [...other, k, n]] : [[...other, m, k], [...batch, k, n]];
    }, ['real', 'real']),
    op: ([a, b]) => matmul(a!, b!),
  },
  {
    name: 'matmul of transposed operands', nDiff: 2,
    sample: sampleArb((rng) => {
      const [m, k, n] = [1 + rng.int(4), 1 + rng.int(5), 1 + rng.int(4)];
      return [[k, m], [n, k]];
    }, ['real', 'real']),
    op: ([a, b]) => matmul(transpose(a!), transpose(b!)),
  },
  {
    name: 'vdot', nDiff: 2,
    sample: sampleArb((rng) => { const s = randomShape(rng); return [s, s]; }, ['real', 'real']),
    op: ([a, b]) => vdot(a!, b!),
  },
  // shape ops
  {
    name: 'permute', nDiff: 1,
    sample: sampleArb((rng) => [randomShape(rng, 4, 3, 1)], ['real']),
    op: ([x], _c, s) => permute(x!, Array.from(seeded(s).permutation(x!.rank))),
  },
  {
    name: 'reshape', nDiff: 1,
    sample: sampleArb((rng) => [randomShape(rng, 3, 4, 1)], ['real']),
    op: ([x]) => reshape(permute(x!, [...Array(x!.rank).keys()].reverse()), [-1, 1]),
  },
  {
    name: 'broadcastTo', nDiff: 1,
    sample: sampleArb((rng) => [broadcastableTo(randomShape(rng, 3, 3, 1), rng)], ['real']),
    op: ([x], _c, s) => {
      const rng = seeded(s);
      const lead = Array.from({ length: rng.int(2) }, () => 1 + rng.int(3));
      return broadcastTo(x!, [...lead, ...x!.shape.map((d) => (d === 1 ? 1 + rng.int(3) : d))]);
    },
  },
  {
    name: 'sum over axes (keepdims)', nDiff: 1,
    sample: sampleArb((rng) => [randomShape(rng, 3, 4, 1)], ['real']),
    op: ([x], _c, s) => { const rng = seeded(s); return sum(x!, randomAxes(rng, x!.rank), rng.uniform() < 0.5); },
  },
  {
    name: 'mean over axes', nDiff: 1,
    sample: sampleArb((rng) => [randomShape(rng, 3, 4, 1)], ['real']),
    op: ([x], _c, s) => { const rng = seeded(s); return mean(x!, randomAxes(rng, x!.rank), rng.uniform() < 0.5); },
  },
  {
    name: 'max over axes (no ties)', nDiff: 1,
    sample: sampleArb((rng) => [randomShape(rng, 3, 4, 1)], ['distinct']),
    op: ([x], _c, s) => { const rng = seeded(s); return max(x!, randomAxes(rng, x!.rank), rng.uniform() < 0.5); },
  },
  {
    name: 'logSumExp', nDiff: 1,
    sample: sampleArb((rng) => [randomShape(rng, 3, 4, 1)], ['real']),
    op: ([x], _c, s) => { const rng = seeded(s); return logSumExp(x!, rng.int(x!.rank), rng.uniform() < 0.5); },
  },
  {
    name: 'logSoftmax', nDiff: 1,
    sample: sampleArb((rng) => [randomShape(rng, 3, 4, 1)], ['real']),
    op: ([x], _c, s) => logSoftmax(x!, seeded(s).int(x!.rank)),
  },
  {
    name: 'softmax', nDiff: 1,
    sample: sampleArb((rng) => [randomShape(rng, 3, 4, 1)], ['real']),
    op: ([x], _c, s) => softmax(x!, seeded(s).int(x!.rank)),
  },
  {
    name: 'slice', nDiff: 1,
    sample: sampleArb((rng) => [randomShape(rng, 3, 5, 1)], ['real']),
    op: ([x], _c, s) => {
      const rng = seeded(s);
      const begin = x!.shape.map((d) => rng.int(d));
      return slice(x!, begin, x!.shape.map((d, i) => 1 + rng.int(d - begin[i]!)));
    },
  },
  {
    name: 'pad', nDiff: 1,
    sample: sampleArb((rng) => [randomShape(rng, 3, 3, 1)], ['real']),
    op: ([x], _c, s) => { const rng = seeded(s); return pad(x!, x!.shape.map(() => rng.int(3)), x!.shape.map(() => rng.int(3))); },
  },
  {
    name: 'concat', nDiff: 3,
    sample: sampleArb((rng) => {
      const base = randomShape(rng, 3, 3, 1);
      const axis = rng.int(base.length);
      return [0, 1, 2].map(() => base.map((d, i) => (i === axis ? 1 + rng.int(3) : d)));
    }, ['real', 'real', 'real']),
    op: (xs) => {
      const axis = xs[0]!.shape.findIndex((d, i) => xs.some((x) => x.shape[i] !== d));
      return concat(xs, axis < 0 ? 0 : axis);
    },
  },
  // labels
  {
    name: 'gather', nDiff: 1,
    sample: sampleArb((rng) => [[1 + rng.int(4), 1 + rng.int(4)]], ['real']),
    op: ([x], _c, s) => { const rng = seeded(s); return gather(x!, Array.from({ length: x!.shape[0]! }, () => rng.int(x!.shape[1]!))); },
  },
  {
    name: 'scatter', nDiff: 1,
    sample: sampleArb((rng) => [[1 + rng.int(4)]], ['real']),
    op: ([v], _c, s) => { const rng = seeded(s); const classes = 1 + rng.int(4); return scatter(v!, Array.from({ length: v!.shape[0]! }, () => rng.int(classes)), classes); },
  },
  // images
  {
    name: 'im2col', nDiff: 1,
    sample: sampleArb((rng) => [image(rng)], ['real']),
    op: ([x], _c, s) => im2col(x!, geometry(seeded(s), x!.shape[2]!, x!.shape[3]!)),
  },
  {
    name: 'col2im', nDiff: 1,
    sample: sampleArb((rng) => {
      const img = image(rng);
      const g = geometry(new Rng(img.reduce((a, b) => a * 7 + b, 0)), img[2]!, img[3]!);
      const oh = convOutSize(img[2]!, g.kernelH, g.stride, g.padding), ow = convOutSize(img[3]!, g.kernelW, g.stride, g.padding);
      return [[img[0]!, oh, ow, img[1]! * g.kernelH * g.kernelW], img];
    }, ['real', 'real']),
    op: ([cols], [img]) => {
      const shape = img!.shape;
      const g = geometry(new Rng(shape.reduce((a, b) => a * 7 + b, 0)), shape[2]!, shape[3]!);
      return col2im(cols!, shape, g);
    },
  },
  {
    name: 'conv2d (stride, padding)', nDiff: 2,
    sample: sampleArb((rng) => {
      const img = image(rng);
      const k = 1 + rng.int(Math.min(3, img[2]!, img[3]!));
      return [img, [1 + rng.int(3), img[1]!, k, k]];
    }, ['real', 'real']),
    op: ([x, w], _c, s) => { const rng = seeded(s); return conv2d(x!, w!, { stride: 1 + rng.int(2), padding: rng.int(2) }); },
  },
  {
    name: 'maxPool2d (no ties)', nDiff: 1,
    sample: sampleArb((rng) => [image(rng)], ['distinct']),
    op: ([x], _c, s) => { const rng = seeded(s); const k = 1 + rng.int(Math.min(3, x!.shape[2]!, x!.shape[3]!)); return maxPool2d(x!, k, 1 + rng.int(k)); },
  },
  {
    name: 'poolGather (random offsets)', nDiff: 1,
    sample: sampleArb((rng) => [image(rng)], ['real']),
    op: ([x], _c, s) => {
      const [n, c, h, w] = x!.shape as [number, number, number, number];
      const rng = seeded(s), g = poolGeometry(rng, h, w);
      return poolGather(x!, poolOffsets(rng, [n, c, convOutSize(h, g.kernelH, g.stride, 0), convOutSize(w, g.kernelW, g.stride, 0)], g, x!.dtype), g);
    },
  },
  {
    name: 'poolScatter (random offsets, windows may overlap)', nDiff: 1,
    sample: sampleArb((rng) => {
      const img = image(rng);
      const g = poolGeometry(new Rng(img.reduce((a, b) => a * 7 + b, 0)), img[2]!, img[3]!);
      return [[img[0]!, img[1]!, convOutSize(img[2]!, g.kernelH, g.stride, 0), convOutSize(img[3]!, g.kernelW, g.stride, 0)], img];
    }, ['real', 'real']),
    op: ([v], [img], s) => {
      const shape = img!.shape;
      const g = poolGeometry(new Rng(shape.reduce((a, b) => a * 7 + b, 0)), shape[2]!, shape[3]!);
      return poolScatter(v!, poolOffsets(seeded(s), v!.shape, g, v!.dtype), shape, g);
    },
  },
  {
    name: 'avgPool2d', nDiff: 1,
    sample: sampleArb((rng) => [image(rng)], ['real']),
    op: ([x], _c, s) => { const rng = seeded(s); const k = 1 + rng.int(Math.min(3, x!.shape[2]!, x!.shape[3]!)); return avgPool2d(x!, k, 1 + rng.int(k)); },
  },
];

describe.each(backendsUnderTest())('primitive and composite ops on $name', (entry) => {
  it.each(cases)('$name', (c) => checkCase(c, entry));
});
