/**
 * Ground truth for influence estimates: retrain without a group and measure the test loss.
 *
 * Retraining uses a deterministic full-batch optimiser run to a tight gradient tolerance
 * (L-BFGS, or Newton's method for small models), so on a convex model "retrained" really is
 * the optimum of `mean ℓ + (wd/2)‖θ‖²` over the kept points — the quantity influence functions
 * approximate. Warm starts begin at θ*; from-scratch runs at given initial parameters.
 */
import { Rng, ValueError, fromVector, toVector, valueAndGrad, type Tensor, type Tree } from '../engine/index.js';
import { assertFinite, hessianOperator, type Dataset, type Objective } from './hessian.js';
import { dot, norm, pearson, spearman } from './linalg.js';
import { factorize } from './solvers.js';
import type { Influence } from './influence.js';

/** Options of {@link minimize}. */
export interface MinimizeOptions {
  method?: 'lbfgs' | 'newton';
  /** Stop when ‖∇L‖∞ ≤ gradTol (1e-9 by default). */
  gradTol?: number;
  maxIterations?: number;
  /** L-BFGS memory (20). */
  memory?: number;
}

/** The optimum found and how it was reached. */
export interface MinimizeResult<P> {
  params: P;
  loss: number;
  gradNorm: number;
  iterations: number;
  converged: boolean;
}

/**
 * Minimises `objective.loss(θ, batch) + (wd/2)‖θ‖²` over θ from `init`, full batch,
 * deterministically. L-BFGS with a backtracking (Armijo) line search, or damped Newton with the
 * dense Hessian (small models only).
 * @example minimize(objective, init, train.batch(keep), { gradTol: 1e-10 })
 */
export function minimize<P extends Tree, B>(objective: Objective<P, B>, init: P, batch: B, options: MinimizeOptions = {}): MinimizeResult<P> {
  const wd = objective.weightDecay ?? 0;
  const gradTol = options.gradTol ?? 1e-9;
  const method = options.method ?? 'lbfgs';
  const maxIterations = options.maxIterations ?? (method === 'newton' ? 100 : 5000);
  const memory = options.memory ?? 20;
  const vg = valueAndGrad((p: P) => objective.loss(p, batch));
  const evaluate = (theta: Float64Array): { f: number; g: Float64Array } => {
    const [value, gTree] = vg(fromVector(theta, init));
    const g = toVector(gTree);
    let f = (value as Tensor).item();
    if (wd !== 0) {
      f += (wd / 2) * dot(theta, theta);
      for (let i = 0; i < g.length; i++) g[i] = g[i]! + wd * theta[i]!;
    }
    return { f, g };
  };
  const infNorm = (g: Float64Array): number => g.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

  let theta = toVector(init);
  let { f, g } = evaluate(theta);
  if (!Number.isFinite(f)) throw new ValueError(`minimize: the objective is ${f} at the starting point`);
  const ss: Float64Array[] = [], ys: Float64Array[] = [];
  let iterations = 0, stalled = 0;
  while (infNorm(g) > gradTol && iterations < maxIterations) {
    let direction: Float64Array;
    if (method === 'newton') {
      const H = hessianOperator(objective, fromVector(theta, init), [batch]);
      direction = factorize(H).solve(g).map((x) => -x);
    } else {
      // two-loop recursion: direction = −H_k g
      const q = Float64Array.from(g);
      const alphas: number[] = [];
      for (let k = ss.length - 1; k >= 0; k--) {
        const a = dot(ss[k]!, q) / dot(ys[k]!, ss[k]!);
        alphas[k] = a;
        for (let i = 0; i < q.length; i++) q[i] = q[i]! - a * ys[k]![i]!;
      }
      const gamma = ss.length > 0 ? dot(ss[ss.length - 1]!, ys[ys.length - 1]!) / dot(ys[ys.length - 1]!, ys[ys.length - 1]!) : 1 / Math.max(norm(g), 1);
      for (let i = 0; i < q.length; i++) q[i] = q[i]! * gamma;
      for (let k = 0; k < ss.length; k++) {
        const b = dot(ys[k]!, q) / dot(ys[k]!, ss[k]!);
        for (let i = 0; i < q.length; i++) q[i] = q[i]! + ss[k]![i]! * (alphas[k]! - b);
      }
      direction = q.map((x) => -x);
    }
    let slope = dot(g, direction);
    if (!(slope < 0)) {
      // not a descent direction (an indefinite Newton step, a stale memory): fall back to −g
      direction = g.map((x) => -x);
      slope = -dot(g, g);
      ss.length = 0; ys.length = 0;
    }
    let step = 1;
    let next = theta, trial = { f, g };
    for (let tries = 0; ; tries++) {
      next = theta.map((t, i) => t + step * direction[i]!);
      trial = evaluate(next);
      if (Number.isFinite(trial.f) && trial.f <= f + 1e-4 * step * slope) break;
      if (tries >= 60) {
        // no decrease representable in float64: we are at the optimum to machine precision
        return { params: fromVector(theta, init), loss: f, gradNorm: infNorm(g), iterations, converged: infNorm(g) <= gradTol * 100 };
      }
      step /= 2;
    }
    const s = next.map((t, i) => t - theta[i]!);
    const y = trial.g.map((gi, i) => gi - g[i]!);
    if (dot(s, y) > 1e-16 * dot(y, y)) {
      ss.push(s); ys.push(y);
      if (ss.length > memory) { ss.shift(); ys.shift(); }
    }
    // f no longer decreases in float64: more steps cannot help (the gradient is then at its noise floor)
    stalled = f - trial.f <= 1e-15 * Math.abs(f) ? stalled + 1 : 0;
    theta = next; f = trial.f; g = trial.g;
    iterations++;
    if (stalled >= 10) break;
  }
  assertFinite('minimize: parameters', theta);
  return { params: fromVector(theta, init), loss: f, gradNorm: infNorm(g), iterations, converged: infNorm(g) <= gradTol };
}

/** The indices 0..n−1 not in `group`. @example complement(5, [1, 3]) // [0, 2, 4] */
export function complement(n: number, group: ArrayLike<number>): number[] {
  const drop = new Set<number>(Array.from(group));
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (!drop.has(i)) out.push(i);
  return out;
}

/** One retraining without a group. */
export interface RetrainResult<P> {
  params: P;
  /** ℓ_test(θ_retrained) − ℓ_test(θ*). */
  testLossChange: number;
  /** ‖θ_retrained − θ*‖. */
  distance: number;
  iterations: number;
  converged: boolean;
}

/**
 * Leave-group-out retraining: minimises the objective over the training points not in `group`,
 * from `start` (θ* for a warm start, fresh initial parameters for "from scratch"), and returns
 * the change of the test loss.
 * @example retrainWithout(objective, train, [3, 8], thetaStar, thetaStar, testBatch)
 */
export function retrainWithout<P extends Tree, B>(
  objective: Objective<P, B>, train: Dataset<B>, group: ArrayLike<number>, start: P, thetaStar: P, test: B,
  options: MinimizeOptions = {},
): RetrainResult<P> {
  const keep = complement(train.size, group);
  if (keep.length === 0) throw new ValueError('retrainWithout: the group is the whole training set');
  const r = minimize(objective, start, train.batch(keep), options);
  const before = objective.loss(thetaStar, test).item();
  const after = objective.loss(r.params, test).item();
  const a = toVector(r.params), b = toVector(thetaStar);
  return { params: r.params, testLossChange: after - before, distance: norm(a.map((x, i) => x - b[i]!)), iterations: r.iterations, converged: r.converged };
}

/** One group of the correlation report. */
export interface GroupRow {
  size: number;
  firstOrder: number;
  secondOrder: number;
  /** Warm-started retraining from θ*. */
  actualWarm: number;
  /** Retraining from `scratchInit` (absent when not requested). */
  actualScratch?: number;
  /** ‖θ_warm − θ*‖. */
  distance: number;
  converged: boolean;
}

/** Correlations of predictions with retraining over many groups. */
export interface CorrelationReport {
  rows: GroupRow[];
  firstOrder: { pearson: number; spearman: number; meanAbsError: number };
  secondOrder: { pearson: number; spearman: number; meanAbsError: number };
  /** Warm vs from-scratch retraining (how much the "truth" itself depends on the start). */
  scratchVsWarm?: { pearson: number; spearman: number };
}

/**
 * For each group: the first- and second-order predicted test-loss change and the change after
 * leave-group-out retraining (warm from θ*, and from scratch when `scratchInit` is given), then
 * Pearson and Spearman correlation and mean absolute error of each predictor against retraining.
 * @example groupRemovalReport(inf, groups, testBatch, 'test', { scratchInit })
 */
export function groupRemovalReport<P extends Tree, B>(
  influence: Influence<P, B>, groups: readonly (readonly number[])[], test: B, testKey: string,
  options: MinimizeOptions & { scratchInit?: P; onProgress?: (done: number, total: number) => void } = {},
): CorrelationReport {
  if (groups.length < 3) throw new ValueError(`groupRemovalReport: needs at least 3 groups for a correlation, got ${groups.length}`);
  const rows: GroupRow[] = groups.map((group, k) => {
    const est = influence.secondOrderGroupInfluence(group, test, testKey);
    const warm = retrainWithout(influence.objective, influence.train, group, influence.params, influence.params, test, options);
    const row: GroupRow = { size: group.length, firstOrder: est.firstOrder, secondOrder: est.secondOrder, actualWarm: warm.testLossChange, distance: warm.distance, converged: warm.converged };
    if (options.scratchInit !== undefined) {
      const scratch = retrainWithout(influence.objective, influence.train, group, options.scratchInit, influence.params, test, options);
      row.actualScratch = scratch.testLossChange;
      row.converged = row.converged && scratch.converged;
    }
    options.onProgress?.(k + 1, groups.length);
    return row;
  });
  const actual = rows.map((r) => r.actualWarm);
  const stats = (pred: number[]) => ({
    pearson: pearson(pred, actual),
    spearman: spearman(pred, actual),
    meanAbsError: pred.reduce((s, p, i) => s + Math.abs(p - actual[i]!), 0) / pred.length,
  });
  const report: CorrelationReport = { rows, firstOrder: stats(rows.map((r) => r.firstOrder)), secondOrder: stats(rows.map((r) => r.secondOrder)) };
  if (options.scratchInit !== undefined) {
    const scratch = rows.map((r) => r.actualScratch!);
    report.scratchVsWarm = { pearson: pearson(scratch, actual), spearman: spearman(scratch, actual) };
  }
  return report;
}

/** `count` random groups of `size` distinct training indices, sorted (seeded, reproducible). @example randomGroups(100, 10, 5, 0) */
export function randomGroups(n: number, size: number, count: number, seed: number): number[][] {
  if (!Number.isInteger(size) || size < 1 || size >= n) throw new ValueError(`randomGroups: size must be in [1, ${n}), got ${size}`);
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => Array.from(rng.permutation(n).subarray(0, size)).sort((a, b) => a - b));
}

/**
 * `count` coherent groups: each is `size` random training points of one class (classes drawn
 * at random among those with at least `size` members). Basu et al. find second-order group
 * influence helps most for such groups.
 * @example coherentGroups(labels, 20, 10, 0)
 */
export function coherentGroups(labels: ArrayLike<number>, size: number, count: number, seed: number): number[][] {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const members = byClass.get(labels[i]!) ?? [];
    members.push(i);
    byClass.set(labels[i]!, members);
  }
  const eligible = [...byClass.entries()].filter(([, m]) => m.length >= size).sort((a, b) => a[0] - b[0]);
  if (!Number.isInteger(size) || size < 1 || eligible.length === 0) throw new ValueError(`coherentGroups: no class has ${size} members`);
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const members = eligible[rng.int(eligible.length)]![1];
    return Array.from(rng.permutation(members.length).subarray(0, size), (k) => members[k]!).sort((a, b) => a - b);
  });
}
