/**
 * Random shapes, alternately inside and outside `tidy`, against the CPU backend: the scenario of
 * the resize bug (a kernel reused at another size after tidy had freed its outputs gave silently
 * wrong results under headless WebGL), over every kind of kernel an HVP and a small CNN use.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Rng, add, conv2d, exp, hvp, matmul, maxPool2d, mul, setBackend, softmax, sum, tanh, tensor, type Tensor } from '../../engine/index.js';
import { tidy } from '../../engine/backends/gpu/index.js';
import { gpuBackendName, modesUnderTest, reportModes } from './modes.js';

reportModes('tidy-shapes.test.ts');

afterEach(() => setBackend('cpu'));

describe.each(modesUnderTest)('gpu.js %s under tidy with changing shapes', (mode) => {
  it('matches the cpu backend on 40 random shape combinations', () => {
    const rng = new Rng(11);
    for (let iter = 0; iter < 40; iter++) {
      const n = 1 + rng.int(5), k = 1 + rng.int(6), m = 1 + rng.int(4), c = 1 + rng.int(2), hw = 4 + rng.int(3);
      const data = (size: number, scale: number) => Float32Array.from({ length: size }, () => scale * rng.normal());
      const xs = data(n * k, 1), ws = data(k * m, 0.3), vs = data(k * m, 1), img = data(n * c * hw * hw, 1), filt = data(2 * c * 9, 0.3);
      const compute = (): number[] => {
        const x = tensor(xs, [n, k], 'float32'), w = tensor(ws, [k, m], 'float32'), v = tensor(vs, [k, m], 'float32');
        const loss = (p: Tensor) => sum(mul(softmax(tanh(matmul(x, p))), exp(mul(matmul(x, p), 0.1))));
        const image = tensor(img, [n, c, hw, hw], 'float32'), filters = tensor(filt, [2, c, 3, 3], 'float32');
        const pooled = sum(maxPool2d(tanh(conv2d(image, filters)), 2));
        return [...Array.from(hvp(loss, w, v).toArray()), ...Array.from(add(pooled, 0).toArray())];
      };
      setBackend('cpu');
      const want = compute();
      setBackend(gpuBackendName(mode));
      const got = iter % 2 === 0 ? tidy(() => compute()) : compute();
      setBackend('cpu');
      const scale = Math.max(1, ...want.map(Math.abs));
      const err = Math.max(...got.map((g, i) => Math.abs(g - want[i]!))) / scale;
      expect(err, `iteration ${iter}: n=${n} k=${k} m=${m} c=${c} hw=${hw}`).toBeLessThan(1e-4);
    }
  });
});
