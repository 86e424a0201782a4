/**
 * Linearize: evaluate `f` once at x and get back its JVP at x as a function of the tangent alone,
 * which can then be applied to many tangents without redoing any of f's primal work — JAX's
 * `jax.linearize`, built by partial evaluation as in autodidax.
 *
 * Every op a JVP runs is of one of two kinds: *primal* ops see only primal values (the forward
 * pass, and for `jvp(grad f)` the backward pass too), *tangent* ops see at least one tangent.
 * The tangent ops are linear in the input tangent. So `linearize` runs `jvp` once with
 * **staged** tangents: tracers of a staging trace *below* the JVP trace. Primal ops never touch
 * a staged value, so they run now, and their results become constants. Tangent ops land in the
 * staging trace, which records them as equations of a small linear program (and also computes
 * them on a zero example tangent, so every staged value knows its shape). Applying the result
 * replays only the recorded equations: for a Hessian-vector product `linearize(grad f)` that is
 * about half the work of a fresh `hvp`, and the primal forward and backward run once.
 */
import { TransformError } from '../errors.js';
import { Tensor, scalar, zerosLike } from '../tensor.js';
import type { TypedArray } from '../dtype.js';
import { bind, Trace, Tracer, withTrace, type Primitive } from '../trace.js';
import { flattenTree, leavesLike, type Tree } from '../tree.js';
import { jvp } from './jvp.js';
import { keep } from '../backends/gpu/scope.js';

/** One recorded tangent op: `vars[out] = prim(args…)`, an argument a variable index or a constant. */
interface Equation {
  readonly prim: Primitive<unknown>;
  readonly args: readonly (number | Tensor)[];
  readonly params: unknown;
  readonly out: number;
}

/** A staged value: a variable of the linear program, with a zero-tangent example for its shape. */
class StagedTracer extends Tracer {
  constructor(readonly trace: StagingTrace, readonly primal: Tensor, readonly id: number) {
    super();
  }
  // A staged tangent has no value until the linear function is applied to a real tangent.
  override toArray(): TypedArray {
    throw new TransformError('linearize: a tangent was read (toArray) while being linearized; tangents have values only when the linear function is applied');
  }
}

class StagingTrace extends Trace {
  readonly equations: Equation[] = [];
  variables = 0;
  constructor(level: number) {
    super(level, 'linearize');
  }
  stage(example: Tensor): StagedTracer {
    return new StagedTracer(this, example, this.variables++);
  }
  process<P>(prim: Primitive<P>, inputs: readonly Tensor[], params: P): Tensor {
    const mine = (x: Tensor): x is StagedTracer => x instanceof StagedTracer && x.trace === this;
    const example = bind(prim, inputs.map((x) => (mine(x) ? x.primal : x)), params);
    const out = this.stage(example);
    this.equations.push({ prim: prim as Primitive<unknown>, args: inputs.map((x) => (mine(x) ? x.id : x)), params, out: out.id });
    return out;
  }
}

/** The equations the outputs depend on (a backward liveness pass drops the rest). */
function liveEquations(equations: readonly Equation[], outputs: readonly number[]): Equation[] {
  const live = new Set(outputs);
  const kept: Equation[] = [];
  for (let i = equations.length - 1; i >= 0; i--) {
    const eq = equations[i]!;
    if (!live.has(eq.out)) continue;
    kept.push(eq);
    for (const a of eq.args) if (typeof a === 'number') live.add(a);
  }
  return kept.reverse();
}

/**
 * Evaluates `f` at `primals` and returns `[f(primals), jvpAt]`, where `jvpAt(tangents)` is
 * `∂f(primals)·tangents` — the same as `jvp(f, primals, tangents)[1]`, but each call runs only
 * the tangent half of the JVP. Use it when one point meets many tangents: a Hessian operator
 * at θ* is `linearize(grad(loss), θ*)`, then every solver iteration is one `jvpAt(v)`.
 *
 * The linear function keeps the primal intermediates its tangent ops need (for a network: the
 * activations of the batch), exempt from any gpu `tidy` scope it was made in, until the
 * function itself is garbage-collected.
 * @example
 * const [value, hvpAt] = linearize(grad((x: Tensor) => sum(pow(x, 3))), tensor([1, 2]));
 * hvpAt(tensor([1, 0])); // [6, 0]
 * hvpAt(tensor([0, 1])); // [0, 12], without recomputing the gradient
 */
export function linearize<T extends Tree, R extends Tree>(f: (x: T) => R, primals: T): [R, (tangents: T) => R] {
  const p = flattenTree(primals);
  return withTrace((level) => new StagingTrace(level), (trace) => {
    const inputs = p.leaves.map((x) => trace.stage(zerosLike(x)));
    const [value, outTangents] = jvp(f, primals, p.unflatten(inputs));
    const values = flattenTree(value);
    if (values.leaves.some((y) => y instanceof StagedTracer)) {
      throw new TransformError('linearize: an output of f depends on the tangent; f must use its inputs only through ops');
    }
    const out = flattenTree(outTangents);
    // an output tangent is a variable of the program, or a constant (zero) that no tangent reaches
    const results = out.leaves.map((y) => (y instanceof StagedTracer && y.trace === trace ? y.id : y));
    const program = liveEquations(trace.equations, results.filter((r): r is number => typeof r === 'number'));
    // the closure keeps only what replays need: not the trace, its dead equations or the examples
    const variableCount = trace.variables;
    const inputIds = inputs.map((x) => x.id);
    // The program's constants outlive this call: a gpu `tidy` around it must not release them
    // (a no-op for host tensors). They are freed with the linear map, by the garbage collector.
    keep([...program.flatMap((eq) => eq.args.filter((a): a is Tensor => typeof a !== 'number')), ...results.filter((r): r is Tensor => typeof r !== 'number')]);
    const placeholder = scalar(0);
    const rebuild = flattenTree(out.unflatten(out.leaves.map(() => placeholder))).unflatten;

    const jvpAt = (tangents: T): R => {
      const t = leavesLike(primals, tangents, 'linearize', 'tangents');
      const vars: Tensor[] = new Array<Tensor>(variableCount);
      t.forEach((v, i) => {
        vars[inputIds[i] as number] = v;
      });
      for (const eq of program) {
        vars[eq.out] = bind(eq.prim, eq.args.map((a) => (typeof a === 'number' ? vars[a]! : a)), eq.params);
      }
      return rebuild(results.map((r) => (typeof r === 'number' ? vars[r]! : r)));
    };
    return [value, jvpAt];
  });
}
