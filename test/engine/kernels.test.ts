/**
 * Backend kernels against plain loops, on every backend under test: matmul with every
 * transpose flag, ragged sizes and K across the packing block, batched; reductions of strided
 * views; im2col and col2im as adjoints, and so poolGather and poolScatter; poolArgmax against a
 * loop, ties and NaN included; NaN through relu, maximum, minimum and max; stopGradient and cast
 * against their closed forms; nested transforms against closed-form third derivatives.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  avgPool2d, cast, col2im, conv2d, exp, grad, maxPool2d, hvp, im2col, jvp, matmul, mul, permute, poolArgmax, poolGather, poolScatter,
  maximum, minimum, pow, relu, Rng, stopGradient, sum, tanh, tensor, transpose, max, type Tensor,
} from '../../engine/index.js';
import { convOutSize } from '../../engine/backend.js';
import { setMatmulKernel, type MatmulKernel } from '../../engine/backends/cpu.js';
import { backendsUnderTest, useBackend } from '../backends.js';
import { expectClose, valuesIn } from './check.js';


function naive(A: ArrayLike<number>, B: ArrayLike<number>, M: number, K: number, N: number): Float64Array {
  const C = new Float64Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += A[i * K + k]! * B[k * N + j]!;
    C[i * N + j] = s;
  }
  return C;
}

function transposed(A: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(A.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = A[r * cols + c]!;
  return out;
}

/** A random image size and pooling geometry (windows may overlap), with its output size; `twoByTwo` fixes 2×2 windows (the CPU's branch-free path). */
function randomPooling(rng: Rng, twoByTwo = false) {
  const [n, c, h, w] = [1 + rng.int(2), 1 + rng.int(3), 2 + rng.int(5), 2 + rng.int(5)];
  const [kernelH, kernelW] = twoByTwo ? [2, 2] : [1 + rng.int(Math.min(3, h)), 1 + rng.int(Math.min(3, w))];
  const g = { kernelH, kernelW, stride: 1 + rng.int(2) };
  return { n, c, h, w, g, oh: convOutSize(h, g.kernelH, g.stride, 0), ow: convOutSize(w, g.kernelW, g.stride, 0) };
}

describe.each(backendsUnderTest())('kernels on $name', (entry) => {
  let restore: () => void = () => {};
  beforeEach(() => { restore = useBackend(entry); });
  afterEach(() => restore());
  const tol = entry.exact64 ? 1e-12 : 1e-5;

  it('matmul matches a triple loop for every transpose layout, ragged sizes and long K', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 9 }), fc.constantFrom(1, 3, 4, 7, 255, 256, 257, 600), fc.integer({ min: 1, max: 9 }),
      fc.boolean(), fc.boolean(), fc.integer(),
      (M, K, N, ta, tb, seed) => {
        const rng = new Rng(seed);
        const A = Float64Array.from(valuesIn('real', M * K, rng), (x) => (entry.exact64 ? x : Math.fround(x)));
        const B = Float64Array.from(valuesIn('real', K * N, rng), (x) => (entry.exact64 ? x : Math.fround(x)));
        // store A as Aᵀ when ta, and multiply by transposing back: the engine folds it into flags
        const a = ta ? transpose(tensor(transposed(A, M, K), [K, M], entry.dtype)) : tensor(A, [M, K], entry.dtype);
        const b = tb ? transpose(tensor(transposed(B, K, N), [N, K], entry.dtype)) : tensor(B, [K, N], entry.dtype);
        expectClose(`matmul ${M}×${K}×${N} ta=${ta} tb=${tb}`, matmul(a, b).toArray(), naive(A, B, M, K, N), tol, 1);
      },
    ), { numRuns: entry.exact64 ? 40 : 15 });
  });

  it('batched matmul with a broadcast batch axis', () => {
    const rng = new Rng(5);
    const A = valuesIn('real', 3 * 5 * 6, rng), B = valuesIn('real', 6 * 7, rng);
    const c = matmul(tensor(A, [3, 5, 6], entry.dtype), tensor(B, [1, 6, 7], entry.dtype)).toArray();
    for (let t = 0; t < 3; t++) {
      expectClose(`batch ${t}`, c.subarray(t * 35, (t + 1) * 35), naive(A.subarray(t * 30, (t + 1) * 30), B, 5, 6, 7), entry.exact64 ? 1e-12 : 1e-5, 1);
    }
  });

  it('reductions of permuted (strided) views', () => {
    const rng = new Rng(9);
    const X = valuesIn('real', 2 * 3 * 4, rng);
    const x = permute(tensor(X, [2, 3, 4], entry.dtype), [2, 0, 1]); // [4, 2, 3]
    const s = sum(x, [1]).toArray(), m = max(x, [0, 2]).toArray();
    for (let k = 0; k < 4; k++) for (let j = 0; j < 3; j++) {
      expect(s[k * 3 + j]).toBeCloseTo(X[0 * 12 + j * 4 + k]! + X[1 * 12 + j * 4 + k]!, 5);
    }
    for (let i = 0; i < 2; i++) {
      let best = -Infinity;
      for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) best = Math.max(best, Math.fround(X[i * 12 + j * 4 + k]!));
      expect(m[i]).toBeCloseTo(best, 6);
    }
  });

  it('im2col and col2im are adjoint: ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩', () => {
    fc.assert(fc.property(fc.integer(), (seed) => {
      const rng = new Rng(seed);
      const [n, c, h, w] = [1 + rng.int(2), 1 + rng.int(3), 2 + rng.int(5), 2 + rng.int(5)];
      const g = { kernelH: 1 + rng.int(Math.min(3, h)), kernelW: 1 + rng.int(Math.min(3, w)), stride: 1 + rng.int(2), padding: rng.int(2) };
      const [oh, ow] = [convOutSize(h, g.kernelH, g.stride, g.padding), convOutSize(w, g.kernelW, g.stride, g.padding)];
      const x = tensor(valuesIn('real', n * c * h * w, rng), [n, c, h, w], entry.dtype);
      const y = tensor(valuesIn('real', n * oh * ow * c * g.kernelH * g.kernelW, rng), [n, oh, ow, c * g.kernelH * g.kernelW], entry.dtype);
      const lhs = sum(mul(im2col(x, g), y)).item(), rhs = sum(mul(x, col2im(y, x.shape, g))).item();
      expectClose('adjoint', [lhs], [rhs], entry.exact64 ? 1e-12 : 1e-5, 1);
    }), { numRuns: 25 });
  });

  it('conv2d, maxPool2d and avgPool2d match direct loops (stride, padding)', () => {
    fc.assert(fc.property(fc.integer(), (seed) => {
      const rng = new Rng(seed);
      const [n, c, o, h, w] = [1 + rng.int(2), 1 + rng.int(3), 1 + rng.int(3), 3 + rng.int(5), 3 + rng.int(5)];
      const [kh, kw] = [1 + rng.int(3), 1 + rng.int(3)];
      const stride = 1 + rng.int(2), padding = rng.int(2);
      const X = valuesIn('real', n * c * h * w, rng), W = valuesIn('real', o * c * kh * kw, rng);
      const x = tensor(X, [n, c, h, w], entry.dtype);
      const [oh, ow] = [convOutSize(h, kh, stride, padding), convOutSize(w, kw, stride, padding)];
      const want = new Float64Array(n * o * oh * ow);
      for (let b = 0; b < n; b++) for (let f = 0; f < o; f++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
        let acc = 0;
        for (let ch = 0; ch < c; ch++) for (let u = 0; u < kh; u++) for (let v = 0; v < kw; v++) {
          const y = i * stride - padding + u, z = j * stride - padding + v;
          if (y >= 0 && y < h && z >= 0 && z < w) acc += X[((b * c + ch) * h + y) * w + z]! * W[((f * c + ch) * kh + u) * kw + v]!;
        }
        want[((b * o + f) * oh + i) * ow + j] = acc;
      }
      const got = conv2d(x, tensor(W, [o, c, kh, kw], entry.dtype), { stride, padding });
      expect(got.shape).toEqual([n, o, oh, ow]);
      expectClose('conv2d', got.toArray(), want, tol, 1);

      const k = 1 + rng.int(Math.min(3, h, w)), s = 1 + rng.int(k);
      const [ph, pw] = [convOutSize(h, k, s, 0), convOutSize(w, k, s, 0)];
      const wantMax = new Float64Array(n * c * ph * pw), wantAvg = new Float64Array(n * c * ph * pw);
      for (let b = 0; b < n * c; b++) for (let i = 0; i < ph; i++) for (let j = 0; j < pw; j++) {
        let m = -Infinity, t = 0;
        for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) {
          const val = entry.exact64 ? X[(b * h + i * s + u) * w + j * s + v]! : Math.fround(X[(b * h + i * s + u) * w + j * s + v]!);
          m = Math.max(m, val); t += val;
        }
        wantMax[(b * ph + i) * pw + j] = m;
        wantAvg[(b * ph + i) * pw + j] = t / (k * k);
      }
      expectClose('maxPool2d', maxPool2d(x, k, s).toArray(), wantMax, tol, 1);
      expectClose('avgPool2d', avgPool2d(x, k, s).toArray(), wantAvg, tol, 1);
    }), { numRuns: 30 });
  });

  it('poolArgmax points at each window\'s first maximum, and at a NaN where a window holds one', () => {
    fc.assert(fc.property(fc.integer(), (seed) => {
      const rng = new Rng(seed);
      const { n, c, h, w, g, oh, ow } = randomPooling(rng, seed % 2 === 0);
      // few distinct values, so most windows hold ties
      const X = Array.from({ length: n * c * h * w }, () => rng.int(3));
      const want = new Float64Array(n * c * oh * ow), best = new Float64Array(n * c * oh * ow).fill(-Infinity);
      for (let p = 0; p < n * c; p++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
        const q = (p * oh + i) * ow + j;
        for (let u = 0; u < g.kernelH; u++) for (let v = 0; v < g.kernelW; v++) {
          const val = X[(p * h + i * g.stride + u) * w + j * g.stride + v]!;
          if (val > best[q]!) { best[q] = val; want[q] = u * g.kernelW + v; }
        }
      }
      const x = tensor(X, [n, c, h, w], entry.dtype);
      const at = poolArgmax(x, g);
      expect(at.shape).toEqual([n, c, oh, ow]);
      expect(Array.from(at.toArray())).toEqual(Array.from(want));
      expect(Array.from(poolGather(x, at, g).toArray())).toEqual(Array.from(best));
      if (g.kernelH === g.kernelW) expect(Array.from(maxPool2d(x, g.kernelH, g.stride).toArray())).toEqual(Array.from(best));
    }), { numRuns: 30 });
    // NaN is never silently pooled away: its window points at the first NaN
    const x = tensor([1, NaN, 3, 2, 5, 4, NaN, NaN, 1, 2, 3, 4, NaN, 9, 1, 2], [1, 4, 2, 2], entry.dtype);
    expect(Array.from(poolArgmax(x, { kernelH: 2, kernelW: 2, stride: 2 }).toArray())).toEqual([1, 2, 3, 0]);
    expect(Array.from(maxPool2d(x, 2).toArray()).map((v) => (Number.isNaN(v) ? 'NaN' : v))).toEqual(['NaN', 'NaN', 4, 'NaN']);
    const x3 = tensor([1, 2, 0, NaN, 5, 4, 0, 9, 0], [1, 1, 3, 3], entry.dtype); // the same rule in the general loop
    expect(Array.from(poolArgmax(x3, { kernelH: 3, kernelW: 3, stride: 1 }).toArray())).toEqual([3]);
  });

  it('poolGather and poolScatter are adjoint: ⟨poolGather(x, at), y⟩ = ⟨x, poolScatter(y, at)⟩, overlapping windows included', () => {
    fc.assert(fc.property(fc.integer(), (seed) => {
      const rng = new Rng(seed);
      const { n, c, h, w, g, oh, ow } = randomPooling(rng);
      const at = tensor(Array.from({ length: n * c * oh * ow }, () => rng.int(g.kernelH * g.kernelW)), [n, c, oh, ow], entry.dtype);
      const x = tensor(valuesIn('real', n * c * h * w, rng), [n, c, h, w], entry.dtype);
      const y = tensor(valuesIn('real', n * c * oh * ow, rng), [n, c, oh, ow], entry.dtype);
      const lhs = sum(mul(poolGather(x, at, g), y)).item(), rhs = sum(mul(x, poolScatter(y, at, x.shape, g))).item();
      expectClose('adjoint', [lhs], [rhs], entry.exact64 ? 1e-12 : 1e-5, 1);
    }), { numRuns: 25 });
  });

  it('relu keeps NaN (a bad value upstream is not hidden) and maps ±0 and −∞ to 0', () => {
    const y = Array.from(relu(tensor([NaN, -Infinity, -2, -0, 0, 3, Infinity], [7], entry.dtype)).toArray());
    expect(y.map((v) => (Number.isNaN(v) ? 'NaN' : v === 0 ? 0 : v))).toEqual(['NaN', 0, 0, 0, 0, 3, Infinity]);
  });

  it('maximum, minimum and max keep NaN from either operand and anywhere along the axis', () => {
    const show = (t: Tensor) => Array.from(t.toArray()).map((v) => (Number.isNaN(v) ? 'NaN' : v));
    const a = tensor([NaN, 1, 2, -Infinity, 3, 3], [6], entry.dtype), b = tensor([1, NaN, 5, 0, Infinity, 3], [6], entry.dtype);
    expect(show(maximum(a, b))).toEqual(['NaN', 'NaN', 5, 0, Infinity, 3]);
    expect(show(minimum(a, b))).toEqual(['NaN', 'NaN', 2, -Infinity, 3, 3]);
    expect(show(maximum(b, 0))).toEqual([1, 'NaN', 5, 0, Infinity, 3]);
    // rows longer than the GPU's reduction segment, with the NaN first, in the middle and last
    const rows = 3, cols = 1500, v = new Float64Array(rows * cols).map((_, i) => (i % 97) - 40);
    v[0] = NaN; v[cols + 700] = NaN; v[2 * cols + cols - 1] = NaN;
    expect(show(max(tensor(v, [rows, cols], entry.dtype), 1))).toEqual(['NaN', 'NaN', 'NaN']);
    // the derivative goes to the first operand on ties, to the second where it is strictly larger
    const g = grad((p: Tensor) => sum(maximum(p, tensor([0, 2, 1], [3], entry.dtype))))(tensor([1, 2, 0], [3], entry.dtype));
    expect(Array.from(g.toArray())).toEqual([1, 1, 0]);
  });

  it('maxPool2d sends its derivative to the first of tied maxima (as PyTorch does)', () => {
    // two 2×2 windows: [3, 1, 3, 0] ties at offsets 0 and 2; [2, 5, 5, 5] at 1, 2 and 3
    const x = tensor([3, 1, 2, 5, 3, 0, 5, 5], [1, 1, 2, 4], entry.dtype);
    expect(Array.from(grad((p: Tensor) => sum(maxPool2d(p, 2)))(x).toArray())).toEqual([1, 0, 0, 1, 0, 0, 0, 0]);
    const [y, dy] = jvp((p: Tensor) => maxPool2d(p, 2), x, tensor([1, 2, 4, 8, 16, 32, 64, 128], [1, 1, 2, 4], entry.dtype));
    expect(Array.from(y.toArray())).toEqual([3, 5]);
    expect(Array.from(dy.toArray())).toEqual([1, 8]);
  });

  it('max splits its derivative evenly between tied maxima', () => {
    const x = tensor([1, 3, 3, 5, 0, 2], [2, 3], entry.dtype);
    expect(Array.from(grad((p: Tensor) => sum(max(p, 1)))(x).toArray())).toEqual([0, 0.5, 0.5, 1, 0, 0]);
    const [y, dy] = jvp((p: Tensor) => max(p, 1), x, tensor([1, 2, 4, 8, 16, 32], [2, 3], entry.dtype));
    expect(Array.from(y.toArray())).toEqual([3, 5]);
    expect(Array.from(dy.toArray())).toEqual([3, 8]);
  });

  it('stopGradient: d/dx Σ x·sg(x) = x and its Hessian is zero', () => {
    const x = tensor([0.5, -2, 3], [3], entry.dtype);
    const f = (p: Tensor) => sum(mul(p, stopGradient(p)));
    expect(Array.from(grad(f)(x).toArray())).toEqual([0.5, -2, 3]);
    expect(Array.from(hvp(f, x, tensor([1, 1, 1], [3], entry.dtype)).toArray())).toEqual([0, 0, 0]);
    const [y, dy] = jvp((p: Tensor) => mul(p, stopGradient(p)), x, tensor([1, 1, 1], [3], entry.dtype));
    expect(Array.from(y.toArray())).toEqual([0.25, 4, 9]);
    expect(Array.from(dy.toArray())).toEqual([0.5, -2, 3]);
  });

  it('nested transforms match closed-form third derivatives', () => {
    const third = (f: (x: Tensor) => Tensor) => grad((x: Tensor) => sum(grad((y: Tensor) => sum(grad(f)(y)))(x)));
    const x0 = 0.3;
    const at = tensor([x0], [1], entry.dtype);
    const t = Math.tanh(x0);
    const rel = entry.exact64 ? 1e-12 : 1e-5;
    // (e^{2x})‴ = 8e^{2x};  (x⁴)‴ = 24x;  tanh‴ = −2(1 − t²)(1 − 3t²)
    expectClose('exp(2x)', third((x) => sum(exp(mul(x, 2))))(at).toArray(), [8 * Math.exp(2 * x0)], rel, 1);
    expectClose('x^4', third((x) => sum(pow(x, 4)))(at).toArray(), [24 * x0], rel, 1);
    expectClose('tanh', third((x) => sum(tanh(x)))(at).toArray(), [-2 * (1 - t * t) * (1 - 3 * t * t)], rel, 1);
    // forward over reverse over reverse: jvp of the Hessian-vector product of x⁴ is 24x·v·u
    const [, d3] = jvp((x: Tensor) => hvp((y: Tensor) => sum(pow(y, 4)), x, tensor([2], [1], entry.dtype)), at, tensor([1], [1], entry.dtype));
    expectClose('jvp of hvp', d3.toArray(), [24 * x0 * 2], rel, 1);
  });
});

// dtype conversion is a CPU feature: the GPU backend holds float32 only and says so with a DTypeError
describe.each([['float64', 'float32'], ['float32', 'float64']] as const)('cast on the CPU from %s to %s', (dtype, other) => {
  it('cast: values round to the target dtype and gradients come back in the source dtype', () => {
    const x = tensor([1 / 3, 2], [2], dtype);
    const g = grad((p: Tensor) => sum(mul(cast(p, other), tensor([3, 5], [2], other))))(x);
    expect(g.dtype).toBe(dtype);
    expect(Array.from(g.toArray())).toEqual([3, 5]);
    expect(cast(x, 'float32').toArray()[0]).toBe(Math.fround(1 / 3));
  });

});

// cpu.ts has two matmul inner kernels (WebAssembly SIMD and its plain-JS fallback): check both
describe.each(['wasm', 'js'] as const)('CPU matmul with the %s inner kernel', (kernel) => {
  let previous: MatmulKernel = 'js';
  beforeEach(() => { previous = setMatmulKernel(kernel); });
  afterEach(() => { setMatmulKernel(previous); });

  it.each([[300, 7, 5], [513, 3, 9], [257, 260, 6]] as const)('rows in several bands: %i×%i×%i in every layout', (M, K, N) => {
    const rng = new Rng(M * K * N);
    const A = valuesIn('real', M * K, rng), B = valuesIn('real', K * N, rng);
    const want = naive(A, B, M, K, N);
    for (const ta of [false, true]) for (const tb of [false, true]) {
      const a = ta ? transpose(tensor(transposed(A, M, K), [K, M])) : tensor(A, [M, K]);
      const b = tb ? transpose(tensor(transposed(B, K, N), [N, K])) : tensor(B, [K, N]);
      expectClose(`${kernel} ${M}×${K}×${N} ta=${ta} tb=${tb}`, matmul(a, b).toArray(), want, 1e-12, 1);
    }
  });

  it.each(['float64', 'float32'] as const)('matches a triple loop in %s (all layouts, ragged, K across blocks, batched)', (dtype) => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 11 }), fc.constantFrom(1, 2, 5, 255, 256, 257, 700), fc.integer({ min: 1, max: 11 }),
      fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.boolean(), fc.integer(),
      (M, K, N, batch, ta, tb, seed) => {
        const rng = new Rng(seed);
        const A = Float64Array.from(valuesIn('real', batch * M * K, rng), (x) => (dtype === 'float64' ? x : Math.fround(x)));
        const B = Float64Array.from(valuesIn('real', batch * K * N, rng), (x) => (dtype === 'float64' ? x : Math.fround(x)));
        const stored = (X: Float64Array, rows: number, cols: number, t: boolean) => {
          if (!t) return tensor(X, [batch, rows, cols], dtype);
          const T = new Float64Array(X.length);
          for (let b = 0; b < batch; b++) T.set(transposed(X.subarray(b * rows * cols, (b + 1) * rows * cols), rows, cols), b * rows * cols);
          return transpose(tensor(T, [batch, cols, rows], dtype));
        };
        const got = matmul(stored(A, M, K, ta), stored(B, K, N, tb)).toArray();
        for (let b = 0; b < batch; b++) {
          const want = naive(A.subarray(b * M * K, (b + 1) * M * K), B.subarray(b * K * N, (b + 1) * K * N), M, K, N);
          expectClose(`${kernel} ${dtype} ${M}×${K}×${N} batch ${b}`, got.subarray(b * M * N, (b + 1) * M * N), want, dtype === 'float64' ? 1e-12 : 1e-5, 1);
        }
      },
    ), { numRuns: 40 });
  });
});
