/**
 * Finite-difference oracle for the nn tests: central differences of a scalar function of a
 * parameter tree, in float64, along every coordinate (small trees) or random directions.
 */
import { expect } from 'vitest';
import { fromVector, grad, toVector, type Rng, type Tensor, type Tree } from '../../engine/index.js';

/** ∂f/∂θ_i by central differences, for every coordinate of θ. */
export function finiteDifferenceGradient<T extends Tree>(f: (p: T) => Tensor, params: T, step = 1e-6): Float64Array {
  const theta = toVector(params);
  const out = new Float64Array(theta.length);
  for (let i = 0; i < theta.length; i++) {
    const plus = theta.slice(), minus = theta.slice();
    plus[i]! += step;
    minus[i]! -= step;
    out[i] = (f(fromVector(plus, params)).item() - f(fromVector(minus, params)).item()) / (2 * step);
  }
  return out;
}

/** Directional derivatives ⟨∇f, u⟩ for `directions` random unit-scale directions, vs the engine gradient. */
export function checkGradientAlongDirections<T extends Tree>(f: (p: T) => Tensor, params: T, rng: Rng, directions = 4, step = 1e-6, rtol = 1e-6): void {
  const theta = toVector(params);
  const g = toVector(grad(f)(params));
  for (let d = 0; d < directions; d++) {
    const u = Float64Array.from(theta, () => rng.normal());
    const fp = f(fromVector(theta.map((t, i) => t + step * u[i]!), params)).item();
    const fm = f(fromVector(theta.map((t, i) => t - step * u[i]!), params)).item();
    const fd = (fp - fm) / (2 * step);
    const exact = g.reduce((s, gi, i) => s + gi * u[i]!, 0);
    expect(Math.abs(fd - exact)).toBeLessThanOrEqual(rtol * Math.max(1, Math.abs(fd)));
  }
}

/** Every entry of `actual` within `rtol·max(1, max|expected|)` of `expected`. */
export function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let worst = 0, at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i]! - expected[i]!);
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  expect(worst, `largest error at index ${at}: ${actual[at]} vs ${expected[at]}`).toBeLessThanOrEqual(rtol * scale);
}
