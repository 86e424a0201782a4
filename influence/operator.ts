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

/**
 * An operator that is an average of per-batch operators, `A = mean_k A_k`, and can also apply
 * a single `A_k` — what LiSSA samples from ("a fresh mini-batch per step"). `applyBatch`
 * counts one HVP as well (on a smaller batch, so it is cheaper than a full `apply`).
 */
export interface StochasticOperator extends LinearOperator {
  readonly batchCount: number;
  applyBatch(v: Float64Array, batchIndex: number): Float64Array;
}

/** True when `op` can apply one mini-batch at a time. @example isStochastic(op) */
export function isStochastic(op: LinearOperator): op is StochasticOperator {
  return typeof (op as Partial<StochasticOperator>).applyBatch === 'function'
    && typeof (op as Partial<StochasticOperator>).batchCount === 'number';
}

/** (A + λI)·x: λx added in place to A's product, which is a fresh array. @example applyDamped(H, v, 1e-3) */
export function applyDamped(op: LinearOperator, x: Float64Array, damping: number): Float64Array {
  const y = op.apply(x);
  if (damping !== 0) for (let i = 0; i < y.length; i++) y[i] = y[i]! + damping * x[i]!;
  return y;
}

/**
 * `A + λI` as an operator, counting A's HVPs (λ = 0 gives A itself): one undamped Hessian can
 * serve several dampings.
 * @example dampedOperator(H, 0.1).apply(v) // H·v + 0.1·v
 */
export function dampedOperator(op: LinearOperator, damping: number): LinearOperator {
  if (damping === 0) return op;
  return { size: op.size, apply: (v) => applyDamped(op, v, damping), get hvps() { return op.hvps; } };
}

/**
 * A LinearOperator from a function, counting one HVP per application. For tests and for
 * operators that are not Hessians of a model (a dense matrix, a diagonal).
 * @example
 * const op = operatorFromFunction(2, (v) => Float64Array.of(2 * v[0]!, 3 * v[1]!));
 */
export function operatorFromFunction(size: number, apply: (v: Float64Array) => Float64Array): LinearOperator {
  let hvps = 0;
  return {
    size,
    apply(v) {
      hvps++;
      return apply(v);
    },
    get hvps() {
      return hvps;
    },
  };
}

/**
 * The operator of a dense row-major `size × size` matrix (counts each product as one HVP).
 * @example denseOperator(Float64Array.of(2, 0, 0, 3), 2).apply(Float64Array.of(1, 1)) // [2, 3]
 */
export function denseOperator(matrix: Float64Array, size: number): LinearOperator {
  return operatorFromFunction(size, (v) => {
    const out = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      let s = 0;
      const row = i * size;
      for (let j = 0; j < size; j++) s += matrix[row + j]! * v[j]!;
      out[i] = s;
    }
    return out;
  });
}
