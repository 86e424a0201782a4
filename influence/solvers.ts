/**
 * Inverse-HVP solvers (SPEC §3): each solves `(A + λI) x = v` for an operator A (a Hessian
 * operator, usually) and a damping λ given here, and reports what it spent. Damping may also
 * be built into the operator (`hessianOperator(..., { damping })`); the two add up, so give it
 * in one place.
 *
 * - `exact`: dense A from `size` operator columns; Cholesky, or an eigendecomposition when
 *   A + λI is indefinite (then x = Σ uᵢuᵢᵀv/μᵢ, still the unique solution when nonsingular).
 * - `cg`: conjugate gradient. Needs A + λI positive definite; meeting curvature ≤ 0 throws an
 *   {@link IndefiniteError} rather than returning a meaningless vector.
 * - `lissa`: the stochastic Neumann series `x₀ = v, x_{t+1} = v + x_t − (A_{B_t} + λI)x_t/s`,
 *   result `x_T/s`, averaged over repeats. Converges only when A + λI ≻ 0 and s > λ_max; growth
 *   or non-finite iterates throw a {@link SolverDivergedError}.
 *
 * No solver returns NaN: non-finite inputs and iterates are typed errors.
 */
import { NonFiniteError, Rng, ShapeError, ValueError } from '../engine/index.js';
import { IndefiniteError, SingularSystemError, SolverDivergedError } from './errors.js';
import { assertFinite } from './hessian.js';
import { cholesky, choleskySolve, dot, norm, symmetricEigen } from './linalg.js';
import { applyDamped, isStochastic, type LinearOperator } from './operator.js';

/** The answer of every solver, with its diagnostics. */
export interface SolveResult {
  readonly solver: 'exact' | 'cg' | 'lissa';
  /** The solution of (A + λI) x = v. */
  readonly x: Float64Array;
  readonly iterations: number;
  /** Operator applications spent (the exact solver's are its `size` columns, plus none). */
  readonly hvps: number;
  /** ‖(A + λI)x − v‖ / ‖v‖ with the full operator (0 when v = 0). */
  readonly relativeResidual: number;
  /**
   * Whether the tolerance was met: cg `relativeResidual ≤ tol`; exact `< 1e-6`; lissa
   * `≤ max(tol, 1e-3)` (a mini-batch run reports its full-operator residual honestly).
   */
  readonly converged: boolean;
  readonly wallTimeMs: number;
}

/** Options every solver accepts. */
export interface SolveOptions {
  /** λ in (A + λI) x = v, on top of any damping inside the operator (0 by default). */
  damping?: number;
}

function checkRhs(solver: string, op: LinearOperator, v: Float64Array, damping: number): void {
  if (v.length !== op.size) throw new ShapeError(`${solver}: right-hand side has ${v.length} entries, the operator ${op.size}`);
  assertFinite(`${solver}: right-hand side`, v);
  if (!Number.isFinite(damping) || damping < 0) throw new ValueError(`${solver}: damping must be a finite number ≥ 0, got ${damping}`);
}

function relResidual(ax: Float64Array, v: Float64Array): number {
  const vn = norm(v);
  let r = 0;
  for (let i = 0; i < v.length; i++) r += (ax[i]! - v[i]!) ** 2;
  return vn === 0 ? Math.sqrt(r) : Math.sqrt(r) / vn;
}

/** The dense matrix of an operator (size columns, symmetrised), for `exact` and for tests. @example denseMatrix(H) // row-major size×size */
export function denseMatrix(op: LinearOperator, onProgress?: (done: number, total: number) => void): Float64Array {
  const n = op.size;
  const m = new Float64Array(n * n);
  const e = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    e.fill(0);
    e[j] = 1;
    const col = op.apply(e);
    for (let i = 0; i < n; i++) m[i * n + j] = col[i]!;
    onProgress?.(j + 1, n);
  }
  // HVPs are symmetric up to rounding; average so Cholesky and Jacobi see an exactly symmetric matrix
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) {
    const s = (m[i * n + j]! + m[j * n + i]!) / 2;
    m[i * n + j] = s;
    m[j * n + i] = s;
  }
  return m;
}

/**
 * A dense factorisation of A + λI that solves many right-hand sides: Cholesky when positive
 * definite, else an eigendecomposition. Built from `size` HVPs once.
 * @example const f = factorize(H, { damping: 1e-3 }); f.solve(v)
 */
export interface Factorization {
  readonly kind: 'cholesky' | 'eigen';
  readonly size: number;
  readonly hvps: number;
  /** The smallest eigenvalue of A + λI when the eigendecomposition was needed, else null. */
  readonly smallestEigenvalue: number | null;
  solve(v: Float64Array): Float64Array;
  /** (A + λI)·x with the dense matrix (no HVP). */
  multiply(x: Float64Array): Float64Array;
}

/** Builds a {@link Factorization} of `op` + λI. @example factorize(H).solve(v) */
export function factorize(op: LinearOperator, options: SolveOptions & { onProgress?: (done: number, total: number) => void } = {}): Factorization {
  const damping = options.damping ?? 0;
  if (!Number.isFinite(damping) || damping < 0) throw new ValueError(`exact: damping must be a finite number ≥ 0, got ${damping}`);
  if (op.size > 6000) throw new ValueError(`exact: ${op.size} parameters need a ${op.size}×${op.size} dense matrix; use cg or lissa`);
  const before = op.hvps;
  const n = op.size;
  const m = denseMatrix(op, options.onProgress);
  for (let i = 0; i < n; i++) m[i * n + i] = m[i * n + i]! + damping;
  assertFinite('exact: dense Hessian', m);
  const hvps = op.hvps - before;
  const multiply = (x: Float64Array): Float64Array => {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += m[i * n + j]! * x[j]!;
      y[i] = s;
    }
    return y;
  };
  const l = cholesky(m, n);
  if (l !== null) return { kind: 'cholesky', size: n, hvps, smallestEigenvalue: null, solve: (v) => choleskySolve(l, n, v), multiply };
  const { values, vectors } = symmetricEigen(m, n);
  let maxAbs = 0, minAbs = Infinity, smallest = Infinity;
  for (const mu of values) {
    maxAbs = Math.max(maxAbs, Math.abs(mu));
    minAbs = Math.min(minAbs, Math.abs(mu));
    smallest = Math.min(smallest, mu);
  }
  if (minAbs <= 1e-12 * maxAbs) {
    throw new SingularSystemError(`exact: A + λI is singular (eigenvalue of magnitude ${minAbs.toExponential(3)} against a largest ${maxAbs.toExponential(3)}); add damping`, smallest);
  }
  return {
    kind: 'eigen', size: n, hvps, smallestEigenvalue: smallest, multiply,
    solve(v) {
      const x = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        let c = 0;
        for (let i = 0; i < n; i++) c += vectors[i * n + k]! * v[i]!;
        c /= values[k]!;
        for (let i = 0; i < n; i++) x[i] = x[i]! + c * vectors[i * n + k]!;
      }
      return x;
    },
  };
}

/**
 * Solves (A + λI) x = v densely: `size` HVPs to build A, then Cholesky (or an eigendecomposition
 * when indefinite). The ground truth for the iterative solvers on small models.
 * @example exact(hessianOperator(objective, params, [batch]), v, { damping: 1e-3 }).x
 */
export function exact(op: LinearOperator, v: Float64Array, options: SolveOptions = {}): SolveResult {
  const start = performance.now();
  const damping = options.damping ?? 0;
  checkRhs('exact', op, v, damping);
  const f = factorize(op, { damping });
  const x = f.solve(v);
  assertFinite('exact: solution', x);
  const relativeResidual = relResidual(f.multiply(x), v);
  return { solver: 'exact', x, iterations: 1, hvps: f.hvps, relativeResidual, converged: relativeResidual < 1e-6, wallTimeMs: performance.now() - start };
}

/** Options of {@link cg}. */
export interface CgOptions extends SolveOptions {
  /** Stop when ‖r‖/‖v‖ ≤ tol (1e-6 by default). */
  tol?: number;
  /** At most this many iterations (default: the operator size, capped at 1000). */
  maxIterations?: number;
  /** Start from x₀ (zeros by default): a previous solution warm-starts a nearby solve. */
  x0?: Float64Array;
  onIteration?: (iteration: number, relativeResidual: number) => void;
}

/**
 * Conjugate gradient on (A + λI) x = v. One HVP per iteration (plus one with a nonzero x₀).
 * Throws an {@link IndefiniteError} on curvature pᵀ(A + λI)p ≤ 0, naming the iteration and value.
 * Reaching `maxIterations` is not an error: the result says `converged: false`.
 * @example cg(H, v, { damping: 1e-3, tol: 1e-8 })
 */
export function cg(op: LinearOperator, v: Float64Array, options: CgOptions = {}): SolveResult {
  const start = performance.now();
  const damping = options.damping ?? 0;
  checkRhs('cg', op, v, damping);
  const tol = options.tol ?? 1e-6;
  const maxIterations = options.maxIterations ?? Math.min(op.size, 1000);
  const before = op.hvps;
  const n = op.size;
  const vn = norm(v);
  const x = options.x0 ? Float64Array.from(options.x0) : new Float64Array(n);
  if (x.length !== n) throw new ShapeError(`cg: x0 has ${x.length} entries, the operator ${n}`);
  if (vn === 0) return { solver: 'cg', x: new Float64Array(n), iterations: 0, hvps: 0, relativeResidual: 0, converged: true, wallTimeMs: performance.now() - start };
  const r = options.x0 ? (() => { const ax = applyDamped(op, x, damping); return v.map((vi, i) => vi - ax[i]!); })() : Float64Array.from(v);
  const p = Float64Array.from(r);
  let rr = dot(r, r);
  let iterations = 0;
  while (Math.sqrt(rr) / vn > tol && iterations < maxIterations) {
    const ap = applyDamped(op, p, damping);
    const curvature = dot(p, ap);
    const state = { solver: 'cg', iteration: iterations, hvps: op.hvps - before };
    if (!Number.isFinite(curvature)) throw new SolverDivergedError(`cg: non-finite curvature at iteration ${iterations}`, state);
    if (curvature <= 0) {
      throw new IndefiniteError(
        `cg: A + λI is not positive definite: pᵀ(A + λI)p/‖p‖² = ${(curvature / dot(p, p)).toExponential(3)} ≤ 0 at iteration ${iterations} (λ = ${damping}); add damping above −λ_min or use the Gauss-Newton operator`,
        state, curvature / dot(p, p));
    }
    const alpha = rr / curvature;
    for (let i = 0; i < n; i++) {
      x[i] = x[i]! + alpha * p[i]!;
      r[i] = r[i]! - alpha * ap[i]!;
    }
    const rrNew = dot(r, r);
    const beta = rrNew / rr;
    for (let i = 0; i < n; i++) p[i] = r[i]! + beta * p[i]!;
    rr = rrNew;
    iterations++;
    options.onIteration?.(iterations, Math.sqrt(rr) / vn);
  }
  assertFinite('cg: solution', x);
  // the recursive residual drifts from the true one; report the true one (one more HVP)
  const relativeResidual = relResidual(applyDamped(op, x, damping), v);
  return { solver: 'cg', x, iterations, hvps: op.hvps - before, relativeResidual, converged: relativeResidual <= Math.max(tol, 1e-12) * 1.5, wallTimeMs: performance.now() - start };
}

/** Options of {@link lissa}. */
export interface LissaOptions extends SolveOptions {
  /** Independent runs r averaged together (1 by default). */
  repeats?: number;
  /** Steps T per run (1000 by default; with a full-batch operator `tol` may stop earlier). */
  depth?: number;
  /**
   * The scale s, which must exceed λ_max(A + λI). 'auto' (default) estimates λ_max with
   * `powerIterations` steps of power iteration and takes 1.5× the estimate; with mini-batches it
   * takes the largest estimate over the full operator and three sampled batches (half the
   * steps each), since one batch's λ_max can exceed the average's.
   */
  scale?: number | 'auto';
  powerIterations?: number;
  /**
   * Full-batch operators only: stop a run once ‖residual‖/‖v‖ ≤ tol. With a deterministic
   * operator the LiSSA update `v − (A + λI)x_t/s` *is* the residual of the iterate x_t/s,
   * so this costs nothing. Default 0 (run all `depth` steps).
   */
  tol?: number;
  /** A run diverges when its update norm exceeds this multiple of its first one (100). */
  growthLimit?: number;
  seed?: number;
  onStep?: (repeat: number, step: number, updateNorm: number) => void;
}

/**
 * λ_max estimate of |A + λI| by power iteration (`iterations` HVPs from a random start).
 * @example largestEigenvalue(H, 20, 0)
 */
export function largestEigenvalue(op: LinearOperator, iterations = 20, seed = 0, damping = 0): number {
  const rng = new Rng(seed);
  let x: Float64Array = Float64Array.from({ length: op.size }, () => rng.normal());
  let lambda = 0;
  for (let k = 0; k < iterations; k++) {
    const xn = norm(x);
    for (let i = 0; i < x.length; i++) x[i] = x[i]! / xn;
    const y = applyDamped(op, x, damping);
    lambda = Math.abs(dot(x, y));
    const yn = norm(y);
    if (!Number.isFinite(yn)) throw new NonFiniteError('largestEigenvalue: the operator produced non-finite values');
    if (yn === 0) return 0;
    lambda = Math.max(lambda, yn); // ‖Ax‖ with ‖x‖ = 1 bounds |μ| of the dominant component from below too
    x = y;
  }
  return lambda;
}

/**
 * LiSSA (Agarwal et al. 2017, in Koh & Liang's form; SPEC §3). Each step uses a fresh random
 * mini-batch when the operator is a {@link StochasticOperator} (a Hessian over several
 * batches), else the full operator. The iterate of one run converges to s·(A + λI)⁻¹v when
 * A + λI ≻ 0 and s > λ_max. Divergence — a non-finite iterate, an update norm above
 * `growthLimit` × the first, or (full-batch) an update norm that grows for 5 steps in a row,
 * impossible when the iteration contracts — throws {@link SolverDivergedError}.
 * @example lissa(H, v, { damping: 0.01, depth: 500, repeats: 2 })
 */
export function lissa(op: LinearOperator, v: Float64Array, options: LissaOptions = {}): SolveResult {
  const start = performance.now();
  const damping = options.damping ?? 0;
  checkRhs('lissa', op, v, damping);
  const repeats = options.repeats ?? 1;
  const depth = options.depth ?? 1000;
  const tol = options.tol ?? 0;
  const growthLimit = options.growthLimit ?? 100;
  if (!Number.isInteger(repeats) || repeats < 1) throw new ValueError(`lissa: repeats must be a positive integer, got ${repeats}`);
  if (!Number.isInteger(depth) || depth < 1) throw new ValueError(`lissa: depth must be a positive integer, got ${depth}`);
  const before = op.hvps;
  const rng = new Rng(options.seed ?? 0);
  let s: number;
  if (options.scale === undefined || options.scale === 'auto') {
    let estimate = largestEigenvalue(op, options.powerIterations ?? 20, options.seed ?? 0, damping);
    if (isStochastic(op) && op.batchCount > 1) {
      // a single mini-batch's Hessian can have a larger λ_max than the average: check a few
      for (let k = 0; k < Math.min(3, op.batchCount); k++) {
        const batch = rng.int(op.batchCount);
        const one = { size: op.size, hvps: 0, apply: (x: Float64Array) => op.applyBatch(x, batch) };
        estimate = Math.max(estimate, largestEigenvalue(one, Math.ceil((options.powerIterations ?? 20) / 2), (options.seed ?? 0) + k + 1, damping));
      }
    }
    if (estimate === 0) throw new ValueError('lissa: the operator is zero; there is nothing to invert');
    s = 1.5 * estimate;
  } else {
    s = options.scale;
    if (!Number.isFinite(s) || s <= 0) throw new ValueError(`lissa: scale must be a positive number, got ${s}`);
  }
  const stochastic = isStochastic(op) && op.batchCount > 1;
  const n = op.size;
  const vn = norm(v);
  if (vn === 0) return { solver: 'lissa', x: new Float64Array(n), iterations: 0, hvps: op.hvps - before, relativeResidual: 0, converged: true, wallTimeMs: performance.now() - start };
  const sum = new Float64Array(n);
  let iterations = 0;
  for (let rep = 0; rep < repeats; rep++) {
    const x = Float64Array.from(v);
    let first = 0, previous = Infinity, growing = 0;
    for (let t = 0; t < depth; t++) {
      const ax = stochastic && isStochastic(op) ? op.applyBatch(x, rng.int(op.batchCount)) : op.apply(x);
      // update u = v − (A + λI)x/s; x ← x + u. Without mini-batches, u is the residual of x/s.
      let un = 0;
      for (let i = 0; i < n; i++) {
        const u = v[i]! - (ax[i]! + damping * x[i]!) / s;
        x[i] = x[i]! + u;
        un += u * u;
      }
      un = Math.sqrt(un);
      iterations++;
      options.onStep?.(rep, t, un);
      const state = { solver: 'lissa', iteration: t, hvps: op.hvps - before };
      const advice = `(scale s = ${s.toPrecision(4)}, damping λ = ${damping}): LiSSA needs A + λI positive definite and s > λ_max(A + λI); raise the damping or the scale, or use the Gauss-Newton operator`;
      if (!Number.isFinite(un)) throw new SolverDivergedError(`lissa: iterate became non-finite at step ${t} of repeat ${rep} ${advice}`, state);
      if (t === 0) first = un;
      else if (un > growthLimit * first) throw new SolverDivergedError(`lissa: update norm grew from ${first.toExponential(3)} to ${un.toExponential(3)} by step ${t} of repeat ${rep} ${advice}`, state);
      if (!stochastic) {
        growing = un > previous * (1 + 1e-9) ? growing + 1 : 0;
        if (growing >= 5) throw new SolverDivergedError(`lissa: update norm grew for ${growing} steps in a row (now ${un.toExponential(3)}) at step ${t} of repeat ${rep} ${advice}`, state);
        if (un <= tol * vn) break; // u_t is the residual of x_t/s, an upper bound for x_{t+1}/s's
      }
      previous = un;
    }
    for (let i = 0; i < n; i++) sum[i] = sum[i]! + x[i]! / s;
  }
  const x = Float64Array.from(sum, (xi) => xi / repeats);
  assertFinite('lissa: solution', x);
  const relativeResidual = relResidual(applyDamped(op, x, damping), v);
  if (relativeResidual > 1) {
    throw new SolverDivergedError(`lissa: final relative residual ${relativeResidual.toExponential(3)} is worse than x = 0 (scale ${s.toPrecision(4)}, damping ${damping}); the iteration did not converge — raise damping or depth`, { solver: 'lissa', iteration: depth, hvps: op.hvps - before });
  }
  return { solver: 'lissa', x, iterations, hvps: op.hvps - before, relativeResidual, converged: relativeResidual <= Math.max(tol, 1e-3), wallTimeMs: performance.now() - start };
}

/** Which solver to use and its options, as stored with results. */
export type SolverSpec =
  | ({ method: 'exact' } & SolveOptions)
  | ({ method: 'cg' } & Omit<CgOptions, 'x0' | 'onIteration'>)
  | ({ method: 'lissa' } & Omit<LissaOptions, 'onStep'>);

/** Runs the solver a {@link SolverSpec} names. @example solve(H, v, { method: 'cg', damping: 1e-3 }) */
export function solve(op: LinearOperator, v: Float64Array, spec: SolverSpec): SolveResult {
  switch (spec.method) {
    case 'exact': return exact(op, v, spec);
    case 'cg': return cg(op, v, spec);
    case 'lissa': return lissa(op, v, spec);
    default: throw new ValueError(`solve: unknown method ${(spec as { method: string }).method}; use exact, cg or lissa`);
  }
}
