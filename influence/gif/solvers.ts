/**
 * Solvers for the GIF least-squares system (SPEC §4): only the parameters in `J` move, and the
 * update best reproduces the gradient change on *all* parameters,
 *
 *     Δθ_J = argmin_x ‖H_{:,J} x − g‖²   ⇔   (P H² P) x = (H g)_J.
 *
 * Two solvers share one residual, the normal-equation residual `‖b − A x‖ / ‖b‖` with
 * `A = P H² P` and `b = (H g)_J`, so their costs (in HVPs) can be compared at equal accuracy:
 *
 * - `solveGifRichardson`: the paper's convergent (modified LiSSA) iteration — Richardson on the
 *   PSD normal equations with a power-iteration step size and restarts.
 * - `solveGifKrylov`: CGLS (conjugate gradients on the normal equations, applied to H_{:,J}
 *   and its transpose) — the same two HVPs per iteration, usually far fewer iterations.
 *
 * `leastSquaresCgls` is the general CGLS used by both GIF and the baselines (FIF, IF), which
 * solve square, possibly indefinite, systems as least-squares problems.
 */
import { NonFiniteError, ShapeError, ValueError } from '../../engine/errors.js';
import { Rng } from '../../engine/random.js';
import type { LinearOperator } from '../operator.js';
import { checkIndexSet, dot, norm, pad, restrict } from './vectors.js';

/** What every solver reports next to its answer. */
export interface SolverDiagnostics {
  /** Which iteration produced the answer. */
  readonly method: 'richardson' | 'cgls';
  /** Iterations taken (restarts included). */
  readonly iterations: number;
  /** Hessian-vector products spent, power iteration and right-hand side included. */
  readonly hvps: number;
  /** `‖Mᵀ(g − M x)‖ / ‖Mᵀ g‖` of the returned x: the normal-equation residual (for GIF, `‖b − A x‖/‖b‖`). */
  readonly relativeResidual: number;
  /** `‖g − M x‖ / ‖g‖`: how much of the gradient change is left unexplained (not 0 for GIF in general). */
  readonly fitResidual: number;
  /** Restarts with a halved step size (Richardson only). */
  readonly restarts: number;
  /** Whether `relativeResidual ≤ tolerance` was reached. */
  readonly converged: boolean;
  /** Milliseconds of wall time. */
  readonly wallMs: number;
  /** The relative residual after each iteration (index 0: before the first). */
  readonly history: readonly number[];
  /** The estimate λ̂_max(A) and the final step size μ (Richardson only). */
  readonly lambdaMax?: number;
  readonly stepSize?: number;
}

/** A solution on the J coordinates and how it was reached. */
export interface LeastSquaresSolution {
  readonly x: Float64Array;
  readonly diagnostics: SolverDiagnostics;
}

/** A rectangular operator M (rows × cols) given by its products with vectors and its transpose. */
export interface RectangularOperator {
  readonly rows: number;
  readonly cols: number;
  apply(x: Float64Array): Float64Array;
  applyTranspose(r: Float64Array): Float64Array;
}

export interface KrylovOptions {
  /** Stop when the relative normal-equation residual falls to this (default 1e-6). */
  tolerance?: number;
  /** At most this many iterations (default 200). */
  maxIterations?: number;
  /** Called after each iteration with the relative residual (progress bars). */
  onIteration?: (iteration: number, relativeResidual: number) => void;
}

export interface RichardsonOptions extends KrylovOptions {
  /** Power-iteration steps for λ̂_max(A) (default 20). */
  powerIterations?: number;
  /** μ = safety / λ̂_max (default 0.9, as the SPEC says). */
  safety?: number;
  /** At most this many restarts with μ/2 (default 8). */
  maxRestarts?: number;
  /** Restart when no new best residual was reached in this many iterations (default 25). */
  stagnationWindow?: number;
  /** Seed of the power iteration's start vector (default 0). */
  seed?: number;
}

/**
 * The operator M = H_{:,J}: x (on J) ↦ H·pad_J(x), and its transpose r ↦ (H r)_J (H is
 * symmetric). Each product costs one HVP of `H`.
 * @example const M = columnOperator(H, J); M.apply(x) // H[:, J] x
 */
export function columnOperator(H: LinearOperator, J: Int32Array): RectangularOperator {
  checkIndexSet('columnOperator', J, H.size);
  return {
    rows: H.size,
    cols: J.length,
    apply: (x) => H.apply(pad(x, J, H.size)),
    applyTranspose: (r) => restrict(H.apply(r), J),
  };
}

/**
 * A symmetric square operator seen as a rectangular one (M = Mᵀ), e.g. H itself for the
 * all-parameter IF, or H_JJ for FIF.
 * @example leastSquaresCgls(symmetricOperator(H), g)
 */
export function symmetricOperator(A: LinearOperator): RectangularOperator {
  return { rows: A.size, cols: A.size, apply: (x) => A.apply(x), applyTranspose: (r) => A.apply(r) };
}

/**
 * H_JJ = P H Pᵀ as an operator on the J coordinates: x ↦ (H pad_J(x))_J, one HVP per product.
 * @example symmetricOperator(principalSubmatrix(H, J))
 */
export function principalSubmatrix(H: LinearOperator, J: Int32Array): LinearOperator {
  checkIndexSet('principalSubmatrix', J, H.size);
  return {
    size: J.length,
    apply: (x) => restrict(H.apply(pad(x, J, H.size)), J),
    get hvps() {
      return H.hvps;
    },
  };
}

function finiteOrThrow(where: string, v: Float64Array): Float64Array {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) throw new NonFiniteError(`${where}: the operator returned ${v[i]} at entry ${i}`);
  }
  return v;
}

/**
 * CGLS: minimises ‖M x − g‖ by conjugate gradients on MᵀM x = Mᵀg, without forming MᵀM. Works
 * for any M (rank-deficient, indefinite when square); from x₀ = 0 it converges to the
 * minimum-norm least-squares solution. Two operator products per iteration.
 * @example
 * const { x, diagnostics } = leastSquaresCgls(columnOperator(H, J), g, { tolerance: 1e-10 });
 */
export function leastSquaresCgls(M: RectangularOperator, g: Float64Array, options: KrylovOptions = {}, countHvps: () => number = () => 0): LeastSquaresSolution {
  const { tolerance = 1e-6, maxIterations = 200, onIteration } = options;
  if (g.length !== M.rows) throw new ShapeError(`leastSquaresCgls: right-hand side has ${g.length} entries, the operator ${M.rows} rows`);
  if (!(tolerance >= 0)) throw new ValueError(`leastSquaresCgls: tolerance must be ≥ 0, got ${tolerance}`);
  const start = performance.now();
  const hvps0 = countHvps();
  const x = new Float64Array(M.cols);
  const r = Float64Array.from(g);
  const gNorm = norm(g);
  let s = finiteOrThrow('leastSquaresCgls (Mᵀg)', M.applyTranspose(r));
  const bNorm = norm(s);
  const history: number[] = [bNorm === 0 ? 0 : 1];
  let gamma = bNorm * bNorm;
  const p = Float64Array.from(s);
  let iterations = 0;
  let rel = bNorm === 0 ? 0 : 1;
  while (rel > tolerance && iterations < maxIterations) {
    const q = finiteOrThrow('leastSquaresCgls (M p)', M.apply(p));
    const qq = dot(q, q);
    if (qq === 0) break; // p lies in the null space of M: no further progress is possible
    const alpha = gamma / qq;
    for (let i = 0; i < x.length; i++) x[i]! += alpha * p[i]!;
    for (let i = 0; i < r.length; i++) r[i]! -= alpha * q[i]!;
    s = finiteOrThrow('leastSquaresCgls (Mᵀr)', M.applyTranspose(r));
    const gammaNext = dot(s, s);
    const beta = gammaNext / gamma;
    gamma = gammaNext;
    for (let i = 0; i < p.length; i++) p[i] = s[i]! + beta * p[i]!;
    iterations++;
    rel = Math.sqrt(gamma) / bNorm;
    history.push(rel);
    onIteration?.(iterations, rel);
  }
  return {
    x,
    diagnostics: {
      method: 'cgls', iterations, hvps: countHvps() - hvps0, relativeResidual: rel,
      fitResidual: gNorm === 0 ? 0 : norm(r) / gNorm, restarts: 0, converged: rel <= tolerance,
      wallMs: performance.now() - start, history,
    },
  };
}

/**
 * GIF with a Krylov least-squares solver: CGLS on M = H_{:,J}. Returns Δθ_J on the J
 * coordinates; `diagnostics.hvps` counts every HVP of `H` it spent.
 * @example
 * const { x } = solveGifKrylov(H, J, g, { tolerance: 1e-8 });
 * const delta = pad(x, J, H.size); // add to θ
 */
export function solveGifKrylov(H: LinearOperator, J: Int32Array, g: Float64Array, options: KrylovOptions = {}): LeastSquaresSolution {
  if (g.length !== H.size) throw new ShapeError(`solveGifKrylov: g has ${g.length} entries, H has size ${H.size}`);
  return leastSquaresCgls(columnOperator(H, J), g, options, () => H.hvps);
}

/**
 * GIF with the paper's convergent solver (SPEC §4): Richardson iteration on the PSD normal
 * equations `A x = b`, `A = P H² P`, `b = (H g)_J`. The step size is μ = safety/λ̂_max(A) from a
 * few power-iteration steps; a non-finite, growing or stagnating residual restarts from the best
 * iterate with μ/2. Returns the iterate with the smallest residual. Converges for μ < 2/λ_max(A)
 * whatever the signs of H's eigenvalues.
 * @example
 * const { x, diagnostics } = solveGifRichardson(H, J, g, { tolerance: 1e-6, maxIterations: 500 });
 * diagnostics.relativeResidual; diagnostics.restarts;
 */
export function solveGifRichardson(H: LinearOperator, J: Int32Array, g: Float64Array, options: RichardsonOptions = {}): LeastSquaresSolution {
  const {
    tolerance = 1e-6, maxIterations = 200, onIteration, powerIterations = 20, safety = 0.9,
    maxRestarts = 8, stagnationWindow = 25, seed = 0,
  } = options;
  if (g.length !== H.size) throw new ShapeError(`solveGifRichardson: g has ${g.length} entries, H has size ${H.size}`);
  if (!(safety > 0 && safety < 2)) throw new ValueError(`solveGifRichardson: safety must be in (0, 2), got ${safety}`);
  if (!Number.isInteger(powerIterations) || powerIterations < 1) throw new ValueError(`solveGifRichardson: powerIterations must be a positive integer, got ${powerIterations}`);
  const start = performance.now();
  const hvps0 = H.hvps;
  const M = columnOperator(H, J);
  const A = (x: Float64Array): Float64Array => M.applyTranspose(M.apply(x));
  const b = finiteOrThrow('solveGifRichardson (b = (Hg)_J)', M.applyTranspose(g));
  const bNorm = norm(b);
  const gNorm = norm(g);
  const k = J.length;
  const finish = (x: Float64Array, rel: number, iterations: number, restarts: number, history: number[], lambdaMax: number, stepSize: number): LeastSquaresSolution => {
    const fit = gNorm === 0 ? 0 : norm(subtract(g, M.apply(x))) / gNorm;
    return {
      x,
      diagnostics: {
        method: 'richardson', iterations, hvps: H.hvps - hvps0, relativeResidual: rel, fitResidual: fit, restarts,
        converged: rel <= tolerance, wallMs: performance.now() - start, history, lambdaMax, stepSize,
      },
    };
  };
  if (bNorm === 0) return finish(new Float64Array(k), 0, 0, 0, [0], 0, 0);

  // λ̂_max(A) by power iteration from a random start (A is PSD, so the Rayleigh quotient is ≥ 0)
  const rng = new Rng(seed);
  let v: Float64Array = Float64Array.from({ length: k }, () => rng.normal());
  let lambda = 0;
  for (let t = 0; t < powerIterations; t++) {
    const nv = norm(v);
    for (let i = 0; i < k; i++) v[i]! /= nv;
    const Av = finiteOrThrow('solveGifRichardson (power iteration)', A(v));
    lambda = Math.max(lambda, dot(v, Av));
    v = Av;
    if (norm(v) === 0) break;
  }
  if (!(lambda > 0)) throw new NonFiniteError(`solveGifRichardson: power iteration estimated λ_max(PH²P) = ${lambda}; H_{:,J} appears to be zero`);
  let mu = safety / lambda;

  // iterate x ← x + μ r, with r = b − A x carried along: r ← r − μ A r (two HVPs per step)
  let x: Float64Array = new Float64Array(k);
  let r: Float64Array = Float64Array.from(b);
  let best = { x: Float64Array.from(x), rel: 1 };
  const history: number[] = [1];
  let iterations = 0, restarts = 0, sinceBest = 0, growing = 0, prevRel = 1;
  const restart = (): boolean => {
    if (restarts >= maxRestarts) return false;
    restarts++;
    mu /= 2;
    x = Float64Array.from(best.x);
    r = subtract(b, A(x));
    prevRel = norm(r) / bNorm;
    sinceBest = 0;
    growing = 0;
    return true;
  };
  while (best.rel > tolerance && iterations < maxIterations) {
    const Ar = A(r);
    for (let i = 0; i < k; i++) {
      x[i]! += mu * r[i]!;
      r[i]! -= mu * Ar[i]!;
    }
    iterations++;
    const rel = norm(r) / bNorm;
    history.push(rel);
    onIteration?.(iterations, Math.min(rel, best.rel));
    if (!Number.isFinite(rel) || rel > 10 * best.rel) {
      if (!restart()) break;
      continue;
    }
    if (rel < best.rel) {
      best = { x: Float64Array.from(x), rel };
      sinceBest = 0;
    } else sinceBest++;
    growing = rel > prevRel ? growing + 1 : 0;
    prevRel = rel;
    // For μ < 2/λ_max the residual (I − μA)^t b shrinks monotonically; growth or a long run
    // without a new best means μ is too large for some eigen-direction.
    if (growing >= 3 || sinceBest >= stagnationWindow) {
      if (!restart()) break;
    }
  }
  if (!Number.isFinite(best.rel)) throw new NonFiniteError('solveGifRichardson: no iterate had a finite residual');
  return finish(best.x, best.rel, iterations, restarts, history, lambda, mu);
}

function subtract(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! - b[i]!;
  return out;
}
