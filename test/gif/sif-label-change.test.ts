/**
 * SIF for a label change (edits.ts): the closed form with dense matrices, and exact retraining on
 * L2-regularised softmax regression (convex) as the oracle. There the Hessian of a change of label
 * is zero (softmax cross-entropy's curvature does not depend on the label), so SIF is the
 * first-order step; the removal formula applied to the change of loss (the heuristic this
 * replaced) lands twice as far from the relabelled optimum.
 */
import { describe, expect, it } from 'vitest';
import { Rng, hessian, sub, toVector, type Tensor } from '../../engine/index.js';
import { flatGradient, hessianOperator } from '../../influence/hessian.js';
import { denseOperator } from '../../influence/operator.js';
import { minimize } from '../../influence/retrain.js';
import { sifEdit } from '../../influence/gif/edits.js';
import { blobs, crossEntropy, dataset, linearInit, logisticObjective, range, type Batch, type Linear } from '../influence/fixtures.js';
import { matVec, relativeMaxError, solve } from './dense.js';

describe('SIF for a label change, on softmax regression', () => {
  const n = 80, wd = 0.02;
  const raw = blobs(n, 3, 3, 5, 1.3);
  const train = dataset(raw);
  const objective = logisticObjective(wd);
  const theta = minimize(objective, [linearInit(new Rng(0), 3, 3)], train.batch(range(n)), { method: 'newton', gradTol: 1e-12 }).params as [Linear];
  const thetaVec = toVector(theta);
  const P = thetaVec.length;
  // relabel the first m samples: label → label + 1 (mod 3)
  const m = 16, p = m / n;
  const group = range(m), kept = range(n).slice(m);
  const U = train.batch(group), retained = train.batch(kept);
  const newLabels = U.labels.map((y) => (y + 1) % 3);
  const change = (q: [Linear]): Tensor => sub(crossEntropy(objective.output!(q, U), U.labels), crossEntropy(objective.output!(q, U), newLabels));
  const trainedLoss = (q: [Linear]): Tensor => crossEntropy(objective.output!(q, U), U.labels);
  const times = (a: Float64Array, k: number) => a.map((v) => v * k);
  const HU = times(hessian(change, theta).matrix, m), HT = times(hessian(trainedLoss, theta).matrix, m);
  const gU = times(flatGradient(change, theta), m);
  const H = hessianOperator(objective, theta, [retained]);
  const problem = { H, targetHessian: denseOperator(HU, P), targetGradientSum: gU, n, m, weightDecay: wd };
  const tight = { tolerance: 1e-13, maxIterations: 500 };
  const sif = sifEdit({ ...problem, labelChange: { trainedHessian: denseOperator(HT, P) } }, tight).delta;

  // the full-data Hessian at θ*: mean loss over all n samples as trained, plus wd
  const Hfull = hessian((q: [Linear]) => objective.loss(q, train.batch(range(n))), theta).matrix;
  for (let i = 0; i < P; i++) Hfull[i * P + i]! += wd;

  it('equals (1/n)·H_f⁻¹g_U + (1/n²)·H_f⁻¹H_U H_f⁻¹g_U, H_f holding the samples as trained', () => {
    const v = solve(Hfull, gU, P);
    const w = solve(Hfull, matVec(HU, v, P, P), P);
    expect(relativeMaxError(sif, v.map((vi, i) => vi / n + w[i]! / (n * n)))).toBeLessThan(1e-8);
  });

  it('is the first-order step here (a linear model has no change-of-label curvature), twice as close to retraining as the removal formula', () => {
    const relabelled: Batch = { x: train.batch(range(n)).x, labels: Int32Array.from(range(n), (i) => (i < m ? newLabels[i]! : raw.labels[i]!)) };
    const exact = toVector(minimize(objective, theta, relabelled, { method: 'newton', gradTol: 1e-12 }).params).map((v, i) => v - thetaVec[i]!);
    const error = (d: Float64Array) => Math.hypot(...d.map((v, i) => v - exact[i]!)) / Math.hypot(...exact);
    const firstOrder = solve(Hfull, gU, P).map((v) => v / n);
    const removalFormula = sifEdit(problem, tight).delta; // Basu's removal coefficients, H_U of the change inside H_f
    console.log(`[sif] label change of ${m} of ${n} points: relative error vs retraining: SIF ${error(sif).toExponential(2)}, first order ${error(firstOrder).toExponential(2)}, removal formula ${error(removalFormula).toExponential(2)}`);
    expect(Math.max(...HU.map(Math.abs))).toBeLessThan(1e-12 * Math.max(...HT.map(Math.abs)));
    expect(relativeMaxError(sif, firstOrder)).toBeLessThan(1e-8);
    expect(error(sif)).toBeLessThan(0.6 * error(removalFormula));
    expect(p).toBeCloseTo(0.2, 12);
  });
});
