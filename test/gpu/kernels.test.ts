/**
 * Every kernel of the gpu.js backend against the CPU backend (the oracle), in every gpu.js mode
 * this process supports, on float32 data. Shapes are chosen to hit the index arithmetic's edge
 * cases: size-1 axes, broadcasting, long reductions (the two-pass path), all matmul transpose
 * flags with batches, strided and padded convolutions.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend, findBackend, DTypeError, ShapeError, ValueError, type Backend, type Buffer, type Shape, type UnaryOp, type BinaryOp } from '../../engine/index.js';
import { GpuBackend, gpuModeSupport } from '../../engine/backends/gpu/index.js';
import { sizeOf } from '../../engine/shape.js';
import { expectWebGL, gpuBackendName, modesUnderTest, reportModes } from './modes.js';

reportModes('kernels.test.ts');

/** A small deterministic generator (the data only has to be varied, not statistically good). */
function randoms(n: number, seed: number, low = -2, high = 2): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = low + ((s >>> 8) / 2 ** 24) * (high - low);
  }
  return out;
}

/** max |gpu − cpu| ≤ atol + rtol·max|cpu|, elementwise. */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol = 2e-6, atol = 1e-6, what = ''): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  let worst = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(w)) { expect(Number.isNaN(g), `${what}: NaN at ${i}`).toBe(true); continue; }
    if (!Number.isFinite(w)) { expect(g, `${what}: at ${i}`).toBe(w); continue; }
    const err = Math.abs(g - w) - (atol + rtol * Math.abs(w));
    if (err > worst) { worst = err; at = i; }
  }
  expect(at, `${what}: first bad element ${at}: gpu ${got[at]} vs cpu ${want[at]}`).toBe(-1);
}

afterAll(() => {
  for (const mode of modesUnderTest) {
    const info = (findBackend(gpuBackendName(mode)) as GpuBackend).info();
    console.log(`[gpu] kernels.test.ts: ${info.name} ran in ${info.modesRun.join(', ') || 'nothing'}; ${info.kernelsCompiled} kernels, ${info.launches} launches`);
  }
});

describe('the WebGL path', () => {
  it.runIf(expectWebGL)('GIFT_EXPECT_WEBGL=1: headless WebGL really runs, and the automatic `gpu` backend uses it', () => {
    expect(gpuModeSupport().headlessgl, 'GIFT_EXPECT_WEBGL=1 but gpu.js cannot create a headless-gl context (is `gl` built? is there an X display?)').toBe(true);
    const auto = findBackend('gpu') as GpuBackend;
    const x = auto.fromArray([1, 2, 3], [3], 'float32');
    expect(Array.from(auto.toArray(auto.unary('square', x)))).toEqual([1, 4, 9]);
    expect(auto.info().mode).toBe('headlessgl');
    expect(auto.info().modesRun).toEqual(['headlessgl']);
  });
});

describe.each(modesUnderTest)('gpu.js kernels in %s mode match the CPU backend', (mode) => {
  const gpu = findBackend(gpuBackendName(mode)) as Backend;
  const up = (b: Backend, v: Float32Array, shape: Shape): Buffer => b.fromArray(v, shape, 'float32');
  /** Runs `op` on both backends with the same inputs and compares. */
  const compare = (what: string, inputs: [Float32Array, Shape][], op: (b: Backend, xs: Buffer[]) => Buffer, rtol?: number, atol?: number): void => {
    const wantBuf = op(cpuBackend, inputs.map(([v, s]) => up(cpuBackend, v, s)));
    const want = cpuBackend.toArray(wantBuf);
    const gotBuf = op(gpu, inputs.map(([v, s]) => up(gpu, v, s)));
    expect(gotBuf.shape, `${what}: shape`).toEqual(wantBuf.shape);
    expect(gotBuf.dtype).toBe('float32');
    expectClose(gpu.toArray(gotBuf), want, rtol, atol, `${mode} ${what}`);
  };

  it('runs in the mode it was asked for (no silent fallback)', () => {
    const b = gpu as GpuBackend;
    b.toArray(b.fromArray([1, 2, 3], [3], 'float32'));
    const info = b.info();
    expect(info.mode).toBe(mode);
    expect(info.fallbacks).toEqual([]);
    expect(info.modesRun).toEqual([mode]);
  });

  it('round-trips uploads and fills', () => {
    const v = randoms(1000, 1);
    expectClose(gpu.toArray(up(gpu, v, [10, 100])), v, 0, 0, 'upload');
    expectClose(gpu.toArray(gpu.fill([3, 4], 'float32', 2.5)), new Float32Array(12).fill(2.5), 0, 0, 'fill');
    expect(gpu.toArray(gpu.fromArray([], [0, 3], 'float32'))).toEqual(new Float32Array(0));
    expectClose(gpu.toArray(gpu.fromArray([7], [], 'float32')), [7], 0, 0, 'scalar');
  });

  const unaryOps: UnaryOp[] = ['neg', 'exp', 'log', 'tanh', 'sigmoid', 'relu', 'softplus', 'square', 'sqrt', 'abs', 'sign'];
  it.each(unaryOps)('unary %s', (op) => {
    const positive = op === 'log' || op === 'sqrt';
    const v = randoms(257, 2, positive ? 0.01 : -30, positive ? 50 : 30);
    v[0] = 0; v[1] = -0.5; v[2] = 1e-3; v[3] = -20;
    if (positive) { v[0] = 1; v[1] = 0.5; v[3] = 20; }
    // transcendental functions of GLSL are not correctly rounded: a few ulps
    compare(op, [[v, [257]]], (b, [x]) => b.unary(op, x!), 1e-5, 1e-6);
  });

  const binaryOps: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'max', 'min', 'equal', 'greater'];
  it.each(binaryOps)('binary %s', (op) => {
    const a = randoms(300, 3), c = randoms(300, 4);
    for (let i = 0; i < 300; i += 7) c[i] = a[i]!; // ties for equal/max/min
    a[5] = NaN; c[11] = NaN; // NaN in either operand: max and min must keep it, as the CPU does
    for (let i = 0; i < 300; i++) if (op === 'div' && Math.abs(c[i]!) < 0.1) c[i] = 0.5;
    compare(op, [[a, [3, 100]], [c, [3, 100]]], (b, [x, y]) => b.binary(op, x!, y!), 1e-6, 1e-7);
  });

  it.each([0, 1, 2, 3, -1, -2, 0.5, 1.7, 4, 5, -3])('pow with exponent %s', (p) => {
    const v = Number.isInteger(p) ? randoms(100, 5, -3, 3) : randoms(100, 5, 0.1, 3);
    if (Number.isInteger(p) && p > 0) v[0] = 0;
    compare(`pow ${p}`, [[v, [100]]], (b, [x]) => b.pow(x!, p), 2e-5, 1e-6);
  });

  it('where and cast', () => {
    const c = randoms(50, 6).map((x) => (x > 0 ? 1 : 0)), a = randoms(50, 7), d = randoms(50, 8);
    compare('where', [[c, [5, 10]], [a, [5, 10]], [d, [5, 10]]], (b, [x, y, z]) => b.where(x!, y!, z!), 0, 0);
    compare('cast', [[a, [50]]], (b, [x]) => b.cast(x!, 'float32'), 0, 0);
  });

  it.each([
    { shape: [4, 5, 6], axes: [0] }, { shape: [4, 5, 6], axes: [1] }, { shape: [4, 5, 6], axes: [2] },
    { shape: [4, 5, 6], axes: [0, 2] }, { shape: [4, 5, 6], axes: [0, 1, 2] }, { shape: [3, 2000], axes: [1] },
    { shape: [5000], axes: [0] }, { shape: [2, 1, 3], axes: [1] }, { shape: [1500, 3], axes: [0] },
  ])('reduce sum and max of $shape over $axes', ({ shape, axes }) => {
    const v = randoms(sizeOf(shape), 9);
    compare('sum', [[v, shape]], (b, [x]) => b.reduce('sum', x!, axes), 1e-5, 2e-5);
    compare('max', [[v, shape]], (b, [x]) => b.reduce('max', x!, axes), 0, 0);
  });

  it.each([
    { a: [3, 4], b: [4, 5], tA: false, tB: false }, { a: [4, 3], b: [4, 5], tA: true, tB: false },
    { a: [3, 4], b: [5, 4], tA: false, tB: true }, { a: [4, 3], b: [5, 4], tA: true, tB: true },
    { a: [2, 3, 7, 4], b: [2, 3, 4, 6], tA: false, tB: false }, { a: [2, 4, 7], b: [2, 6, 4], tA: true, tB: true },
    { a: [1, 1], b: [1, 1], tA: false, tB: false }, { a: [33, 65], b: [65, 17], tA: false, tB: false },
    { a: [7, 5], b: [3, 7], tA: true, tB: true }, { a: [3, 2, 3], b: [3, 3, 2], tA: false, tB: false },
  ])('matmul $a × $b (transA=$tA, transB=$tB)', ({ a, b: bs, tA, tB }) => {
    compare('matmul', [[randoms(sizeOf(a), 10), a], [randoms(sizeOf(bs), 11), bs]], (b, [x, y]) => b.matmul(x!, y!, tA, tB), 1e-5, 1e-5);
  });

  it('reshape, permute, broadcastTo, slice', () => {
    const v = randoms(120, 12);
    compare('reshape', [[v, [2, 3, 4, 5]]], (b, [x]) => b.reshape(x!, [6, 20]), 0, 0);
    compare('permute', [[v, [2, 3, 4, 5]]], (b, [x]) => b.permute(x!, [3, 1, 0, 2]), 0, 0);
    compare('permute 2d', [[v, [12, 10]]], (b, [x]) => b.permute(x!, [1, 0]), 0, 0);
    compare('broadcast lead', [[v.subarray(0, 5), [5]]], (b, [x]) => b.broadcastTo(x!, [3, 4, 5]), 0, 0);
    compare('broadcast ones', [[v.subarray(0, 6), [2, 1, 3, 1]]], (b, [x]) => b.broadcastTo(x!, [7, 2, 4, 3, 5]), 0, 0);
    compare('broadcast scalar', [[v.subarray(0, 1), []]], (b, [x]) => b.broadcastTo(x!, [2, 3]), 0, 0);
    compare('slice', [[v, [2, 3, 4, 5]]], (b, [x]) => b.slice(x!, [1, 0, 1, 2], [1, 3, 2, 3]), 0, 0);
    compare('slice of a permute', [[v, [4, 30]]], (b, [x]) => b.slice(b.permute(x!, [1, 0]), [5, 1], [10, 2]), 0, 0);
    compare('rank 7', [[v, [1, 2, 1, 3, 1, 4, 5]]], (b, [x]) => b.permute(x!, [6, 5, 4, 3, 2, 1, 0]), 0, 0);
  });

  it('index arithmetic stays exact on a million-element transpose, and refuses tensors over 2^24 elements', () => {
    const v = Float32Array.from({ length: 1000 * 1001 }, (_, i) => i);
    compare('transpose 1000×1001', [[v, [1000, 1001]]], (b, [x]) => b.permute(x!, [1, 0]), 0, 0);
    expect(() => gpu.fill([4097, 4097], 'float32', 0)).toThrow(ShapeError);
    expect(() => gpu.fill([4097, 4097], 'float32', 0)).toThrow(/2\^24/);
  });

  it('empty tensors', () => {
    const e = new Float32Array(0);
    compare('unary of empty', [[e, [0, 3]]], (b, [x]) => b.unary('exp', x!), 0, 0);
    compare('binary of empty', [[e, [2, 0]], [e, [2, 0]]], (b, [x, y]) => b.binary('add', x!, y!), 0, 0);
    compare('sum over an empty axis', [[e, [3, 0]]], (b, [x]) => b.reduce('sum', x!, [1]), 0, 0);
    compare('matmul with K = 0', [[e, [2, 0]], [e, [0, 3]]], (b, [x, y]) => b.matmul(x!, y!, false, false), 0, 0);
    compare('permute of empty', [[e, [0, 3]]], (b, [x]) => b.permute(x!, [1, 0]), 0, 0);
    compare('pad of empty', [[e, [0, 2]]], (b, [x]) => b.pad(x!, [1, 0], [1, 1]), 0, 0);
  });

  it('pad and concat', () => {
    const v = randoms(60, 13), w = randoms(60, 14);
    compare('pad', [[v, [3, 4, 5]]], (b, [x]) => b.pad(x!, [1, 0, 2], [0, 3, 1]), 0, 0);
    compare('pad 1d', [[v, [60]]], (b, [x]) => b.pad(x!, [4], [7]), 0, 0);
    for (const axis of [0, 1, 2]) {
      const s1 = [3, 4, 5], s2 = [...s1];
      s2[axis] = 2;
      compare(`concat axis ${axis}`, [[v, s1], [w.subarray(0, sizeOf(s2)), s2], [v.subarray(0, sizeOf(s2)), s2]], (b, xs) => b.concat(xs, axis), 0, 0);
    }
    compare('concat with an empty part', [[v, [60]], [w.subarray(0, 0), [0]], [w, [60]]], (b, xs) => b.concat(xs, 0), 0, 0);
  });

  it('gather and scatter', () => {
    const labels = Int32Array.from([2, 0, 4, 4, 1, 3]);
    compare('gather', [[randoms(30, 15), [6, 5]]], (b, [x]) => b.gather(x!, labels), 0, 0);
    compare('scatter', [[randoms(6, 16), [6]]], (b, [x]) => b.scatter(x!, labels, 5), 0, 0);
  });

  it.each([
    { x: [2, 3, 8, 8], k: 3, stride: 1, padding: 0 }, { x: [2, 3, 8, 7], k: 3, stride: 2, padding: 1 },
    { x: [1, 1, 28, 28], k: 5, stride: 1, padding: 0 }, { x: [2, 2, 6, 6], k: 2, stride: 2, padding: 0 },
    { x: [1, 2, 5, 5], k: 3, stride: 3, padding: 2 },
  ])('im2col and col2im for $x, kernel $k, stride $stride, padding $padding', ({ x, k, stride, padding }) => {
    const g = { kernelH: k, kernelW: k, stride, padding };
    compare('im2col', [[randoms(sizeOf(x), 17), x]], (b, [t]) => b.im2col(t!, g), 0, 0);
    const cols = cpuBackend.im2col(cpuBackend.fill(x, 'float32', 0), g).shape;
    compare('col2im', [[randoms(sizeOf(cols), 18), cols]], (b, [t]) => b.col2im(t!, x, g), 1e-6, 1e-6);
  });

  it.each([
    { x: [2, 3, 8, 8], k: 2, stride: 2 }, { x: [2, 3, 9, 7], k: 3, stride: 2 }, { x: [1, 2, 6, 6], k: 3, stride: 1 },
    { x: [4, 8, 24, 24], k: 2, stride: 2 },
  ])('poolArgmax, poolGather and poolScatter for $x, kernel $k, stride $stride', ({ x, k, stride }) => {
    const g = { kernelH: k, kernelW: k, stride };
    const v = randoms(sizeOf(x), 20);
    for (let i = 0; i < v.length; i += 5) v[i] = v[i + 1] ?? 0; // ties: the first maximum must win on both
    for (let i = 0; i < v.length; i += 3) v[i] = Math.max(0, v[i]!); // and runs of zeros, as after a ReLU
    compare('poolArgmax', [[v, x]], (b, [t]) => b.poolArgmax(t!, g), 0, 0);
    const at = cpuBackend.toArray(cpuBackend.poolArgmax(cpuBackend.fromArray(v, x, 'float32'), g));
    const windows = cpuBackend.poolArgmax(cpuBackend.fill(x, 'float32', 0), g).shape;
    compare('poolGather', [[v, x], [Float32Array.from(at), windows]], (b, [t, a]) => b.poolGather(t!, a!, g), 0, 0);
    compare('poolScatter', [[randoms(sizeOf(windows), 21), windows], [Float32Array.from(at), windows]], (b, [t, a]) => b.poolScatter(t!, a!, x, g), 1e-6, 1e-6);
  });

  it('keeps float64 exact on the CPU backend by default, and casts across', () => {
    const b = gpu as GpuBackend;
    const v = Float64Array.from(randoms(12, 19), (x) => x / 3);
    const x = b.fromArray(v, [3, 4], 'float64');
    expect(x.dtype).toBe('float64');
    const want = cpuBackend.toArray(cpuBackend.matmul(cpuBackend.fromArray(v, [3, 4], 'float64'), cpuBackend.fromArray(v, [3, 4], 'float64'), false, true));
    expect(b.toArray(b.matmul(x, x, false, true))).toEqual(want); // bit for bit: float64 arithmetic
    const down = b.cast(x, 'float32');
    expect(down.dtype).toBe('float32');
    expect(b.toArray(down)).toEqual(Float32Array.from(v));
    expect(b.toArray(b.cast(down, 'float64'))).toEqual(Float64Array.from(Float32Array.from(v)));
    expect(b.info().float64Ops).toBeGreaterThan(0);
  });

  it("rejects float64 with a DTypeError naming the op under the 'error' policy", () => {
    const b = gpu as GpuBackend;
    b.float64Policy = 'error';
    try {
      expect(() => b.fromArray([1, 2], [2], 'float64')).toThrow(DTypeError);
      expect(() => b.fromArray([1, 2], [2], 'float64')).toThrow(/fromArray.*float32 only, got float64 \[2\].*CPU backend/);
      expect(() => b.fill([2], 'float64', 0)).toThrow(/^fill:/);
      expect(() => b.cast(b.fromArray([1], [1], 'float32'), 'float64')).toThrow(/^cast:.*float64/);
    } finally {
      b.float64Policy = 'cpu';
    }
  });

  it('refuses a disposed buffer with a typed error', () => {
    const x = gpu.fromArray([1, 2, 3], [3], 'float32');
    const view = gpu.reshape(x, [3, 1]);
    gpu.dispose(x);
    gpu.dispose(x); // idempotent
    expect(() => gpu.unary('exp', x)).toThrow(ValueError);
    expect(() => gpu.toArray(x)).toThrow(/used after dispose/);
    expect(Array.from(gpu.toArray(view))).toEqual([1, 2, 3]); // a view keeps the shared texture alive
    gpu.dispose(view);
  });
});
