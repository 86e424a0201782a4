import { describe, expect, it } from 'vitest';
import { Rng, fromVector, hessian, jvp, toVector, treeSize, type Tensor } from '../../engine/index.js';
import {
  GradientMatrix, flatGradient, hessianOperator, objectiveGradient, perSampleGradients,
} from '../../influence/hessian.js';
import { blobs, dataset, linearInit, logisticObjective, mlpObjective, range, type Linear } from './fixtures.js';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function denseMatVec(m: Float64Array, v: Float64Array): Float64Array {
  const n = v.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i] += m[i * n + j]! * v[j]!;
  return out;
}

describe('hessianOperator', () => {
  const data = dataset(blobs(24, 3, 3, 1));
  const all = data.batch(range(24));
  const rng = new Rng(3);
  const mlp: [Linear, Linear] = [linearInit(rng, 3, 4, 1.5), linearInit(rng, 4, 3, 1.5)];
  const mlpObj = mlpObjective(0.01);
  const P = treeSize(mlp);
  const dense = hessian((p: [Linear, Linear]) => mlpObj.loss(p, all), mlp).matrix;

  it('matches the dense Hessian of the mean loss, plus weight decay and damping', () => {
    const H = hessianOperator(mlpObj, mlp, [all], { damping: 0.3 });
    const v = Float64Array.from({ length: P }, () => rng.normal());
    const expected = denseMatVec(dense, v).map((x, i) => x + (0.01 + 0.3) * v[i]!);
    expect(maxAbsDiff(H.apply(v), expected)).toBeLessThan(1e-10);
    expect(H.hvps).toBe(1);
  });

  it('averages equal mini-batches to the full-batch Hessian; applyBatch applies one', () => {
    const halves = [data.batch(range(12)), data.batch(range(12).map((i) => i + 12))];
    const H = hessianOperator(mlpObj, mlp, halves);
    const v = Float64Array.from({ length: P }, () => rng.normal());
    const expected = denseMatVec(dense, v).map((x, i) => x + 0.01 * v[i]!);
    expect(maxAbsDiff(H.apply(v), expected)).toBeLessThan(1e-10);
    const h0 = hessian((p: [Linear, Linear]) => mlpObj.loss(p, halves[0]!), mlp).matrix;
    expect(maxAbsDiff(H.applyBatch(v, 0), denseMatVec(h0, v).map((x, i) => x + 0.01 * v[i]!))).toBeLessThan(1e-10);
    expect(H.hvps).toBe(2);
  });

  it('gives the same products with and without the cached linearization, however often applied', () => {
    const halves = [data.batch(range(12)), data.batch(range(12).map((i) => i + 12))];
    const cached = hessianOperator(mlpObj, mlp, halves, { damping: 0.1 });
    const fresh = hessianOperator(mlpObj, mlp, halves, { damping: 0.1, cache: false });
    for (let k = 0; k < 3; k++) {
      const v = Float64Array.from({ length: P }, () => rng.normal());
      expect(Array.from(cached.apply(v))).toEqual(Array.from(fresh.apply(v)));
      expect(Array.from(cached.applyBatch(v, 1))).toEqual(Array.from(fresh.applyBatch(v, 1)));
      const expected = denseMatVec(dense, v).map((x, i) => x + (0.01 + 0.1) * v[i]!);
      expect(maxAbsDiff(cached.apply(v), expected)).toBeLessThan(1e-10);
    }
  });

  it('restricted to a subset J computes the block H_JJ', () => {
    const J = [1, 5, 7, P - 1];
    const H = hessianOperator(mlpObj, mlp, [all], { subset: J });
    const x = Float64Array.of(0.3, -1, 2, 0.5);
    const expected = J.map((r) => J.reduce((s, c, k) => s + dense[r * P + c]! * x[k]!, 0) + 0.01 * x[J.indexOf(r)]!);
    expect(H.size).toBe(4);
    expect(maxAbsDiff(H.apply(x), expected)).toBeLessThan(1e-10);
    expect(() => hessianOperator(mlpObj, mlp, [all], { subset: [0, 0] })).toThrow(/twice/);
    expect(() => hessianOperator(mlpObj, mlp, [all], { subset: [P] })).toThrow(/outside/);
  });

  it('Gauss-Newton equals Jᵀ H_out J built densely, is PSD, and equals H for a linear model', () => {
    const G = hessianOperator(mlpObj, mlp, [all], { gaussNewton: true });
    // dense J (outputs × P) column by column with jvp, dense H_out of the loss in output space
    const out = mlpObj.output!(mlp, all);
    const O = out.size;
    const J = new Float64Array(O * P);
    for (let c = 0; c < P; c++) {
      const e = new Float64Array(P); e[c] = 1;
      const [, jc] = jvp((p: [Linear, Linear]) => mlpObj.output!(p, all), mlp, fromVector(e, mlp));
      const col = jc.toArray();
      for (let r = 0; r < O; r++) J[r * P + c] = col[r]!;
    }
    const Hout = hessian((o: Tensor) => mlpObj.lossOfOutput!(o, all), out).matrix;
    const v = Float64Array.from({ length: P }, () => rng.normal());
    const Jv = new Float64Array(O);
    for (let r = 0; r < O; r++) for (let c = 0; c < P; c++) Jv[r] += J[r * P + c]! * v[c]!;
    const HJv = denseMatVec(Hout, Jv);
    const expected = new Float64Array(P);
    for (let c = 0; c < P; c++) { for (let r = 0; r < O; r++) expected[c] += J[r * P + c]! * HJv[r]!; expected[c] += 0.01 * v[c]!; }
    const got = G.apply(v);
    expect(maxAbsDiff(got, expected)).toBeLessThan(1e-10);
    let vGv = 0; for (let i = 0; i < P; i++) vGv += v[i]! * got[i]!;
    expect(vGv).toBeGreaterThan(0);
    // softmax regression: the output is linear in θ, so GGN = H
    const lr = logisticObjective(0);
    const lp: [Linear] = [linearInit(rng, 3, 3)];
    const w = Float64Array.from({ length: treeSize(lp) }, () => rng.normal());
    const a = hessianOperator(lr, lp, [all]).apply(w), b = hessianOperator(lr, lp, [all], { gaussNewton: true }).apply(w);
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-12);
  });

  it('rejects GGN without a split objective, bad damping and wrong vector sizes', () => {
    expect(() => hessianOperator({ loss: mlpObj.loss }, mlp, [all], { gaussNewton: true })).toThrow(/split/);
    expect(() => hessianOperator(mlpObj, mlp, [all], { damping: -1 })).toThrow(/damping/);
    expect(() => hessianOperator(mlpObj, mlp, [all]).apply(new Float64Array(3))).toThrow(/entries/);
  });
});

describe('gradients', () => {
  const data = dataset(blobs(10, 2, 2, 5));
  const obj = logisticObjective(0.1);
  const params: [Linear] = [linearInit(new Rng(1), 2, 2)];

  it('per-sample gradients average to the batch gradient; objectiveGradient adds wd·θ', () => {
    const G = perSampleGradients(obj, params, data, range(10));
    expect(G).toBeInstanceOf(GradientMatrix);
    const mean = G.sumRows(range(10)).map((x) => x / 10);
    const batchGrad = flatGradient((p: [Linear]) => obj.loss(p, data.batch(range(10))), params);
    expect(maxAbsDiff(mean, batchGrad)).toBeLessThan(1e-12);
    const theta = toVector(params);
    const full = objectiveGradient(obj, params, data.batch(range(10)));
    expect(maxAbsDiff(full, batchGrad.map((g, i) => g + 0.1 * theta[i]!))).toBeLessThan(1e-12);
    const v = Float64Array.from({ length: G.cols }, (_, i) => i - 2);
    expect(G.dot(v)[3]).toBeCloseTo(G.row(3).reduce((s, g, i) => s + g * v[i]!, 0), 12);
    expect(() => perSampleGradients(obj, params, data, [10])).toThrow(/outside/);
    // with weight decay each row is the gradient of the point's term ℓ_i + (wd/2)‖θ‖²: rows average to ∇L
    const Gw = perSampleGradients(obj, params, data, range(10), { withWeightDecay: true, float32: true });
    expect(maxAbsDiff(Gw.sumRows(range(10)).map((x) => x / 10), full)).toBeLessThan(1e-6);
  });
});
