import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NonFiniteError, Rng, treeSize } from '../../engine/index.js';
import { IndefiniteError, SingularSystemError, SolverDivergedError } from '../../influence/errors.js';
import { hessianOperator } from '../../influence/hessian.js';
import { symmetricEigen, cholesky, choleskySolve, pearson, spearman, ranks } from '../../influence/linalg.js';
import { denseOperator } from '../../influence/operator.js';
import { cg, denseMatrix, exact, largestEigenvalue, lissa, solve } from '../../influence/solvers.js';
import { blobs, dataset, linearInit, mlpObjective, range, type Linear } from './fixtures.js';

function relErr(a: Float64Array, b: Float64Array): number {
  let d = 0, n = 0;
  for (let i = 0; i < a.length; i++) { d += (a[i]! - b[i]!) ** 2; n += b[i]! ** 2; }
  return Math.sqrt(d / n);
}

describe('linalg', () => {
  it('Cholesky solves and Jacobi diagonalises a random SPD matrix', () => {
    const rng = new Rng(2);
    const n = 6;
    const b = Float64Array.from({ length: n * n }, () => rng.normal());
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { for (let k = 0; k < n; k++) a[i * n + j] += b[i * n + k]! * b[j * n + k]!; if (i === j) a[i * n + j] += 0.5; }
    const rhs = Float64Array.from({ length: n }, () => rng.normal());
    const x = choleskySolve(cholesky(a, n)!, n, rhs);
    const ax = denseOperator(a, n).apply(x);
    expect(relErr(ax, rhs)).toBeLessThan(1e-12);
    const { values, vectors } = symmetricEigen(a, n);
    // A u_k = μ_k u_k for every eigenpair
    for (let k = 0; k < n; k++) {
      const u = Float64Array.from({ length: n }, (_, i) => vectors[i * n + k]!);
      const au = denseOperator(a, n).apply(u);
      expect(relErr(au, u.map((ui) => ui * values[k]!))).toBeLessThan(1e-10);
    }
    expect(cholesky(Float64Array.of(1, 2, 2, 1), 2)).toBeNull();
  });

  it('correlations: Pearson of a line is 1, Spearman of a monotone map is 1, ties get average ranks', () => {
    expect(pearson([1, 2, 3, 4], [3, 5, 7, 9])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3, 4], [-1, -2, -3, -4])).toBeCloseTo(-1, 12);
    expect(spearman([1, 2, 3, 4], [1, 8, 27, 64])).toBeCloseTo(1, 12);
    expect(Array.from(ranks([5, 1, 5, 2]))).toEqual([3.5, 1, 3.5, 2]);
    expect(() => pearson([1, 1], [1, 2])).toThrow(/constant/);
  });
});

describe('solvers on a small MLP', () => {
  const data = dataset(blobs(30, 3, 3, 11));
  const batches = [data.batch(range(15)), data.batch(range(15).map((i) => i + 15))];
  const rng = new Rng(4);
  const params: [Linear, Linear] = [linearInit(rng, 3, 4, 1.5), linearInit(rng, 4, 3, 1.5)];
  const obj = mlpObjective(0.01);
  const P = treeSize(params);
  const v = Float64Array.from({ length: P }, () => rng.normal());

  it('exact, cg and lissa agree on a damped Hessian (lissa on mini-batches within its noise)', () => {
    const H = hessianOperator(obj, params, batches);
    // this random-point MLP Hessian is indefinite: damp it just above −λ_min
    const damping = Math.max(0, -Math.min(...symmetricEigen(denseMatrix(H), P).values)) + 0.2;
    const ex = exact(H, v, { damping });
    expect(ex.relativeResidual).toBeLessThan(1e-10);
    expect(ex.hvps).toBe(P);
    const c = cg(H, v, { damping, tol: 1e-10 });
    expect(c.converged).toBe(true);
    expect(relErr(c.x, ex.x)).toBeLessThan(1e-8);
    expect(c.iterations).toBeLessThanOrEqual(P + 5);
    // full-batch LiSSA converges to the same answer to its tolerance
    const H1 = hessianOperator(obj, params, [data.batch(range(30))]);
    const lf = lissa(H1, v, { damping, depth: 5000, tol: 1e-8 });
    expect(relErr(lf.x, exact(H1, v, { damping }).x)).toBeLessThan(1e-6);
    // mini-batch LiSSA: unbiased but noisy; repeats average the noise down
    const ls = lissa(H, v, { damping, depth: 200, repeats: 16, seed: 1 });
    expect(relErr(ls.x, ex.x)).toBeLessThan(0.1);
    expect(ls.hvps).toBeGreaterThanOrEqual(16 * 200);
    for (const r of [ex, c, lf, ls]) expect(r.x.every(Number.isFinite)).toBe(true);
    expect(solve(H, v, { method: 'cg', damping, tol: 1e-10 }).x).toEqual(c.x);
  });

  it('on an indefinite Hessian without damping: lissa throws SolverDivergedError, cg IndefiniteError, exact still solves', () => {
    const H = hessianOperator(obj, params, [data.batch(range(30))]);
    const dense = denseMatrix(H);
    const minEig = Math.min(...symmetricEigen(dense, P).values);
    expect(minEig).toBeLessThan(0); // the fixture really is indefinite
    expect(() => lissa(H, v, { depth: 3000 })).toThrow(SolverDivergedError);
    expect(() => lissa(H, v, { depth: 3000 })).toThrow(NonFiniteError); // the engine's error family
    expect(() => cg(H, v)).toThrow(IndefiniteError);
    const ex = exact(H, v);
    expect(ex.relativeResidual).toBeLessThan(1e-8);
  });

  it('lissa with a scale below λ_max diverges and says so; a mini-batch run too', () => {
    const H = hessianOperator(obj, params, batches);
    const lmax = largestEigenvalue(H, 50, 0, 1);
    expect(() => lissa(H, v, { damping: 1, scale: lmax / 3, depth: 500 })).toThrow(/scale/);
  });
});

describe('solvers on dense operators', () => {
  it('exact uses an eigendecomposition when indefinite and refuses a singular matrix', () => {
    const op = denseOperator(Float64Array.of(2, 0, 0, -1), 2);
    const r = exact(op, Float64Array.of(2, 3));
    expect(Array.from(r.x)).toEqual([1, -3]);
    expect(() => exact(denseOperator(Float64Array.of(1, 1, 1, 1), 2), Float64Array.of(1, 0))).toThrow(SingularSystemError);
  });

  it('rejects a non-finite right-hand side and a wrong length', () => {
    const op = denseOperator(Float64Array.of(2, 0, 0, 1), 2);
    expect(() => cg(op, Float64Array.of(NaN, 1))).toThrow(NonFiniteError);
    expect(() => lissa(op, Float64Array.of(1, 1, 1))).toThrow(/entries/);
  });

  it('lissa on an SPD matrix converges to the inverse with an explicit scale; x = 0 for v = 0', () => {
    const op = denseOperator(Float64Array.of(3, 1, 1, 2), 2);
    const r = lissa(op, Float64Array.of(1, 0), { scale: 5, depth: 2000, tol: 1e-12 });
    expect(r.x[0]).toBeCloseTo(0.4, 10);
    expect(r.x[1]).toBeCloseTo(-0.2, 10);
    expect(r.converged).toBe(true);
    expect(Array.from(cg(op, new Float64Array(2)).x)).toEqual([0, 0]);
  });

  it('property: on random SPD matrices exact, cg and full-batch lissa agree', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 1_000_000 }), fc.double({ min: 0.05, max: 2, noNaN: true }), (n, seed, shift) => {
      const rng = new Rng(seed);
      const b = Float64Array.from({ length: n * n }, () => rng.normal());
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j] += (b[i * n + k]! * b[j * n + k]!) / n;
      const rhs = Float64Array.from({ length: n }, () => rng.normal());
      const op = denseOperator(a, n);
      const ex = exact(op, rhs, { damping: shift });
      const c = cg(op, rhs, { damping: shift, tol: 1e-12, maxIterations: 10 * n });
      const l = lissa(op, rhs, { damping: shift, tol: 1e-11, depth: 200_000 });
      expect(relErr(c.x, ex.x)).toBeLessThan(1e-8);
      expect(relErr(l.x, ex.x)).toBeLessThan(1e-8);
    }), { numRuns: 25 });
  });
});
