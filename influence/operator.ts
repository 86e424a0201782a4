/**
 * Linear operators on flat parameter vectors. Every inverse-HVP solver takes one of these —
 * never a dense matrix (except the exact solver, which builds one column by column).
 */

/** v ↦ A·v on Float64Array vectors of length `size`, counting the HVPs it spends. */
export interface LinearOperator {
  readonly size: number;
  apply(v: Float64Array): Float64Array;
  /** Hessian-vector products spent so far by this operator (the unit solvers are costed in). */
  readonly hvps: number;
}
