/**
 * Device memory: `dispose`, and `tidy` keeping the number of live textures flat over a long
 * loop of HVPs (the benchmark runs 10,000; this test runs a few hundred on a small model).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { add, findBackend, grad, hvp, linearize, matmul, mul, setBackend, sum, tanh, tensor, type Tensor } from '../../engine/index.js';
import { keep, tidy, type GpuBackend } from '../../engine/backends/gpu/index.js';
import { gpuBackendName, modesUnderTest, reportModes } from './modes.js';
import { hessianOperator } from '../../influence/hessian.js';
import { crossEntropy } from '../../nn/index.js';

reportModes('memory.test.ts');

afterEach(() => setBackend('cpu'));

describe.each(modesUnderTest)('gpu.js %s memory', (mode) => {
  const name = gpuBackendName(mode);
  const live = () => (findBackend(name) as GpuBackend).info().liveBuffers;

  it('tidy releases intermediates, keeps the result, and holds memory flat over 300 HVPs', () => {
    setBackend(name);
    const w = tensor(new Float32Array([0.1, -0.2, 0.3, 0.4, -0.5, 0.6]), [3, 2]);
    const x = tensor(new Float32Array([1, 2, 3, -1, 0.5, 0.25]), [2, 3]);
    const v = tensor(new Float32Array([1, 0, 0, 1, 1, 1]), [3, 2]);
    const loss = (p: Tensor) => sum(tanh(matmul(x, p)));
    const expected = Array.from(tidy(() => hvp(loss, w, v)).toArray());
    const base = live();
    let acc = tidy(() => mul(v, 0));
    const counts: number[] = [];
    for (let i = 0; i < 300; i++) {
      const next = tidy(() => add(acc, hvp(loss, w, v)));
      (acc as { dispose?: () => void }).dispose?.();
      acc = next;
      counts.push(live());
    }
    expect(new Set(counts.slice(1)).size, `live buffers per iteration: ${counts.slice(0, 5).join(', ')}, ...`).toBe(1);
    expect(counts[299]).toBeLessThanOrEqual(base + 1);
    const got = Array.from(acc.toArray());
    got.forEach((g, i) => expect(g).toBeCloseTo(300 * expected[i]!, 1));
  });

  it('dispose frees a texture, views share it, keep exempts a tensor from its scope', () => {
    setBackend(name);
    const before = live();
    const a = tensor(new Float32Array([1, 2, 3, 4]), [2, 2]);
    expect(live()).toBe(before + 1);
    a.dispose();
    expect(live()).toBe(before);
    let kept: Tensor | null = null;
    const result = tidy(() => {
      const t = tensor(new Float32Array([1, 2]), [2]);
      kept = keep(mul(t, 3));
      return add(t, 1);
    });
    expect(Array.from(result.toArray())).toEqual([2, 3]);
    expect(Array.from(kept!.toArray())).toEqual([3, 6]);
    expect(live()).toBe(before + 2);
    const inner = tidy(() => tidy(() => mul(result, 2)));
    expect(Array.from(inner.toArray())).toEqual([4, 6]);
    expect(() => tidy(() => { mul(result, 2); throw new Error('boom'); })).toThrow('boom');
    expect(live()).toBe(before + 3);
  });

  it('results stay right when an operation runs at another size after tidy freed its outputs', () => {
    // Regression: resizing gpu.js kernels after tidy had deleted their earlier outputs made every
    // later HVP on headless WebGL silently wrong (relative error up to 0.3).
    const hvpAt = (rows: number): number[] => {
      const x = tensor(new Float32Array([1, 2, 3, -1, 0.5, 0.25, 0, 1, -2].slice(0, 3 * rows)), [rows, 3]);
      const w = tensor(new Float32Array([0.1, -0.2, 0.3, 0.4, -0.5, 0.6]), [3, 2]);
      const u = tensor(new Float32Array([1, 0, -1, 0.5, 2, 0.25]), [3, 2]);
      return Array.from(hvp((p: Tensor) => sum(mul(tanh(matmul(x, p)), tanh(matmul(x, p)))), w, u).toArray());
    };
    setBackend('cpu');
    const expected = [3, 2].map((rows) => hvpAt(rows));
    setBackend(name);
    for (let round = 0; round < 3; round++) {
      for (const [k, rows] of [3, 2].entries()) {
        const got = tidy(() => tensor(Float32Array.from(hvpAt(rows)), [6]));
        Array.from(got.toArray()).forEach((g, j) => expect(g, `round ${round}, ${rows} rows, entry ${j}`).toBeCloseTo(expected[k]![j]!, 3));
      }
    }
  });

  it('a linearization made inside tidy keeps the textures its replays read', () => {
    setBackend(name);
    const w = tensor(new Float32Array([0.1, -0.2, 0.3, 0.4, -0.5, 0.6]), [3, 2]);
    const x = tensor(new Float32Array([1, 2, 3, -1, 0.5, 0.25]), [2, 3]);
    const loss = (p: Tensor) => sum(tanh(matmul(x, p)));
    const u = tensor(new Float32Array([1, 0, 0, 1, 1, 1]), [3, 2]);
    const expected = Array.from(tidy(() => hvp(loss, w, u)).toArray());
    // the linear map outlives the scope that built it (as a Hessian operator's cache does)
    const hvpAt = tidy(() => linearize(grad(loss), w)[1]);
    const base = live();
    for (let i = 0; i < 20; i++) {
      const hv = tidy(() => hvpAt(u));
      Array.from(hv.toArray()).forEach((h, j) => expect(h).toBeCloseTo(expected[j]!, 4));
      (hv as { dispose?: () => void }).dispose?.();
    }
    expect(live()).toBe(base);
  });

  it('a Hessian or Gauss-Newton operator whose first product ran inside tidy keeps working', () => {
    setBackend(name);
    const x = tensor(new Float32Array([1, 2, 3, -1, 0.5, 0.25, 0, 1, -2]), [3, 3]);
    const labels = Int32Array.of(0, 1, 1);
    const params = { w: tensor(new Float32Array([0.1, -0.2, 0.3, 0.4, -0.5, 0.6]), [3, 2]) };
    const objective = {
      loss: (p: typeof params) => crossEntropy(tanh(matmul(x, p.w)), labels),
      output: (p: typeof params) => tanh(matmul(x, p.w)),
      lossOfOutput: (o: Tensor) => crossEntropy(o, labels),
      weightDecay: 0.01,
    };
    const v = Float64Array.of(1, 0, -1, 0.5, 2, 0.25);
    for (const gaussNewton of [false, true]) {
      const uncached = hessianOperator(objective, params, [null], { gaussNewton, cache: false }).apply(v);
      const H = hessianOperator(objective, params, [null], { gaussNewton });
      // float32 kernels (GLSL in headlessgl) need not repeat a product to the last bit
      const scale = Math.max(...Array.from(uncached, Math.abs));
      for (let i = 0; i < 5; i++) {
        const hv = tidy(() => H.apply(v));
        Array.from(hv).forEach((h, j) => expect(Math.abs(h - uncached[j]!) / scale, `${gaussNewton ? 'GGN' : 'Hessian'} product ${i}, entry ${j}`).toBeLessThan(1e-5));
      }
    }
  });

  it('tidy inside a differentiated function keeps what the backward pass needs', () => {
    setBackend(name);
    const x = tensor(new Float32Array([0.5, -1, 2]), [3]);
    // d/dx Σ tanh(x)² = 2·tanh(x)·(1 − tanh(x)²); the tanh output is made inside the tidy
    const f = (p: Tensor) => sum(tidy(() => mul(tanh(p), tanh(p))));
    const g = tidy(() => grad(f)(x));
    Array.from(g.toArray()).forEach((gi, i) => {
      const t = Math.tanh([0.5, -1, 2][i]!);
      expect(gi).toBeCloseTo(2 * t * (1 - t * t), 5);
    });
  });
});
