/**
 * Parameter edits for removing or changing training data (SPEC §4, §6), all on flat vectors:
 * each returns `Δθ` (length P) to be **added** to θ*.
 *
 * `H` is the Hessian operator of the objective on the data that stays (weight decay folded in,
 * damping if any); `g` is the gradient of the target loss scaled by `1/(n − m)` relative to a sum
 * (i.e. `m/(n − m)` times the mean over the m target samples). Then, on the selection J:
 *
 * - GIF  `Δθ_J = argmin_x ‖H_{:,J} x − g‖²`                 (convergent Richardson or CGLS)
 * - FIF  `Δθ_J = H_JJ⁻¹ g_J`   (frozen IF: the other parameters are simply ignored)
 * - PIF  `Δθ_J = [H⁻¹ g]_J`   (projected IF: the full IF, cut down to J)
 * - IF   `Δθ = H⁻¹ g`          (all parameters)
 * - SIF  the second-order group influence of Basu et al. (all parameters, SPEC §6)
 * - GA   `Δθ_J = g_J`          (a control, not an influence method: gradient ascent on the target
 *                              loss restricted to J, no Hessian at all; see {@link gaEdit})
 *
 * Square systems are solved as least-squares problems with CGLS, which converges to the
 * (minimum-norm least-squares) solution even where H is indefinite or singular.
 */
import { ShapeError, ValueError } from '../../engine/errors.js';
import { fromVector, toVector, type Tree } from '../../engine/index.js';
import type { LinearOperator } from '../operator.js';
import {
  type KrylovOptions, type LeastSquaresSolution, type RichardsonOptions, type SolverDiagnostics,
  leastSquaresCgls, principalSubmatrix, solveGifKrylov, solveGifRichardson, symmetricOperator,
} from './solvers.js';
import { checkFinite, checkIndexSet, pad, restrict } from './vectors.js';

/** The edit methods compared throughout (GA is the zero-HVP control). */
export type EditMethod = 'GIF' | 'GIF-CGLS' | 'FIF' | 'PIF' | 'IF' | 'SIF' | 'GA';

/** Every edit method, in the order the tasks run and report them. */
export const EDIT_METHODS: readonly EditMethod[] = ['GIF', 'GIF-CGLS', 'FIF', 'PIF', 'IF', 'SIF', 'GA'];

/** The methods that change only the selection J (the others change every parameter). */
export const SELECTION_METHODS: readonly EditMethod[] = ['GIF', 'GIF-CGLS', 'FIF', 'PIF', 'GA'];

/** A parameter change and what it cost. */
export interface Edit {
  readonly method: EditMethod;
  /** Δθ over all P parameters (zero outside J for the selection-based methods). */
  readonly delta: Float64Array;
  /** Solver diagnostics (SIF: of its second solve; `hvps` and `wallMs` cover both); absent for GA, which solves nothing. */
  readonly diagnostics?: SolverDiagnostics;
  /** HVPs and milliseconds the whole edit took. */
  readonly hvps: number;
  readonly wallMs: number;
}

/**
 * A copy of `params` with the edit added: `θ* + Δθ`, or, with `length`, `θ* + length·Δθ/‖Δθ‖`
 * (the normalised step of the step-size protocol). The original parameters are not touched.
 * @example const edited = applyEdit(params, gifEdit(H, J, g).delta);
 */
export function applyEdit<P extends Tree>(params: P, delta: Float64Array, length?: number): P {
  const theta = toVector(params);
  if (delta.length !== theta.length) throw new ShapeError(`applyEdit: Δθ has ${delta.length} entries, the parameters ${theta.length}`);
  checkFinite('applyEdit: Δθ', delta);
  let scale = 1;
  if (length !== undefined) {
    if (!(length >= 0 && Number.isFinite(length))) throw new ValueError(`applyEdit: step length must be a finite number ≥ 0, got ${length}`);
    let n = 0;
    for (const d of delta) n += d * d;
    scale = n === 0 ? 0 : length / Math.sqrt(n);
  }
  for (let i = 0; i < theta.length; i++) theta[i] = theta[i]! + scale * delta[i]!;
  return fromVector(theta, params);
}

function checkProblem(where: string, H: LinearOperator, g: Float64Array): void {
  if (g.length !== H.size) throw new ShapeError(`${where}: g has ${g.length} entries, H has size ${H.size}`);
  checkFinite(`${where}: g`, g);
}

function asEdit(method: EditMethod, delta: Float64Array, sol: LeastSquaresSolution, hvps: number, wallMs: number): Edit {
  checkFinite(`${method} edit`, delta);
  return { method, delta, diagnostics: sol.diagnostics, hvps, wallMs };
}

/**
 * GIF: `Δθ_J = argmin ‖H_{:,J} x − g‖²`, zero elsewhere. `solver: 'richardson'` is the paper's
 * convergent iteration, `'cgls'` the Krylov least-squares solver.
 * @example
 * const edit = gifEdit(H, selection.indices, g, { solver: 'cgls', tolerance: 1e-6 });
 * const edited = axpy(1, edit.delta, theta); // influence/linalg.ts: a·x + y
 */
export function gifEdit(H: LinearOperator, J: Int32Array, g: Float64Array, options: RichardsonOptions & { solver?: 'richardson' | 'cgls' } = {}): Edit {
  checkProblem('gifEdit', H, g);
  const { solver = 'richardson', ...rest } = options;
  const sol = solver === 'richardson' ? solveGifRichardson(H, J, g, rest) : solveGifKrylov(H, J, g, rest);
  return asEdit(solver === 'richardson' ? 'GIF' : 'GIF-CGLS', pad(sol.x, J, H.size), sol, sol.diagnostics.hvps, sol.diagnostics.wallMs);
}

/**
 * FIF (frozen IF): `Δθ_J = H_JJ⁻¹ g_J` — the IF of a model whose other parameters are constants.
 * @example fifEdit(H, selection.indices, g)
 */
export function fifEdit(H: LinearOperator, J: Int32Array, g: Float64Array, options: KrylovOptions = {}): Edit {
  checkProblem('fifEdit', H, g);
  checkIndexSet('fifEdit', J, H.size);
  const h0 = H.hvps;
  const sol = leastSquaresCgls(symmetricOperator(principalSubmatrix(H, J)), restrict(g, J), options, () => H.hvps);
  return asEdit('FIF', pad(sol.x, J, H.size), sol, H.hvps - h0, sol.diagnostics.wallMs);
}

/**
 * IF on all parameters: `Δθ = H⁻¹ g`.
 * @example ifEdit(H, g)
 */
export function ifEdit(H: LinearOperator, g: Float64Array, options: KrylovOptions = {}): Edit {
  checkProblem('ifEdit', H, g);
  const sol = leastSquaresCgls(symmetricOperator(H), g, options, () => H.hvps);
  return asEdit('IF', sol.x, sol, sol.diagnostics.hvps, sol.diagnostics.wallMs);
}

/**
 * PIF (projected IF): the all-parameter IF restricted to J, `Δθ_J = [H⁻¹ g]_J`. Pass a
 * precomputed IF edit to reuse its solve.
 * @example pifEdit(H, selection.indices, g, {}, ifEdit(H, g))
 */
export function pifEdit(H: LinearOperator, J: Int32Array, g: Float64Array, options: KrylovOptions = {}, full?: Edit): Edit {
  checkIndexSet('pifEdit', J, H.size);
  const base = full ?? ifEdit(H, g, options);
  if (base.delta.length !== H.size) throw new ShapeError(`pifEdit: the IF edit has ${base.delta.length} entries, H has size ${H.size}`);
  const delta = pad(restrict(base.delta, J), J, H.size);
  return { method: 'PIF', delta, diagnostics: base.diagnostics, hvps: base.hvps, wallMs: base.wallMs };
}

/** Inputs of the second-order group influence (SPEC §6). */
export interface SecondOrderProblem {
  /** Hessian of the objective on the data that stays (mean loss + weight decay, as for the other edits). */
  readonly H: LinearOperator;
  /** H_U: the Hessian of the **summed** target loss over the m target samples (no weight decay). */
  readonly targetHessian: LinearOperator;
  /** g_U: the gradient of the **summed** target loss. */
  readonly targetGradientSum: Float64Array;
  /** n: training samples before the edit; m: target samples. */
  readonly n: number;
  readonly m: number;
  /** wd folded into H (needed to rebuild the full-data Hessian). */
  readonly weightDecay: number;
  /**
   * Label change instead of removal: the m samples stay, with new labels. `targetHessian` and
   * `targetGradientSum` are then of the change of loss (old label − new label), and
   * `trainedHessian` is the Hessian of the samples' summed loss as trained (old labels), which is
   * what the full-data Hessian holds.
   */
  readonly labelChange?: { readonly trainedHessian: LinearOperator };
}

/**
 * SIF, the second-order group influence of Basu, You & Feizi (2020) as a parameter change:
 *
 *     Δθ = (1−2p)/((1−p)² n) · H⁻¹ g_U  +  1/((1−p)² n²) · H⁻¹ H_U H⁻¹ g_U,   p = m/n,
 *
 * with `H` the Hessian of the **full** training objective, rebuilt here from the retained one:
 * `H_full = (1−p)·H_retained + H_T/n + p·wd·I` (H_retained includes wd once; H_T the target
 * samples' summed loss as trained, = H_U for removal). Two solves.
 *
 * Label change (`labelChange`): no sample leaves, so nothing is reweighted. The objective moves
 * by −D, D = (1/n)·Σ_U (ℓ_old − ℓ_new), and its minimiser by (H_full − ∇²D)⁻¹∇D ≈
 * H_full⁻¹∇D + H_full⁻¹ ∇²D H_full⁻¹ ∇D: the same form with p = 0 in the two coefficients (1/n
 * and 1/n²), H_U and g_U of ℓ_old − ℓ_new, and H_full holding ℓ_old. This extension is ours, not
 * the paper's (docs/gif.md).
 * @example sifEdit({ H, targetHessian, targetGradientSum, n, m, weightDecay: 1e-4 })
 */
export function sifEdit(problem: SecondOrderProblem, options: KrylovOptions = {}): Edit {
  const { H, targetHessian, targetGradientSum: gU, n, m, weightDecay } = problem;
  checkProblem('sifEdit', H, gU);
  if (targetHessian.size !== H.size) throw new ShapeError(`sifEdit: H_U has size ${targetHessian.size}, H ${H.size}`);
  if (!(Number.isInteger(n) && Number.isInteger(m) && m > 0 && m < n)) throw new ValueError(`sifEdit: need integers 0 < m < n, got m=${m}, n=${n}`);
  const start = performance.now();
  const p = m / n;
  const trained = problem.labelChange?.trainedHessian ?? targetHessian;
  if (trained.size !== H.size) throw new ShapeError(`sifEdit: the trained H_T has size ${trained.size}, H ${H.size}`);
  const spent = () => H.hvps + targetHessian.hvps + (trained === targetHessian ? 0 : trained.hvps);
  const h0 = spent();
  const full: LinearOperator = {
    size: H.size,
    apply: (v) => {
      const a = H.apply(v), b = trained.apply(v);
      const out = new Float64Array(v.length);
      for (let i = 0; i < v.length; i++) out[i] = (1 - p) * a[i]! + b[i]! / n + p * weightDecay * v[i]!;
      return out;
    },
    get hvps() {
      return spent();
    },
  };
  const first = leastSquaresCgls(symmetricOperator(full), gU, options, () => full.hvps);
  const v = first.x;
  const second = leastSquaresCgls(symmetricOperator(full), targetHessian.apply(v), options, () => full.hvps);
  const [c1, c2] = problem.labelChange ? [1 / n, 1 / (n * n)] : [(1 - 2 * p) / ((1 - p) ** 2 * n), 1 / ((1 - p) ** 2 * n * n)];
  const delta = new Float64Array(H.size);
  for (let i = 0; i < delta.length; i++) delta[i] = c1 * v[i]! + c2 * second.x[i]!;
  const worst = first.diagnostics.relativeResidual > second.diagnostics.relativeResidual ? first : second;
  return asEdit('SIF', delta, worst, spent() - h0, performance.now() - start);
}

/**
 * GA, the zero-HVP control: `Δθ_J = g_J`, zero elsewhere — one step of gradient ascent on the
 * target loss restricted to J (for class removal `g` is the scaled removal gradient, so this
 * raises the removed class's loss). It uses no Hessian (0 HVPs, no solve) and answers the
 * question "is the Hessian doing anything?": if GA, with its step chosen on validation, matches
 * GIF, the task's chosen-step metric does not discriminate between edit directions. Its plain
 * step `θ* + g_J` has no meaningful scale (`g` is a gradient, not a parameter change; nothing
 * like `H⁻¹` converts it), so only its chosen-step metrics mean something.
 * @example gaEdit(selection.indices, g) // delta = pad(restrict(g, J), J, g.length)
 */
export function gaEdit(J: Int32Array, g: Float64Array): Edit {
  const start = performance.now();
  checkFinite('gaEdit: g', g);
  checkIndexSet('gaEdit', J, g.length);
  const delta = pad(restrict(g, J), J, g.length);
  return { method: 'GA', delta, hvps: 0, wallMs: performance.now() - start };
}
