/**
 * Reverse mode. A VJP tracer carries a primal and the tape node that produced it. The forward
 * pass runs eagerly one level down and records, for each primitive, its inputs and output. The
 * pullback walks the nodes in reverse topological order and applies each primitive's `vjp`
 * rule. Rules are written with ops on the recorded primals, which may themselves be tracers of
 * an outer transform: that is how hvp = jvp(grad f) and grad(grad f) work.
 */
import { DTypeError, ShapeError, TransformError, fmtShape } from '../errors.js';
import { sameShape } from '../shape.js';
import { Tensor, zerosLike } from '../tensor.js';
import { bind, Trace, Tracer, withTrace, type MaybeTensor, type Primitive } from '../trace.js';
import { flattenTree, type Tree } from '../tree.js';
import { add } from '../primitives/add.js';

interface Node {
  readonly prim: Primitive<unknown>;
  readonly primals: readonly Tensor[];
  readonly params: unknown;
  readonly parents: readonly (VJPTracer | null)[];
}

class VJPTracer extends Tracer {
  constructor(readonly trace: VJPTrace, readonly primal: Tensor, readonly node: Node | null) {
    super();
  }
}

class VJPTrace extends Trace {
  constructor(level: number) {
    super(level, 'vjp');
  }
  process<P>(prim: Primitive<P>, inputs: readonly Tensor[], params: P): Tensor {
    const parents = inputs.map((x) => (x instanceof VJPTracer && x.trace === this ? x : null));
    const primals = inputs.map((x, i) => parents[i]?.primal ?? x);
    const out = bind(prim, primals, params);
    return new VJPTracer(this, out, { prim: prim as Primitive<unknown>, primals, params, parents });
  }
}

/** Nodes reachable from `root`, parents before children. */
function topologicalOrder(root: VJPTracer): VJPTracer[] {
  const order: VJPTracer[] = [];
  const seen = new Set<VJPTracer>();
  const stack: [VJPTracer, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [t, expanded] = stack.pop()!;
    if (expanded) { order.push(t); continue; }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    for (const p of t.node?.parents ?? []) if (p !== null && !seen.has(p)) stack.push([p, false]);
  }
  return order;
}

function backward(out: VJPTracer, ct: Tensor): Map<VJPTracer, Tensor> {
  const cts = new Map<VJPTracer, Tensor>([[out, ct]]);
  const order = topologicalOrder(out);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i]!;
    const g = cts.get(t);
    if (t.node === null || g === undefined) continue;
    const { prim, primals, params, parents } = t.node;
    const inputCts: readonly MaybeTensor[] = prim.vjp(g, primals, t.primal, params, parents.map((p) => p !== null));
    parents.forEach((p, j) => {
      const c = inputCts[j];
      if (p === null || c === null || c === undefined) return;
      const prev = cts.get(p);
      cts.set(p, prev === undefined ? c : add(prev, c));
    });
    cts.delete(t); // free intermediate cotangents as we go
  }
  return cts;
}

/**
 * Evaluates `f` at `primals` and returns its value with a pullback: `ct ↦ ctᵀ·∂f(primals)`,
 * a tree shaped like `primals`.
 * @example
 * const [y, pullback] = vjp((x) => sum(mul(x, x)), tensor([1, 2]));
 * pullback(scalar(1)); // [2, 4]
 */
export function vjp<T extends Tree>(f: (x: T) => Tensor, primals: T): [Tensor, (ct: Tensor) => T] {
  const p = flattenTree(primals);
  return withTrace((level) => new VJPTrace(level), (trace) => {
    const inputs = p.leaves.map((x) => new VJPTracer(trace, x, null));
    const y = f(p.unflatten(inputs));
    if (!(y instanceof Tensor)) throw new TransformError('vjp: the function must return a single Tensor');
    const traced = y instanceof VJPTracer && y.trace === trace;
    const value = traced ? y.primal : y;
    const pullback = (ct: Tensor): T => {
      if (!sameShape(ct.shape, value.shape)) throw new ShapeError(`vjp: cotangent shape ${fmtShape(ct.shape)} differs from the output's ${fmtShape(value.shape)}`);
      if (ct.dtype !== value.dtype) throw new DTypeError(`vjp: cotangent is ${ct.dtype}, the output ${value.dtype}`);
      const cts = traced ? backward(y, ct) : new Map<VJPTracer, Tensor>();
      return p.unflatten(inputs.map((x) => cts.get(x) ?? zerosLike(x.primal)));
    };
    return [value, pullback];
  });
}


