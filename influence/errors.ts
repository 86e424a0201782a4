/**
 * Typed errors of the influence solvers. Both extend the engine's GiftError family, so callers
 * can catch them by kind: a diverging iteration is a NonFiniteError (its numbers blow up or
 * would), curvature of the wrong sign is a ValueError (the operator is not what CG needs).
 */
import { NonFiniteError, ValueError } from '../engine/index.js';

/** What a solver had done when it stopped. */
export interface SolverState {
  readonly solver: string;
  readonly iteration: number;
  readonly hvps: number;
}

/**
 * An iterative solver whose iterates grew or became non-finite (LiSSA with a scale below
 * λ_max(H + λI), or with H + λI not positive definite). No number is returned: the message says
 * what grew, where, and how to fix it (damping, scale, GGN).
 * @example if (e instanceof SolverDivergedError) console.log(e.state.solver, e.state.iteration)
 */
export class SolverDivergedError extends NonFiniteError {
  constructor(message: string, readonly state: SolverState) {
    super(message);
  }
}

/**
 * CG met a direction p with pᵀ(H + λI)p ≤ 0: the system is not positive definite, so CG's
 * answer would be meaningless. Add damping above −λ_min(H) or use the Gauss-Newton operator.
 * @example if (e instanceof IndefiniteError) console.log(e.curvature)
 */
export class IndefiniteError extends ValueError {
  constructor(message: string, readonly state: SolverState, readonly curvature: number) {
    super(message);
  }
}

/** A system whose matrix is (numerically) singular, so H⁻¹v does not exist. @example if (e instanceof SingularSystemError) console.log(e.smallestEigenvalue) */
export class SingularSystemError extends ValueError {
  constructor(message: string, readonly smallestEigenvalue: number) {
    super(message);
  }
}
