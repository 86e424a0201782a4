/**
 * Hessian operators and flat gradients of a training objective at its trained parameters θ*.
 *
 * Conventions (SPEC §1–2), the same everywhere in influence/:
 * - The objective is `L(θ) = mean_i ℓ(z_i; θ) + (wd/2)‖θ‖²`: a model's `loss(params, batch)`
 *   returns the **mean** loss over the batch, and weight decay `wd` is folded into the Hessian
 *   (`H = mean ∇²ℓ + wd·I`). `perSampleGradients` returns `∇ℓ(z; θ)` without weight decay
 *   unless asked; influence queries use the per-point term `∇ℓ(z; θ) + wd·θ` (see influence.ts
 *   for why: each point carries its share of the regulariser in the mean objective).
 * - θ is the flat concatenation of the parameter tree's leaves in flattening order (module
 *   order, weight before bias; see engine/flat.ts), always a Float64Array.
 * - Damping is `H + λI`, one convention everywhere; solvers solve `(H + λI) x = v`.
 * - Costs are counted in HVPs: one `apply` of an operator is one HVP of the objective over its
 *   data (GGN products count the same), one `applyBatch` is one HVP on one mini-batch.
 */
import {
  NonFiniteError, ShapeError, ValueError, flattenTree, fromVector, grad, hvp, jvp, linearize, toVector, treeSize, vjp, zerosLike,
  type Tensor, type Tree,
} from '../engine/index.js';
import type { StochasticOperator } from './operator.js';

/**
 * A model's training objective, as influence functions need it.
 *
 * `loss(params, batch)` is the **mean** loss over `batch` (a scalar tensor). For the
 * Gauss-Newton option give the same loss split in two: `output(params, batch)` (the network
 * output, e.g. logits `[N, C]`) and `lossOfOutput(out, batch)` (the mean loss of that output),
 * with `loss(p, b) = lossOfOutput(output(p, b), b)`.
 *
 * @example
 * const objective: Objective<{ w: Tensor; b: Tensor }, Batch> = {
 *   loss: (p, b) => crossEntropy(add(matmul(b.x, p.w), p.b), b.labels),
 *   output: (p, b) => add(matmul(b.x, p.w), p.b),
 *   lossOfOutput: (logits, b) => crossEntropy(logits, b.labels),
 *   weightDecay: 1e-3,
 * };
 */
export interface Objective<P extends Tree, B> {
  loss(params: P, batch: B): Tensor;
  output?(params: P, batch: B): Tensor;
  lossOfOutput?(out: Tensor, batch: B): Tensor;
  /** `wd` of `(wd/2)‖θ‖²`, added to the mean loss (0 by default). */
  weightDecay?: number;
}

/** Training data that can be cut into batches by index. @example data.batch([0, 5, 7]) */
export interface Dataset<B> {
  readonly size: number;
  batch(indices: ArrayLike<number>): B;
}

/** Options of {@link hessianOperator}. */
export interface HessianOptions {
  /** λ of `H + λI` (0 by default). */
  damping?: number;
  /** Use the generalised Gauss-Newton matrix `Jᵀ H_out J` (PSD) instead of the Hessian. */
  gaussNewton?: boolean;
  /**
   * Restrict to an index set J of the flat θ: the operator has size |J| and computes
   * `x ↦ [(H + λI) pad_J(x)]_J`, i.e. the block `H_JJ + λI` (other parameters frozen).
   */
  subset?: ArrayLike<number>;
  /**
   * Weights of the batches in the average (default: equal). `H = Σ_k w_k H_k / Σ_k w_k`;
   * pass the batch sizes when they differ, so the average is the mean over examples.
   */
  batchWeights?: readonly number[];
  /**
   * Keep each batch's linearization after its first product (default true): its primal forward
   * and backward then run once, and every later product costs about one gradient instead of
   * two. It holds that batch's intermediates (activations) in memory; pass false for many large
   * batches where memory matters more than time.
   */
  cache?: boolean;
}

/** A Hessian operator: a {@link StochasticOperator} that also says how it was built. */
export interface HessianOperator extends StochasticOperator {
  readonly damping: number;
  readonly weightDecay: number;
  readonly gaussNewton: boolean;
  /** The index set J when restricted, else null. */
  readonly subset: Int32Array | null;
  /** The number of parameters of the whole model (`size` is |J| when restricted). */
  readonly parameterCount: number;
}

/**
 * The Hessian (or Gauss-Newton matrix) of `L(θ) = mean ℓ + (wd/2)‖θ‖²` at `params`, averaged
 * over `batches` (one batch for a fixed-batch Hessian), plus damping, as an operator on flat
 * vectors. One `apply` runs one HVP per batch (forward-over-reverse through a cached
 * `linearize`, or jvp–HVP–vjp for GGN)
 * and counts one HVP; `applyBatch(v, k)` applies batch k's term alone (with weight decay and
 * damping), which LiSSA uses for its mini-batch steps.
 *
 * @example
 * const H = hessianOperator(objective, params, [trainBatch], { damping: 1e-3 });
 * const hv = H.apply(v); // (H + 1e-3·I)·v, v a Float64Array of treeSize(params) entries
 */
export function hessianOperator<P extends Tree, B>(
  objective: Objective<P, B>, params: P, batches: readonly B[], options: HessianOptions = {},
): HessianOperator {
  const damping = options.damping ?? 0;
  const wd = objective.weightDecay ?? 0;
  const gaussNewton = options.gaussNewton ?? false;
  if (!Number.isFinite(damping) || damping < 0) throw new ValueError(`hessianOperator: damping must be a finite number ≥ 0, got ${damping}`);
  if (!Number.isFinite(wd) || wd < 0) throw new ValueError(`hessianOperator: weightDecay must be a finite number ≥ 0, got ${wd}`);
  if (batches.length === 0) throw new ValueError('hessianOperator: needs at least one batch');
  if (gaussNewton && (objective.output === undefined || objective.lossOfOutput === undefined)) {
    throw new ValueError('hessianOperator: gaussNewton needs the objective split as output(params, batch) and lossOfOutput(out, batch)');
  }
  const weights = options.batchWeights ?? batches.map(() => 1);
  if (weights.length !== batches.length) throw new ShapeError(`hessianOperator: ${weights.length} batch weights for ${batches.length} batches`);
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  if (!weights.every((w) => Number.isFinite(w) && w >= 0) || !(totalWeight > 0)) throw new ValueError('hessianOperator: batch weights must be finite, ≥ 0 and not all 0');

  const P = treeSize(params);
  const subset = options.subset === undefined ? null : checkSubset('hessianOperator', options.subset, P);
  const size = subset === null ? P : subset.length;

  // One linear map v ↦ H_k v per batch, built on first use: `linearize` runs the batch's primal
  // forward and backward once and keeps what the tangent half needs, so every later product
  // replays only that half (about one gradient's work instead of two). GGN: J v by a linearized
  // jvp, H_out by a linearized gradient of the loss in the output, Jᵀ by a linearized pullback.
  const cache = options.cache ?? true;
  const linearized = new Map<number, (vt: P) => P>();
  const productMap = (batch: B): ((vt: P) => P) => {
    if (!gaussNewton) return linearize(grad((p: P) => objective.loss(p, batch)), params)[1];
    const output = (p: P): Tensor => objective.output!(p, batch);
    const [out, jacobianTimes] = linearize(output, params);
    const [, outputHessianTimes] = linearize(grad((o: Tensor) => objective.lossOfOutput!(o, batch)), out);
    // Jᵀ: the pullback is linear in its cotangent; linearizing it at 0 records the backward pass
    // once, with its activations kept (also out of any gpu tidy scope the first product runs in)
    const [, transposeTimes] = linearize<Tensor, P>(vjp(output, params)[1], zerosLike(out));
    return (vt) => transposeTimes(outputHessianTimes(jacobianTimes(vt)));
  };
  // without the cache: one fresh product, holding nothing afterwards
  const freshProduct = (vt: P, batch: B): P => {
    if (!gaussNewton) return hvp((p: P) => objective.loss(p, batch), params, vt);
    const output = (p: P): Tensor => objective.output!(p, batch);
    const [out, jv] = jvp(output, params, vt);
    return vjp(output, params)[1](hvp((o: Tensor) => objective.lossOfOutput!(o, batch), out, jv));
  };
  const batchProduct = (v: Float64Array, k: number): Float64Array => {
    const vt = fromVector(v, params);
    if (!cache) return toVector(freshProduct(vt, batches[k]!));
    let map = linearized.get(k);
    if (map === undefined) linearized.set(k, (map = productMap(batches[k]!)));
    return toVector(map(vt));
  };

  // (H_batch v + (wd + λ) v), restricted to J when there is a subset: one pass, checked as it goes
  const finish = (full: Float64Array, v: Float64Array, where: string): Float64Array => {
    const out = subset === null ? full : new Float64Array(size);
    const shift = wd + damping;
    for (let k = 0; k < size; k++) {
      const i = subset === null ? k : subset[k]!;
      const y = full[i]! + shift * v[i]!;
      if (!Number.isFinite(y)) throw new NonFiniteError(`hessianOperator: ${where} produced a non-finite entry at index ${k}`);
      out[k] = y;
    }
    return out;
  };

  const lift = (x: Float64Array, op: string): Float64Array => {
    if (x.length !== size) throw new ShapeError(`hessianOperator.${op}: vector has ${x.length} entries, the operator ${size}`);
    return subset === null ? x : scatterIndices(x, subset, P);
  };

  let hvps = 0;
  return {
    size, damping, weightDecay: wd, gaussNewton, subset, parameterCount: P, batchCount: batches.length,
    get hvps() {
      return hvps;
    },
    apply(x) {
      const v = lift(x, 'apply');
      let acc: Float64Array | null = null;
      for (let k = 0; k < batches.length; k++) {
        if (weights[k] === 0) continue;
        const hv = batchProduct(v, k);
        const w = weights[k]! / totalWeight;
        if (w === 1) { acc = hv; continue; } // the only batch with weight: no average to form
        acc ??= new Float64Array(P);
        for (let i = 0; i < P; i++) acc[i] = acc[i]! + w * hv[i]!;
      }
      hvps++;
      return finish(acc!, v, 'apply');
    },
    applyBatch(x, k) {
      if (!Number.isInteger(k) || k < 0 || k >= batches.length) throw new ValueError(`hessianOperator.applyBatch: batch ${k} outside [0, ${batches.length})`);
      const v = lift(x, 'applyBatch');
      const hv = batchProduct(v, k);
      hvps++;
      return finish(hv, v, `applyBatch(${k})`);
    },
  };
}

/**
 * The gradient of a scalar function of the parameters as a flat Float64Array.
 * @example flatGradient((p) => objective.loss(p, batch), params) // ∇ mean ℓ over batch
 */
export function flatGradient<P extends Tree>(f: (params: P) => Tensor, params: P): Float64Array {
  const g = toVector(grad(f)(params));
  assertFinite('flatGradient', g);
  return g;
}

/**
 * ∇L(θ) of the full objective `mean ℓ + (wd/2)‖θ‖²` over `batch`, flat. At a trained θ* this
 * is ≈ 0; its norm says how well trained the model is (influence assumes a stationary point).
 * @example objectiveGradient(objective, params, data.batch(allIndices))
 */
export function objectiveGradient<P extends Tree, B>(objective: Objective<P, B>, params: P, batch: B): Float64Array {
  const g = flatGradient((p: P) => objective.loss(p, batch), params);
  const wd = objective.weightDecay ?? 0;
  if (wd !== 0) {
    const theta = toVector(params);
    for (let i = 0; i < g.length; i++) g[i] = g[i]! + wd * theta[i]!;
  }
  return g;
}

/**
 * Per-sample gradients `∇ℓ(z_i; θ)` for `indices` of `data` (plus `wd·θ` with
 * `withWeightDecay: true`, the per-point term influence queries use), one row each,
 * as a row-major `indices.length × P` array. Rows are stored as Float64Array unless
 * `float32: true` halves the memory (each row is still computed in the model's dtype).
 * `onProgress(done, total)` is called after each sample.
 *
 * @example
 * const G = perSampleGradients(objective, params, train, [0, 1, 2]);
 * G.row(1) // ∇ℓ(z_1; θ) as a Float64Array
 */
export function perSampleGradients<P extends Tree, B>(
  objective: Objective<P, B>, params: P, data: Dataset<B>, indices: ArrayLike<number>,
  options: { float32?: boolean; withWeightDecay?: boolean; onProgress?: (done: number, total: number) => void } = {},
): GradientMatrix {
  const P = treeSize(params);
  const n = indices.length;
  const store = options.float32 ? new Float32Array(n * P) : new Float64Array(n * P);
  const gradLoss = grad((p: P, batch: B) => objective.loss(p, batch));
  const wd = objective.weightDecay ?? 0;
  const wdTerm = options.withWeightDecay && wd !== 0 ? toVector(params).map((t) => wd * t) : null;
  for (let r = 0; r < n; r++) {
    const i = indices[r]!;
    if (!Number.isInteger(i) || i < 0 || i >= data.size) throw new ValueError(`perSampleGradients: index ${i} (position ${r}) outside [0, ${data.size})`);
    const g = toVector(gradLoss(params, data.batch([i])));
    if (wdTerm !== null) for (let j = 0; j < P; j++) g[j] = g[j]! + wdTerm[j]!;
    assertFinite(`perSampleGradients (sample ${i})`, g);
    store.set(g, r * P);
    options.onProgress?.(r + 1, n);
  }
  return new GradientMatrix(store, n, P, Array.from(indices));
}

/** Rows of per-sample gradients, stored once and reused. @example G.dot(sTest) // every row's inner product with s_test */
export class GradientMatrix {
  constructor(
    readonly data: Float64Array | Float32Array,
    readonly rows: number,
    readonly cols: number,
    /** The dataset index of each row. */
    readonly indices: readonly number[],
  ) {
    if (data.length !== rows * cols) throw new ShapeError(`GradientMatrix: ${data.length} values for ${rows}×${cols}`);
  }
  /** Row r as a new Float64Array. */
  row(r: number): Float64Array {
    if (!Number.isInteger(r) || r < 0 || r >= this.rows) throw new ValueError(`GradientMatrix.row: ${r} outside [0, ${this.rows})`);
    return Float64Array.from(this.data.subarray(r * this.cols, (r + 1) * this.cols));
  }
  /** Σ of the given rows (the summed gradient g_U of a group). */
  sumRows(rows: ArrayLike<number>): Float64Array {
    const out = new Float64Array(this.cols);
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k]!;
      if (!Number.isInteger(r) || r < 0 || r >= this.rows) throw new ValueError(`GradientMatrix.sumRows: row ${r} outside [0, ${this.rows})`);
      const off = r * this.cols;
      for (let j = 0; j < this.cols; j++) out[j] = out[j]! + this.data[off + j]!;
    }
    return out;
  }
  /** G·v: the inner product of every row with v. */
  dot(v: Float64Array): Float64Array {
    if (v.length !== this.cols) throw new ShapeError(`GradientMatrix.dot: vector has ${v.length} entries, rows ${this.cols}`);
    const out = new Float64Array(this.rows);
    for (let r = 0; r < this.rows; r++) {
      let s = 0;
      const off = r * this.cols;
      for (let j = 0; j < this.cols; j++) s += this.data[off + j]! * v[j]!;
      out[r] = s;
    }
    return out;
  }
}

/** Checks an index set into a flat vector of `size` entries: integers in range, no repeats. @example checkSubset('fif', [0, 3], 10) */
export function checkSubset(op: string, subset: ArrayLike<number>, size: number): Int32Array {
  const out = new Int32Array(subset.length);
  const seen = new Uint8Array(size);
  for (let k = 0; k < subset.length; k++) {
    const j = subset[k]!;
    if (!Number.isInteger(j) || j < 0 || j >= size) throw new ValueError(`${op}: subset index ${j} (position ${k}) outside [0, ${size})`);
    if (seen[j]) throw new ValueError(`${op}: subset index ${j} appears twice`);
    seen[j] = 1;
    out[k] = j;
  }
  if (out.length === 0) throw new ValueError(`${op}: the subset is empty`);
  return out;
}

/** x[J]. @example gatherIndices(Float64Array.of(5, 6, 7), Int32Array.of(2, 0)) // [7, 5] */
export function gatherIndices(x: Float64Array, subset: ArrayLike<number>): Float64Array {
  const out = new Float64Array(subset.length);
  for (let k = 0; k < subset.length; k++) out[k] = x[subset[k]!]!;
  return out;
}

/** pad_J(x): a length-`size` vector with x at the positions J and zeros elsewhere. @example scatterIndices(Float64Array.of(7), [2], 3) // [0, 0, 7] */
export function scatterIndices(x: Float64Array, subset: ArrayLike<number>, size: number): Float64Array {
  const out = new Float64Array(size);
  for (let k = 0; k < subset.length; k++) out[subset[k]!] = x[k]!;
  return out;
}

/** Throws a NonFiniteError naming `where` and the first bad index when `v` has NaN/Inf. @example assertFinite('cg: solution', x) */
export function assertFinite(where: string, v: ArrayLike<number>): void {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) throw new NonFiniteError(`${where}: entry ${i} is ${v[i]}`);
  }
}

/** The leaves' sizes of a parameter tree, in flat order (to name where an index of θ lies). @example leafSizes(mlp().init(rng)) // [100352, 128, 1280, 10] */
export function leafSizes(params: Tree): number[] {
  return flattenTree(params).leaves.map((l) => l.size);
}
