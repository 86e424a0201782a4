/**
 * Primitives and the interpreter stack — the core of autodiff, in the style of JAX's autodidax.
 *
 * A *primitive* is the unit the engine differentiates: it carries its forward kernel (`impl`),
 * its forward-mode rule (`jvp`) and its reverse-mode rule (`vjp`). Both rules are written with
 * ops, i.e. with other primitives, so running a rule is itself traceable: that is all nesting
 * (hvp = jvp of grad, third derivatives, ...) needs.
 *
 * A *transform* (jvp, vjp) is an interpreter. It pushes a `Trace` on a stack and wraps its
 * inputs in `Tracer`s that point at that trace. Every op calls `bind`, which finds the
 * highest-level trace among the op's inputs and lets it interpret the op; a trace handles the
 * op by calling `bind` again on the unwrapped values, which lands in the next trace down, and
 * finally in `evalPrimitive`, which runs the kernel. Tracers of different transforms never mix
 * up because each carries its own trace and level (no "perturbation confusion").
 */
import type { Backend, Buffer } from './backend.js';
import { getBackend } from './backends/registry.js';
import type { DType, TypedArray } from './dtype.js';
import { TransformError } from './errors.js';
import type { Shape } from './shape.js';
import { ConcreteTensor, Tensor } from './tensor.js';

/** Tangents and cotangents may be `null`, meaning "zero", so unused paths cost nothing. */
export type MaybeTensor = Tensor | null;

export interface Primitive<P = undefined> {
  readonly name: string;
  /** The forward kernel, on concrete buffers of one backend. */
  impl(backend: Backend, inputs: readonly Buffer[], params: P): Buffer;
  /** Output tangent from input tangents (`null` = zero); return `null` for a zero tangent. */
  jvp(tangents: readonly MaybeTensor[], primals: readonly Tensor[], out: Tensor, params: P): MaybeTensor;
  /** Input cotangents from the output cotangent; an input with `needs[i] === false` may get `null`. */
  vjp(ct: Tensor, primals: readonly Tensor[], out: Tensor, params: P, needs: readonly boolean[]): readonly MaybeTensor[];
}

/** Identity helper that gives a primitive definition its type. */
export function definePrimitive<P = undefined>(prim: Primitive<P>): Primitive<P> {
  return prim;
}

/** An interpreter on the stack. `process` says what applying a primitive means under it. */
export abstract class Trace {
  active = true;
  constructor(readonly level: number, readonly kind: string) {}
  abstract process<P>(prim: Primitive<P>, inputs: readonly Tensor[], params: P): Tensor;
}

/** A value being followed by a trace. Shape and dtype are its primal's. */
export abstract class Tracer extends Tensor {
  abstract readonly trace: Trace;
  abstract readonly primal: Tensor;
  get shape(): Shape {
    return this.primal.shape;
  }
  get dtype(): DType {
    return this.primal.dtype;
  }
  toArray(): TypedArray {
    return this.primal.toArray();
  }
}

const stack: Trace[] = [];

/** Runs `body` with a new trace on top of the stack; the trace is retired afterwards. */
export function withTrace<T extends Trace, R>(make: (level: number) => T, body: (trace: T) => R): R {
  const trace = make(stack.length + 1);
  stack.push(trace);
  try {
    return body(trace);
  } finally {
    stack.pop();
    trace.active = false;
  }
}

/** Applies a primitive: the highest-level trace among the inputs interprets it, else it runs. */
export function bind<P>(prim: Primitive<P>, inputs: readonly Tensor[], params: P): Tensor {
  let top: Trace | null = null;
  for (const x of inputs) {
    if (x instanceof Tracer && (top === null || x.trace.level > top.level)) top = x.trace;
  }
  if (top === null) return evalPrimitive(prim, inputs as readonly ConcreteTensor[], params);
  if (!top.active) {
    throw new TransformError(`${prim.name}: a value traced by a finished ${top.kind} transform was used outside it (a tracer escaped its transform)`);
  }
  return top.process(prim, inputs, params);
}

function evalPrimitive<P>(prim: Primitive<P>, inputs: readonly ConcreteTensor[], params: P): ConcreteTensor {
  const backend = inputs.length > 0 ? inputs[0]!.backend : getBackend();
  const buffers = inputs.map((x) => (x.backend === backend ? x.buffer : backend.fromArray(x.toArray(), x.shape, x.dtype)));
  return new ConcreteTensor(prim.impl(backend, buffers, params), backend);
}
