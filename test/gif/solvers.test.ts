/**
 * GIF solvers and edits against dense linear algebra on a tiny float64 MLP whose Hessian is
 * built exactly (engine `hessian`, P = 31): GIF = (H_JᵀH_J)⁻¹H_Jᵀg, FIF = H_JJ⁻¹g_J,
 * PIF = [H⁻¹g]_J, IF = H⁻¹g, SIF = the closed form of SPEC §6, and the control GA = g_J.
 */
import { describe, expect, it } from 'vitest';
import {
  NonFiniteError, Rng, add, gather, hessian, logSoftmax, matmul, mean, neg, sub, tanh, toVector, transpose, type Tensor,
} from '../../engine/index.js';
import { hessianOperator, flatGradient, type Objective } from '../../influence/hessian.js';
import { denseOperator, operatorFromFunction } from '../../influence/operator.js';
import { applyEdit, fifEdit, gaEdit, gifEdit, ifEdit, pifEdit, sifEdit } from '../../influence/gif/edits.js';
import { selectParameters, type SelectableLayer } from '../../influence/gif/selection.js';
import { solveGifKrylov, solveGifRichardson } from '../../influence/gif/solvers.js';
import { pad, restrict } from '../../influence/gif/vectors.js';
import { columns, leastSquares, matVec, relativeMaxError, solve } from './dense.js';
import { symmetricEigen } from '../../influence/linalg.js';

type Params = [{ weight: Tensor; bias: Tensor }, { weight: Tensor; bias: Tensor }];
interface Batch { x: Tensor; labels: Int32Array }

// a 3-4-3 tanh MLP with PyTorch layouts (weight [out, in]); P = 12 + 4 + 12 + 3 = 31
const layout: SelectableLayer[] = [
  { layer: 0, kind: 'linear', weightOffset: 0, biasOffset: 12, units: 4, fanIn: 3 },
  { layer: 2, kind: 'linear', weightOffset: 16, biasOffset: 28, units: 3, fanIn: 4 },
];
const logits = (p: Params, x: Tensor): Tensor => {
  const h = tanh(add(matmul(x, transpose(p[0].weight)), p[0].bias));
  return add(matmul(h, transpose(p[1].weight)), p[1].bias);
};
const meanCe = (p: Params, b: Batch): Tensor => neg(mean(gather(logSoftmax(logits(p, b.x)), b.labels)));

function problem(seed: number, weightDecay: number) {
  const rng = new Rng(seed);
  const params: Params = [
    { weight: rng.normalTensor([4, 3], 0, 0.8), bias: rng.normalTensor([4], 0, 0.3) },
    { weight: rng.normalTensor([3, 4], 0, 0.8), bias: rng.normalTensor([3], 0, 0.3) },
  ];
  const retained: Batch = { x: rng.normalTensor([24, 3]), labels: Int32Array.from({ length: 24 }, (_, i) => i % 3) };
  const target: Batch = { x: rng.normalTensor([6, 3]), labels: Int32Array.from({ length: 6 }, () => 1) };
  const objective: Objective<Params, Batch> = { loss: meanCe, weightDecay };
  const H = hessianOperator(objective, params, [retained]);
  const P = H.size;
  // dense H of the same objective: mean loss + (wd/2)‖θ‖²
  const dense = hessian((p: Params) => meanCe(p, retained), params).matrix;
  for (let i = 0; i < P; i++) dense[i * P + i]! += weightDecay;
  // g = m/(n−m) · mean target gradient (SPEC §4)
  const m = 6, n = 30;
  const g = flatGradient((p: Params) => meanCe(p, target), params).map((v) => (v * m) / (n - m));
  return { params, retained, target, objective, H, P, dense, g, m, n };
}

describe('GIF solvers against the dense least-squares solution', () => {
  const { H, P, dense, g } = problem(1, 1e-2);
  const J = selectParameters(layout, null, 0.4, { order: 'random', seed: 3 }).indices;
  const exact = leastSquares(columns(dense, P, J), g, P, J.length);

  it('the Hessian operator matches the dense Hessian (sanity of the oracle)', () => {
    const v = Float64Array.from({ length: P }, (_, i) => Math.sin(i + 1));
    expect(relativeMaxError(H.apply(v), matVec(dense, v, P, P))).toBeLessThan(1e-12);
  });

  it('CGLS reaches (H_JᵀH_J)⁻¹H_Jᵀg within 1e-8', () => {
    const { x, diagnostics } = solveGifKrylov(H, J, g, { tolerance: 1e-13, maxIterations: 500 });
    expect(relativeMaxError(x, exact)).toBeLessThan(1e-8);
    expect(diagnostics.converged).toBe(true);
    // two HVPs per iteration plus one for Mᵀg
    expect(diagnostics.hvps).toBe(2 * diagnostics.iterations + 1);
  });

  it('the convergent Richardson solver reaches it within 1e-8 and reports its diagnostics', () => {
    // the dense operator of the same H (checked above): Richardson needs many cheap products
    const { x, diagnostics } = solveGifRichardson(denseOperator(dense, P), J, g, { tolerance: 1e-14, maxIterations: 200_000 });
    expect(relativeMaxError(x, exact)).toBeLessThan(1e-8);
    expect(diagnostics.converged).toBe(true);
    expect(diagnostics.restarts).toBe(0);
    expect(diagnostics.stepSize).toBeGreaterThan(0);
    // b costs 1 HVP, each power step and each iteration 2, the final fit residual 1
    expect(diagnostics.hvps).toBe(1 + 2 * 20 + 2 * diagnostics.iterations + 1);
    expect(diagnostics.history[0]).toBe(1);
  });

  it('the GIF edit is zero outside J and satisfies the normal equations H_Jᵀ(H Δθ − g) = 0', () => {
    const edit = gifEdit(H, J, g, { solver: 'cgls', tolerance: 1e-13, maxIterations: 500 });
    const inJ = new Set(J);
    edit.delta.forEach((d, i) => { if (!inJ.has(i)) expect(d).toBe(0); });
    const r = matVec(dense, edit.delta, P, P).map((v, i) => v - g[i]!);
    const normal = restrict(matVec(dense, r, P, P), J);
    expect(Math.max(...normal.map(Math.abs))).toBeLessThan(1e-10 * Math.max(...g.map(Math.abs)));
  });

  it('applyEdit adds Δθ (or a normalised step of a given length) to a copy of the parameters', () => {
    const { params } = problem(1, 1e-2);
    const before = toVector(params);
    const delta = Float64Array.from({ length: P }, (_, i) => (i === 4 ? 3 : i === 9 ? -4 : 0));
    const plain = toVector(applyEdit(params, delta));
    const stepped = toVector(applyEdit(params, delta, 10));
    expect(toVector(params)).toEqual(before); // the original is untouched
    expect(plain[4]! - before[4]!).toBeCloseTo(3, 12);
    expect(stepped[4]! - before[4]!).toBeCloseTo(6, 12); // 10·(3, −4)/5
    expect(stepped[9]! - before[9]!).toBeCloseTo(-8, 12);
    expect(() => applyEdit(params, new Float64Array(3))).toThrow(/3 entries/);
  });

  it('with J = all parameters GIF is the IF H⁻¹g', () => {
    const all = Int32Array.from({ length: P }, (_, i) => i);
    const { x } = solveGifKrylov(H, all, g, { tolerance: 1e-13, maxIterations: 500 });
    expect(relativeMaxError(x, solve(dense, g, P))).toBeLessThan(1e-8);
  });
});

describe('baselines equal their closed forms', () => {
  const { H, P, dense, g } = problem(2, 1e-2);
  const J = selectParameters(layout, null, 0.3, { order: 'random', seed: 5 }).indices;
  const ifExact = solve(dense, g, P);

  it('IF = H⁻¹g', () => {
    expect(relativeMaxError(ifEdit(H, g, { tolerance: 1e-13, maxIterations: 500 }).delta, ifExact)).toBeLessThan(1e-8);
  });
  it('PIF = [H⁻¹g]_J, zero elsewhere', () => {
    const pif = pifEdit(H, J, g, { tolerance: 1e-13, maxIterations: 500 });
    expect(relativeMaxError(pif.delta, pad(restrict(ifExact, J), J, P))).toBeLessThan(1e-8);
  });
  it('FIF = H_JJ⁻¹ g_J, zero elsewhere', () => {
    const k = J.length;
    const HJJ = new Float64Array(k * k);
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) HJJ[a * k + b] = dense[J[a]! * P + J[b]!]!;
    const fif = fifEdit(H, J, g, { tolerance: 1e-13, maxIterations: 500 });
    expect(relativeMaxError(fif.delta, pad(solve(HJJ, restrict(g, J), k), J, P))).toBeLessThan(1e-8);
  });
  it('GA = g_J, zero elsewhere, with no HVP and no solver diagnostics', () => {
    const h0 = H.hvps;
    const ga = gaEdit(J, g);
    expect(ga.method).toBe('GA');
    expect(Array.from(ga.delta)).toEqual(Array.from(pad(restrict(g, J), J, P)));
    expect(ga.hvps).toBe(0);
    expect(H.hvps).toBe(h0);
    expect(ga.diagnostics).toBeUndefined();
    // it is not the GIF direction: the Hessian changes the edit here
    expect(relativeMaxError(ga.delta, gifEdit(H, J, g, { solver: 'cgls', tolerance: 1e-12, maxIterations: 500 }).delta)).toBeGreaterThan(1e-3);
  });
  it('GA rejects a bad selection and a non-finite gradient', () => {
    expect(() => gaEdit(Int32Array.of(2, 1), g)).toThrow(/strictly increasing/);
    expect(() => gaEdit(Int32Array.of(P), g)).toThrow(/outside/);
    expect(() => gaEdit(J, g.map((v, i) => (i === J[0] ? Number.NaN : v)))).toThrow(NonFiniteError);
  });
  it('GIF, FIF and PIF differ (the nuisance parameters matter here)', () => {
    const gif = gifEdit(H, J, g, { solver: 'cgls', tolerance: 1e-12, maxIterations: 500 }).delta;
    const fif = fifEdit(H, J, g, { tolerance: 1e-12, maxIterations: 500 }).delta;
    expect(relativeMaxError(gif, fif)).toBeGreaterThan(1e-3);
  });
  it('SIF = (1−2p)/((1−p)²n)·H_f⁻¹g_U + 1/((1−p)²n²)·H_f⁻¹H_U H_f⁻¹g_U with H_f the full-data Hessian', () => {
    const { params, target, objective, m, n } = problem(2, 1e-2);
    const wd = objective.weightDecay!;
    const meanTarget = (p: Params): Tensor => meanCe(p, target);
    const HUdense = hessian(meanTarget, params).matrix.map((v) => v * m); // Hessian of the summed target loss
    const gU = flatGradient(meanTarget, params).map((v) => v * m);
    const p = m / n;
    const Hf = dense.map((v, i) => (1 - p) * v + HUdense[i]! / n + (i % (P + 1) === 0 ? p * wd : 0));
    const v = solve(Hf, gU, P);
    const w = solve(Hf, matVec(HUdense, v, P, P), P);
    const expected = v.map((vi, i) => ((1 - 2 * p) / ((1 - p) ** 2 * n)) * vi + w[i]! / ((1 - p) ** 2 * n * n));
    const targetHessian = denseOperator(HUdense, P);
    const sif = sifEdit({ H, targetHessian, targetGradientSum: gU, n, m, weightDecay: wd }, { tolerance: 1e-13, maxIterations: 500 });
    expect(relativeMaxError(sif.delta, expected)).toBeLessThan(1e-8);
    // as p → 0 with one point, the first term is the plain IF; here it is a different vector
    expect(relativeMaxError(sif.delta, solve(dense, g, P))).toBeGreaterThan(1e-4);
  });
  it('SIF for a label change = (1/n)·H_f⁻¹g_U + (1/n²)·H_f⁻¹H_U H_f⁻¹g_U, H_U and g_U of the change, H_f with the samples as trained', () => {
    const { params, target, objective, m, n } = problem(2, 1e-2);
    const wd = objective.weightDecay!;
    const relabelled: Batch = { x: target.x, labels: target.labels.map(() => 2) };
    const change = (p: Params): Tensor => sub(meanCe(p, target), meanCe(p, relabelled));
    const HUdense = hessian(change, params).matrix.map((v) => v * m);
    const HTdense = hessian((p: Params) => meanCe(p, target), params).matrix.map((v) => v * m);
    const gU = flatGradient(change, params).map((v) => v * m);
    const p = m / n;
    const Hf = dense.map((v, i) => (1 - p) * v + HTdense[i]! / n + (i % (P + 1) === 0 ? p * wd : 0));
    const v = solve(Hf, gU, P);
    const w = solve(Hf, matVec(HUdense, v, P, P), P);
    const sif = sifEdit({ H, targetHessian: denseOperator(HUdense, P), targetGradientSum: gU, n, m, weightDecay: wd, labelChange: { trainedHessian: denseOperator(HTdense, P) } }, { tolerance: 1e-13, maxIterations: 500 });
    expect(relativeMaxError(sif.delta, v.map((vi, i) => vi / n + w[i]! / (n * n)))).toBeLessThan(1e-8);
    // the network's change-of-label curvature is not zero, so the second term matters here
    expect(relativeMaxError(sif.delta, v.map((vi) => vi / n))).toBeGreaterThan(1e-4);
    expect(sif.hvps).toBeGreaterThan(0);
  });
});

describe('both GIF solvers converge on an indefinite Hessian', () => {
  // an untrained MLP without weight decay: its Hessian has eigenvalues of both signs
  const { H, P, dense, g } = problem(7, 0);
  const eig = Array.from(symmetricEigen(dense, P).values).sort((a, b) => a - b);
  const J = selectParameters(layout, null, 0.5, { order: 'random', seed: 11 }).indices;
  const exact = leastSquares(columns(dense, P, J), g, P, J.length);

  it('the Hessian really is indefinite', () => {
    expect(eig[0]!).toBeLessThan(-1e-3 * eig[P - 1]!);
    expect(eig[P - 1]!).toBeGreaterThan(0);
  });
  it('Richardson on P H² P converges to the least-squares solution', () => {
    const { x, diagnostics } = solveGifRichardson(denseOperator(dense, P), J, g, { tolerance: 1e-12, maxIterations: 400_000 });
    expect(diagnostics.converged).toBe(true);
    expect(relativeMaxError(x, exact)).toBeLessThan(1e-6);
  });
  it('CGLS converges to the same solution', () => {
    const { x, diagnostics } = solveGifKrylov(H, J, g, { tolerance: 1e-12, maxIterations: 2000 });
    expect(diagnostics.converged).toBe(true);
    expect(relativeMaxError(x, exact)).toBeLessThan(1e-6);
  });
  it('on a dense indefinite matrix with eigenvalues −5…5 both agree with the dense solution', () => {
    const n = 12, rng = new Rng(4);
    // Q diag(λ) Qᵀ with Q from Gram–Schmidt of a random matrix
    const Q: number[][] = [];
    for (let i = 0; i < n; i++) {
      let v = Array.from({ length: n }, () => rng.normal());
      for (const q of Q) { const d = v.reduce((s, vi, k) => s + vi * q[k]!, 0); v = v.map((vi, k) => vi - d * q[k]!); }
      const nv = Math.hypot(...v);
      Q.push(v.map((vi) => vi / nv));
    }
    const lambda = Array.from({ length: n }, (_, i) => -5 + (10 * i) / (n - 1) + 0.05);
    const A = new Float64Array(n * n);
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) A[a * n + b] = Q.reduce((s, q, k) => s + lambda[k]! * q[a]! * q[b]!, 0);
    const op = denseOperator(A, n);
    const Jd = Int32Array.of(0, 2, 3, 5, 8, 9, 11);
    const gd = Float64Array.from({ length: n }, () => rng.normal());
    const ref = leastSquares(columns(A, n, Jd), gd, n, Jd.length);
    const rich = solveGifRichardson(op, Jd, gd, { tolerance: 1e-13, maxIterations: 100_000 });
    const cgls = solveGifKrylov(op, Jd, gd, { tolerance: 1e-13, maxIterations: 200 });
    expect(relativeMaxError(rich.x, ref)).toBeLessThan(1e-9);
    expect(relativeMaxError(cgls.x, ref)).toBeLessThan(1e-9);
    expect(cgls.diagnostics.hvps).toBeLessThan(rich.diagnostics.hvps);
  });
});

describe('Richardson safeguards', () => {
  const { H, P, dense, g } = problem(1, 1e-2);
  const J = selectParameters(layout, null, 0.4, { order: 'random', seed: 3 }).indices;
  const exact = leastSquares(columns(dense, P, J), g, P, J.length);

  it('a step size too large for λ_max is detected and halved until it converges', () => {
    // one power step underestimates λ_max and safety 1.99 then overshoots 2/λ_max
    const { x, diagnostics } = solveGifRichardson(denseOperator(dense, P), J, g, { tolerance: 1e-12, maxIterations: 200_000, powerIterations: 1, safety: 1.99, seed: 9 });
    expect(diagnostics.restarts).toBeGreaterThan(0);
    expect(diagnostics.converged).toBe(true);
    expect(relativeMaxError(x, exact)).toBeLessThan(1e-6);
  });
  it('an iteration cut short returns its best iterate and says it did not converge', () => {
    const { diagnostics } = solveGifRichardson(H, J, g, { tolerance: 1e-14, maxIterations: 5 });
    expect(diagnostics.converged).toBe(false);
    expect(diagnostics.relativeResidual).toBe(Math.min(...diagnostics.history));
    expect(diagnostics.relativeResidual).toBeLessThan(1);
  });
  it('a non-finite Hessian product is a NonFiniteError, not NaN', () => {
    const bad = operatorFromFunction(P, (v) => v.map((x, i) => (i === J[0] ? Number.NaN : x)));
    expect(() => solveGifRichardson(bad, J, g)).toThrow(NonFiniteError);
    expect(() => solveGifKrylov(bad, J, g)).toThrow(NonFiniteError);
  });
  it('a zero right-hand side gives a zero edit without iterating', () => {
    const zero = new Float64Array(P);
    expect(Array.from(solveGifRichardson(H, J, zero).x).every((v) => v === 0)).toBe(true);
    expect(Array.from(solveGifKrylov(H, J, zero).x).every((v) => v === 0)).toBe(true);
  });
});
