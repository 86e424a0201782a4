/**
 * Forward mode. A JVP tracer carries a primal and its tangent; applying a primitive computes the
 * primal output one level down and asks the primitive's `jvp` rule for the output tangent.
 */
import { Tensor, zerosLike } from '../tensor.js';
import { bind, Trace, Tracer, withTrace, type MaybeTensor, type Primitive } from '../trace.js';
import { flattenTree, leavesLike, type Tree } from '../tree.js';

class JVPTracer extends Tracer {
  constructor(readonly trace: JVPTrace, readonly primal: Tensor, readonly tangent: Tensor) {
    super();
  }
}

class JVPTrace extends Trace {
  constructor(level: number) {
    super(level, 'jvp');
  }
  process<P>(prim: Primitive<P>, inputs: readonly Tensor[], params: P): Tensor {
    const mine = (x: Tensor): x is JVPTracer => x instanceof JVPTracer && x.trace === this;
    const primals = inputs.map((x) => (mine(x) ? x.primal : x));
    const tangents: MaybeTensor[] = inputs.map((x) => (mine(x) ? x.tangent : null));
    const out = bind(prim, primals, params);
    const tangent = prim.jvp(tangents, primals, out, params);
    return tangent === null ? out : new JVPTracer(this, out, tangent);
  }
}

/**
 * Evaluates `f` at `primals` and its directional derivative along `tangents` in one pass.
 * `primals` and `tangents` are trees of the same structure, matched by key (see `leavesLike`);
 * returns `[f(primals), ∂f·tangents]`.
 * @example
 * const [y, dy] = jvp((x) => mul(x, x), tensor(3), tensor(1)); // y = 9, dy = 6
 */
export function jvp<T extends Tree, R extends Tree>(f: (x: T) => R, primals: T, tangents: T): [R, R] {
  const p = flattenTree(primals);
  const t = leavesLike(primals, tangents, 'jvp', 'tangents');
  return withTrace((level) => new JVPTrace(level), (trace) => {
    const inputs = p.leaves.map((x, i) => new JVPTracer(trace, x, t[i] as Tensor));
    const out = flattenTree(f(p.unflatten(inputs)));
    const outPrimals = out.leaves.map((y) => (y instanceof JVPTracer && y.trace === trace ? y.primal : y));
    const outTangents = out.leaves.map((y) => (y instanceof JVPTracer && y.trace === trace ? y.tangent : zerosLike(y)));
    return [out.unflatten(outPrimals), out.unflatten(outTangents)];
  });
}
