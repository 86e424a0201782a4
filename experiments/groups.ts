/**
 * Group removal (SPEC §5): remove groups of training samples — random groups and coherent groups
 * (all of one class) of several sizes — and compare the change of a test loss that each edit
 * predicts with the change that retraining produces, by Pearson and Spearman correlation over
 * the groups.
 *
 * Predicted change of the test loss L_test for an edit Δθ: the first-order `∇L_testᵀ Δθ`
 * (SPEC §1), and the change measured at θ* + Δθ. Actual change: `L_test(θ_U) − L_test(θ_∅)`
 * where θ_U is retrained without U and θ_∅ is retrained the same way (same seed, same epochs)
 * on all the data, so the retraining's own drift cancels out.
 */
import { Rng, fromVector, toVector } from '../engine/index.js';
import { ValueError } from '../engine/errors.js';
import { crossEntropy, evaluate, subset, train, type Dataset, type Params, type Sequential } from '../nn/index.js';
import { flatGradient, hessianOperator } from '../influence/hessian.js';
import { gifEdit, ifEdit, sifEdit, type EditMethod } from '../influence/gif/edits.js';
import { selectFromScores, type Recipe, type Selector, type TaskProgress } from './tasks.js';
import { unitScores } from '../influence/gif/scores.js';
import { dot, pearson, spearman } from '../influence/linalg.js';

/** Settings of {@link removeGroups}. Defaults in brackets. */
export interface GroupSettings {
  /** Group sizes [[20, 80, 320]]. */
  readonly sizes?: readonly number[];
  /** Groups per size and kind [3]. */
  readonly groupsPerSize?: number;
  /** Which kinds of groups [['random', 'coherent']]. */
  readonly kinds?: readonly ('random' | 'coherent')[];
  /** Edits to compare [['IF', 'GIF-CGLS', 'SIF']]. */
  readonly methods?: readonly Extract<EditMethod, 'IF' | 'GIF-CGLS' | 'SIF'>[];
  /** GIF's selection [0.05, 'gradient']. */
  readonly ratio?: number;
  readonly selector?: Selector;
  /** Hessian batch size [500], damping [0], CGLS iterations [30]. */
  readonly hessianSamples?: number;
  readonly damping?: number;
  readonly krylovIterations?: number;
  /**
   * Retraining ['warm']: warm-started from θ* for the recipe's `warmEpochs` of mini-batch SGD;
   * 'scratch': the full recipe from a fresh initialisation; 'full-batch': warm-started
   * full-batch gradient descent (the recipe's lr and momentum) for `fullBatchSteps` steps —
   * deterministic, so removal is the only difference from the reference run.
   */
  readonly retrain?: 'warm' | 'scratch' | 'full-batch';
  /** Steps of the 'full-batch' retraining [30]. */
  readonly fullBatchSteps?: number;
  readonly seed?: number;
}

/** One removed group and its numbers. */
export interface GroupOutcome {
  readonly kind: 'random' | 'coherent';
  readonly size: number;
  /** The class of a coherent group. */
  readonly label?: number;
  /** L_test(θ_U) − L_test(θ_∅). */
  readonly actual: number;
  /** Per method: the first-order prediction ∇L_testᵀΔθ and the change measured at θ* + Δθ. */
  readonly linear: Record<string, number>;
  readonly evaluated: Record<string, number>;
}

/** Correlation of predictions with the actual changes, per method. */
export interface GroupCorrelation {
  readonly method: string;
  readonly prediction: 'linear' | 'evaluated';
  readonly kind: 'random' | 'coherent' | 'all';
  /** null when a sample is constant, so the correlation is undefined. */
  readonly pearson: number | null;
  readonly spearman: number | null;
  readonly groups: number;
}

/** What {@link removeGroups} returns. */
export interface GroupRemovalResult {
  readonly outcomes: GroupOutcome[];
  readonly correlations: GroupCorrelation[];
  readonly seconds: number;
}

/** Inputs of {@link removeGroups}. */
export interface GroupRemovalSetup {
  readonly net: Sequential;
  readonly params: Params;
  readonly train: Dataset;
  /** The test loss is the mean cross-entropy over these samples. */
  readonly test: Dataset;
  readonly recipe: Recipe;
}

/**
 * Removes random and coherent groups of several sizes, one at a time, and correlates each
 * method's predicted change of the test loss with the change retraining produces.
 * @example
 * const { correlations } = removeGroups({ net, params, train, test, recipe }, { sizes: [20, 80], groupsPerSize: 3 });
 */
export function removeGroups(setup: GroupRemovalSetup, settings: GroupSettings = {}, progress: TaskProgress = {}): GroupRemovalResult {
  const { net, params, train: data, test, recipe } = setup;
  const {
    sizes = [20, 80, 320], groupsPerSize = 3, kinds = ['random', 'coherent'], methods = ['IF', 'GIF-CGLS', 'SIF'],
    ratio = 0.05, selector = 'gradient', hessianSamples = 500, damping = 0, krylovIterations = 30, retrain = 'warm', seed = 0,
    fullBatchSteps = 30,
  } = settings;
  if (!Number.isInteger(fullBatchSteps) || fullBatchSteps < 1) throw new ValueError(`removeGroups: fullBatchSteps must be a positive integer, got ${fullBatchSteps}`);
  const n = data.y.length;
  for (const s of sizes) if (!Number.isInteger(s) || s < 1 || s >= n) throw new ValueError(`removeGroups: group size ${s} must be an integer in [1, ${n})`);
  if (!Number.isInteger(groupsPerSize) || groupsPerSize < 1) throw new ValueError(`removeGroups: groupsPerSize must be a positive integer, got ${groupsPerSize}`);
  const started = performance.now();
  const rng = new Rng(seed);
  const theta = toVector(params);
  const testLoss = (p: Params) => evaluate(net, p, test).loss;
  const testGrad = flatGradient((p: Params) => crossEntropy(net.apply(p, test.x), test.y), params);
  const base = testLoss(params);
  const dtype = (params.find((p) => 'weight' in p) as { weight: { dtype: 'float32' | 'float64' } } | undefined)?.weight.dtype ?? 'float64';
  const { warmEpochs = 2, initSeed = 0, weightDecay, ...trainOptions } = recipe;
  const retrainOn = (ds: Dataset): Params => {
    if (retrain === 'full-batch') {
      return train(net, params, ds, { ...trainOptions, weightDecay, batchSize: ds.y.length, epochs: fullBatchSteps }).params;
    }
    return train(net, retrain === 'warm' ? params : net.init(new Rng(initSeed), dtype), ds, {
      ...trainOptions, weightDecay, epochs: retrain === 'warm' ? warmEpochs : trainOptions.epochs,
    }).params;
  };
  progress.stage?.(`retrain on all the data (${retrain}) as the reference`);
  const reference = testLoss(retrainOn(data));

  // the Hessian of the full data at θ* (every group is small next to n)
  const hIdx = rng.permutation(n).subarray(0, Math.min(n, hessianSamples));
  const hb = subset(data, hIdx);
  const H = hessianOperator({ loss: (p: Params, b: { x: typeof hb.x; y: Int32Array }) => crossEntropy(net.apply(p, b.x), b.y), weightDecay }, params, [{ x: hb.x, y: hb.y }], { damping });

  const groups: { kind: 'random' | 'coherent'; size: number; label?: number; indices: Int32Array }[] = [];
  for (const kind of kinds) {
    for (const size of sizes) {
      for (let k = 0; k < groupsPerSize; k++) {
        if (kind === 'random') {
          groups.push({ kind, size, indices: rng.permutation(n).slice(0, size).sort() });
        } else {
          const label = (k + sizes.indexOf(size)) % data.classes;
          const members = Int32Array.from(Array.from(data.y.keys()).filter((i) => data.y[i] === label));
          if (members.length < size) throw new ValueError(`removeGroups: class ${label} has ${members.length} samples, fewer than the group size ${size}`);
          const perm = rng.permutation(members.length).subarray(0, size);
          groups.push({ kind, size, label, indices: Int32Array.from(perm, (p) => members[p]!).sort() });
        }
      }
    }
  }

  const outcomes: GroupOutcome[] = [];
  groups.forEach((group, gi) => {
    progress.stage?.(`group ${gi + 1}/${groups.length}: ${group.kind}${group.label === undefined ? '' : ` (class ${group.label})`}, ${group.size} samples`);
    const m = group.size;
    const target = subset(data, group.indices);
    const keep = new Uint8Array(n).fill(1);
    group.indices.forEach((i) => (keep[i] = 0));
    const rest = subset(data, Int32Array.from(Array.from(keep.keys()).filter((i) => keep[i])));
    const actual = testLoss(retrainOn(rest)) - reference;
    const gMean = flatGradient((p: Params) => crossEntropy(net.apply(p, target.x), target.y), params);
    const g = gMean.map((v) => (v * m) / (n - m));
    const linear: Record<string, number> = {}, evaluated: Record<string, number> = {};
    const opts = { tolerance: 1e-6, maxIterations: krylovIterations };
    for (const method of methods) {
      let delta: Float64Array;
      if (method === 'IF') delta = ifEdit(H, g, opts).delta;
      else if (method === 'GIF-CGLS') {
        const J = selectFromScores(net, unitScores(net, params, target.x, (o, r) => crossEntropy(o, target.y.subarray(r.start, r.end))), { ratio, selector, seed }).indices;
        delta = gifEdit(H, J, g, { solver: 'cgls', ...opts }).delta;
      } else {
        const hu = hessianOperator({ loss: (p: Params, b: { x: typeof target.x; y: Int32Array }) => crossEntropy(net.apply(p, b.x), b.y) }, params, [{ x: target.x, y: target.y }]);
        const targetHessian = { size: hu.size, apply: (v: Float64Array) => hu.apply(v).map((x) => x * m), get hvps() { return hu.hvps; } };
        delta = sifEdit({ H, targetHessian, targetGradientSum: gMean.map((v) => v * m), n, m, weightDecay }, opts).delta;
      }
      linear[method] = dot(testGrad, delta);
      evaluated[method] = testLoss(fromVector(theta.map((t, i) => t + delta[i]!), params)) - base;
    }
    outcomes.push({ kind: group.kind, size: group.size, ...(group.label === undefined ? {} : { label: group.label }), actual, linear, evaluated });
  });

  const correlations: GroupCorrelation[] = [];
  for (const method of methods) {
    for (const prediction of ['linear', 'evaluated'] as const) {
      for (const kind of [...kinds, 'all'] as const) {
        const sel = outcomes.filter((o) => kind === 'all' || o.kind === kind);
        if (sel.length < 3) continue;
        const pred = sel.map((o) => o[prediction][method]!), act = sel.map((o) => o.actual);
        correlations.push({ method, prediction, kind, pearson: correlationOrNull(pearson, pred, act), spearman: correlationOrNull(spearman, pred, act), groups: sel.length });
      }
    }
  }
  return { outcomes, correlations, seconds: (performance.now() - started) / 1000 };
}

/** A correlation, or null when it is undefined (a constant sample), so a report never holds NaN. */
function correlationOrNull(r: (a: ArrayLike<number>, b: ArrayLike<number>) => number, a: readonly number[], b: readonly number[]): number | null {
  try {
    return r(a, b);
  } catch (e) {
    if (e instanceof ValueError) return null;
    throw e;
  }
}
