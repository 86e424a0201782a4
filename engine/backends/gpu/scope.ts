/**
 * Explicit memory management for device buffers, in the spirit of tfjs's `tidy`.
 *
 * Every GPU buffer created while a scope is open is recorded in it; when the scope's function
 * returns, the buffers it made are released except those reachable from its result (which move
 * to the enclosing scope). A loop of 10,000 HVPs wrapped in `tidy` therefore holds the same
 * number of textures after every iteration. Buffers created outside any scope are released by
 * `dispose()` or, eventually, by the garbage collector.
 */
import { ConcreteTensor, Tensor } from '../../tensor.js';
import { TransformError } from '../../errors.js';

/** Something a scope can release: a GPU buffer. */
export interface ScopedBuffer {
  /** Drops this buffer's reference to its device memory (idempotent). */
  release(): void;
}

const scopes: Set<ScopedBuffer>[] = [];

/** Records a new buffer in the innermost open scope (called by the GPU backend). */
export function trackBuffer(buffer: ScopedBuffer): void {
  scopes[scopes.length - 1]?.add(buffer);
}

/**
 * Runs `fn` and releases every GPU buffer it created, except those in its result.
 * The result may be a tensor, or arrays/objects of tensors (any tree).
 * @example
 * for (let i = 0; i < 10_000; i++) {
 *   const hv = tidy(() => hvp(loss, params, v)); // intermediates freed here, hv kept
 *   use(hv);
 *   hv.dispose();
 * }
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<ScopedBuffer>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    scopes.pop();
    for (const b of scope) b.release();
    throw error;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const b of scope) b.release();
    throw new TransformError('tidy: the function returned a Promise; tidy only scopes synchronous work');
  }
  const kept = new Set<unknown>();
  const traced = collectBuffers(result, kept, new Set());
  const parent = scopes[scopes.length - 1];
  for (const b of scope) {
    // A traced result (tidy inside grad/jvp) may need any buffer of the scope later, when the
    // transform runs its backward pass: nothing is released, the enclosing scope inherits all.
    if (traced || kept.has(b)) parent?.add(b);
    else b.release();
  }
  return result;
}

/**
 * Exempts a tensor from the enclosing scopes: `tidy` will not release it (use it for values
 * stored outside the scope's result, e.g. in a closure or a cache).
 * @example
 * let product: Tensor | null = null;
 * const total = tidy(() => sum(product = keep(matmul(a, b)))); // both survive the scope
 */
export function keep<T>(value: T): T {
  const kept = new Set<unknown>();
  collectBuffers(value, kept, new Set());
  for (const scope of scopes) for (const b of kept) scope.delete(b as ScopedBuffer);
  return value;
}

/** Adds the buffers of the tensors in a tree to `out`; returns whether the tree holds a tracer. */
function collectBuffers(value: unknown, out: Set<unknown>, seen: Set<unknown>): boolean {
  if (value === null || typeof value !== 'object' || seen.has(value)) return false;
  seen.add(value);
  if (value instanceof ConcreteTensor) {
    out.add(value.buffer);
    return false;
  }
  if (value instanceof Tensor) return true; // a tracer
  let traced = false;
  if (Array.isArray(value)) {
    for (const v of value) traced = collectBuffers(v, out, seen) || traced;
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) traced = collectBuffers(v, out, seen) || traced;
  }
  return traced;
}
