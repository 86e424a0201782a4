/**
 * Classic influence functions (Koh & Liang 2017) and group influence (Basu et al. 2020) on top
 * of a Hessian operator and an inverse-HVP solver.
 *
 * Conventions (SPEC §1, §6):
 * - The objective is `L(θ) = (1/n) Σ_i ℓ̃_i(θ)` with `ℓ̃_i = ℓ(z_i; θ) + (wd/2)‖θ‖²`: weight
 *   decay belongs to every training point's term. So a point's gradient here is
 *   `g_i = ∇ℓ(z_i; θ*) + wd·θ*` and a group's Hessian is `H_U = Σ_{z∈U} ∇²ℓ(z) + m·wd·I`. With
 *   this choice removing U and retraining the *same recipe* (mean loss + the same wd) moves θ by
 *   `Δθ ≈ H⁻¹ g_U / (n − m)` to first order; with plain `∇ℓ(z)` an error of `m·wd·H⁻¹θ* / (n−m)`
 *   would remain. Σ_i g_i = n∇L(θ*) ≈ 0 at a trained θ*.
 * - **Removal effect** (the unit of every score here): the predicted change of the test loss when
 *   the training points are removed and the model retrained,
 *   `Δℓ_test ≈ ∇ℓ_testᵀ H⁻¹ g_U / (n − m)` (first order). Positive: removing them raises the
 *   test loss, so they were **helpful**; negative: **harmful**.
 * - **Koh & Liang's `I_up,loss(z, z_test) = −∇ℓ_testᵀ H⁻¹ ∇ℓ̃(z)`**, the derivative of the test
 *   loss with respect to up-weighting z by ε. Removing z is ε = −1/n (or −1/(n−1) after
 *   renormalising), so `removal effect = −I_up,loss / (n − 1)`: helpful points have negative
 *   I_up,loss.
 * - `s_t = H⁻¹∇ℓ_test` is solved once per test point and cached; per-training-point gradients
 *   are computed once (lazily, for the points asked about) and cached.
 */
import { ShapeError, ValueError, toVector, type Tree } from '../engine/index.js';
import {
  assertFinite, flatGradient, hessianOperator, type Dataset, type HessianOperator, type HessianOptions, type Objective,
} from './hessian.js';
import { dot } from './linalg.js';
import { factorize, solve, type Factorization, type SolveResult, type SolverSpec } from './solvers.js';

/** What an {@link Influence} analysis needs. */
export interface InfluenceSetup<P extends Tree, B> {
  objective: Objective<P, B>;
  /** θ*, the trained parameters (a stationary point of the objective on `train`). */
  params: P;
  train: Dataset<B>;
  /** The Hessian operator; default: the Hessian over the whole training set in one batch. */
  hessian?: HessianOperator;
  /** Options for the default Hessian operator (damping, Gauss-Newton). */
  hessianOptions?: HessianOptions;
  /** How to solve H x = v. Default `{ method: 'cg', tol: 1e-8 }`; 'exact' factorises once. */
  solver?: SolverSpec;
  /** Called as long computations advance. */
  onProgress?: (what: string, done: number, total: number) => void;
}

/** One training point's score for a test point. */
export interface Scored {
  index: number;
  /** Predicted change of the test loss when the point is removed (> 0: helpful). */
  score: number;
}

/** The parts of SPEC §6's second-order group estimate. */
export interface GroupEstimate {
  /** First order, SPEC §1: `s_tᵀ g_U / (n − m)`. */
  firstOrder: number;
  /** `(1−2p)/((1−p)² n) · s_tᵀ g_U`. */
  term1: number;
  /** `1/((1−p)² n²) · s_tᵀ H_U H⁻¹ g_U`. */
  term2: number;
  /** term1 + term2. */
  secondOrder: number;
}

/**
 * Influence queries for a trained model: removal effects, top-k helpful/harmful points,
 * self-influence, group influence (first and second order), predicted parameter changes.
 *
 * @example
 * const inf = new Influence({ objective, params, train, solver: { method: 'cg', damping: 1e-3 } });
 * const { helpful, harmful } = inf.topK(testBatch, 5, 'test#7');
 */
export class Influence<P extends Tree, B> {
  readonly objective: Objective<P, B>;
  readonly params: P;
  readonly train: Dataset<B>;
  readonly hessian: HessianOperator;
  readonly solver: SolverSpec;
  readonly n: number;
  readonly parameterCount: number;
  /** Every iterative (cg/lissa) solve run so far, in order (diagnostics for reports); exact solves reuse one factorisation. */
  readonly solves: SolveResult[] = [];
  private readonly theta: Float64Array;
  private readonly wd: number;
  private readonly gradients = new Map<number, Float64Array>();
  private readonly testDirections = new Map<string, Float64Array>();
  private factorization: Factorization | null = null;
  private readonly onProgress: ((what: string, done: number, total: number) => void) | undefined;

  constructor(setup: InfluenceSetup<P, B>) {
    this.objective = setup.objective;
    this.params = setup.params;
    this.train = setup.train;
    this.n = setup.train.size;
    if (this.n < 2) throw new ValueError(`Influence: needs at least 2 training points, got ${this.n}`);
    this.solver = setup.solver ?? { method: 'cg', tol: 1e-8 };
    this.theta = toVector(setup.params);
    this.parameterCount = this.theta.length;
    this.wd = setup.objective.weightDecay ?? 0;
    this.hessian = setup.hessian
      ?? hessianOperator(setup.objective, setup.params, [setup.train.batch(range(this.n))], setup.hessianOptions);
    if (this.hessian.size !== this.parameterCount) throw new ShapeError(`Influence: the Hessian operator has size ${this.hessian.size}, the model ${this.parameterCount} parameters`);
    this.onProgress = setup.onProgress;
  }

  /** x = (H + λI)⁻¹ v with the configured solver (the exact one factorises once, then reuses it). */
  inverseHvp(v: Float64Array): Float64Array {
    if (this.solver.method === 'exact') {
      if (this.factorization === null) {
        this.factorization = factorize(this.hessian, { damping: this.solver.damping ?? 0, onProgress: (d, t) => this.onProgress?.('Hessian columns', d, t) });
      }
      const x = this.factorization.solve(v);
      assertFinite('Influence.inverseHvp', x);
      return x;
    }
    const result = solve(this.hessian, v, this.solver);
    this.solves.push(result);
    return result.x;
  }

  /** g_i = ∇ℓ(z_i; θ*) + wd·θ* (cached). See the module docs for why wd is included. */
  trainGradient(index: number): Float64Array {
    this.checkIndex(index);
    let g = this.gradients.get(index);
    if (g === undefined) {
      const batch = this.train.batch([index]);
      g = flatGradient((p: P) => this.objective.loss(p, batch), this.params);
      if (this.wd !== 0) for (let j = 0; j < g.length; j++) g[j] = g[j]! + this.wd * this.theta[j]!;
      this.gradients.set(index, g);
    }
    return g;
  }

  /** Computes (and caches) the gradients of many training points, reporting progress. */
  trainGradients(indices: ArrayLike<number>): Float64Array[] {
    const out: Float64Array[] = [];
    for (let k = 0; k < indices.length; k++) {
      out.push(this.trainGradient(indices[k]!));
      this.onProgress?.('training gradients', k + 1, indices.length);
    }
    return out;
  }

  /** g_U = Σ_{z∈U} g_z. */
  groupGradient(group: ArrayLike<number>): Float64Array {
    this.checkGroup(group);
    const out = new Float64Array(this.parameterCount);
    for (let k = 0; k < group.length; k++) {
      const g = this.trainGradient(group[k]!);
      for (let j = 0; j < out.length; j++) out[j] = out[j]! + g[j]!;
    }
    return out;
  }

  /** ∇ℓ_test(θ*): the gradient of the (mean) loss over `test`, no weight decay. */
  testGradient(test: B): Float64Array {
    return flatGradient((p: P) => this.objective.loss(p, test), this.params);
  }

  /**
   * s_t = H⁻¹∇ℓ_test, solved once per `key` and cached (pass a stable key such as
   * `'test#7'`; without one nothing is cached).
   */
  testDirection(test: B, key?: string): Float64Array {
    if (key !== undefined) {
      const cached = this.testDirections.get(key);
      if (cached !== undefined) return cached;
    }
    const s = this.inverseHvp(this.testGradient(test));
    if (key !== undefined) this.testDirections.set(key, s);
    return s;
  }

  /**
   * Removal effects of single training points on each test point: entry [i·T + t] is the
   * predicted change of test t's loss when training point `indices[i]` is removed,
   * `s_tᵀ g_i / (n − 1)` (> 0 helpful). One solve per test point, one gradient per training point.
   * @example inf.influenceMatrix([0, 1, 2], [testA, testB], ['a', 'b']) // 3×2, row-major
   */
  influenceMatrix(indices: ArrayLike<number>, tests: readonly B[], keys?: readonly string[]): Float64Array {
    if (keys !== undefined && keys.length !== tests.length) throw new ShapeError(`influenceMatrix: ${keys.length} keys for ${tests.length} tests`);
    const s = tests.map((t, k) => {
      const d = this.testDirection(t, keys?.[k]);
      this.onProgress?.('test directions', k + 1, tests.length);
      return d;
    });
    const out = new Float64Array(indices.length * tests.length);
    for (let i = 0; i < indices.length; i++) {
      const g = this.trainGradient(indices[i]!);
      for (let t = 0; t < tests.length; t++) out[i * tests.length + t] = dot(s[t]!, g) / (this.n - 1);
      this.onProgress?.('influence matrix', i + 1, indices.length);
    }
    return out;
  }

  /** Removal effects of `indices` (all training points by default) on one test point. */
  scores(test: B, key?: string, indices: ArrayLike<number> = range(this.n)): Scored[] {
    const s = this.testDirection(test, key);
    const out: Scored[] = [];
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!;
      out.push({ index: i, score: dot(s, this.trainGradient(i)) / (this.n - 1) });
      this.onProgress?.('scores', k + 1, indices.length);
    }
    return out;
  }

  /**
   * The k most helpful (largest positive removal effect: removing them would raise the test
   * loss) and the k most harmful (most negative) training points for one test point.
   */
  topK(test: B, k: number, key?: string, indices?: ArrayLike<number>): { helpful: Scored[]; harmful: Scored[] } {
    if (!Number.isInteger(k) || k < 1) throw new ValueError(`topK: k must be a positive integer, got ${k}`);
    const all = this.scores(test, key, indices);
    const sorted = [...all].sort((a, b) => b.score - a.score);
    return {
      helpful: sorted.slice(0, k).filter((s) => s.score > 0),
      harmful: sorted.slice(-k).reverse().filter((s) => s.score < 0),
    };
  }

  /**
   * Koh & Liang's `I_up,loss(z_i, test) = −∇ℓ_testᵀ H⁻¹ g_i`: d ℓ_test / dε for up-weighting
   * z_i by ε. The removal effect is `−I_up,loss / (n − 1)`.
   */
  iUpLoss(index: number, test: B, key?: string): number {
    return -dot(this.testDirection(test, key), this.trainGradient(index));
  }

  /**
   * Self-influence `g_iᵀ H⁻¹ g_i / (n − 1)`: the predicted rise of a point's own loss when it is
   * removed (≥ 0 for a PD Hessian). Large values flag memorised or mislabelled points. One
   * solve per point.
   */
  selfInfluence(indices: ArrayLike<number>): Float64Array {
    const out = new Float64Array(indices.length);
    for (let k = 0; k < indices.length; k++) {
      const g = this.trainGradient(indices[k]!);
      out[k] = dot(g, this.inverseHvp(g)) / (this.n - 1);
      this.onProgress?.('self-influence', k + 1, indices.length);
    }
    return out;
  }

  /**
   * Predicted parameter change when `group` is removed: first order `H⁻¹ g_U / (n − m)`;
   * `order: 2` gives SPEC §6's `(1−2p)/((1−p)² n)·v + 1/((1−p)² n²)·H⁻¹ H_U v`, v = H⁻¹ g_U
   * (a second solve).
   */
  predictedParameterChange(group: ArrayLike<number>, order: 1 | 2 = 1): Float64Array {
    const m = group.length;
    const v = this.inverseHvp(this.groupGradient(group));
    if (order === 1) return v.map((x) => x / (this.n - m));
    const { c1, c2 } = this.coefficients(m);
    const w = this.inverseHvp(this.groupHessianProduct(group, v));
    return v.map((x, j) => c1 * x + c2 * w[j]!);
  }

  /** First-order predicted test-loss change for removing `group`: `s_tᵀ g_U / (n − m)`. */
  groupInfluence(group: ArrayLike<number>, test: B, key?: string): number {
    return dot(this.testDirection(test, key), this.groupGradient(group)) / (this.n - group.length);
  }

  /**
   * SPEC §6 (Basu, You, Feizi 2020): the second-order predicted test-loss change for removing
   * `group`, with its parts. Costs one solve (v = H⁻¹ g_U) and one HVP of H_U.
   */
  secondOrderGroupInfluence(group: ArrayLike<number>, test: B, key?: string): GroupEstimate {
    const m = group.length;
    const s = this.testDirection(test, key);
    const g = this.groupGradient(group);
    const v = this.inverseHvp(g);
    const { c1, c2 } = this.coefficients(m);
    const sg = dot(s, g);
    const term1 = c1 * sg;
    const term2 = c2 * dot(s, this.groupHessianProduct(group, v));
    return { firstOrder: sg / (this.n - m), term1, term2, secondOrder: term1 + term2 };
  }

  /** H_U v with H_U = Σ_{z∈U} ∇²ℓ(z) + m·wd·I (one HVP on the group's batch). */
  groupHessianProduct(group: ArrayLike<number>, v: Float64Array): Float64Array {
    this.checkGroup(group);
    const m = group.length;
    const op = hessianOperator(this.objective, this.params, [this.train.batch(group)]); // mean over U, + wd·I
    return op.apply(v).map((x) => m * x);
  }

  private coefficients(m: number): { c1: number; c2: number } {
    const n = this.n, p = m / n;
    return { c1: (1 - 2 * p) / ((1 - p) ** 2 * n), c2: 1 / ((1 - p) ** 2 * n * n) };
  }

  private checkIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.n) throw new ValueError(`Influence: training index ${i} outside [0, ${this.n})`);
  }

  private checkGroup(group: ArrayLike<number>): void {
    if (group.length === 0) throw new ValueError('Influence: the group is empty');
    if (group.length >= this.n) throw new ValueError(`Influence: removing ${group.length} of ${this.n} points leaves nothing to train on`);
    const seen = new Set<number>();
    for (let k = 0; k < group.length; k++) {
      const i = group[k]!;
      this.checkIndex(i);
      if (seen.has(i)) throw new ValueError(`Influence: training index ${i} appears twice in the group`);
      seen.add(i);
    }
  }
}

/** 0, 1, …, n−1. @example range(3) // [0, 1, 2] */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
