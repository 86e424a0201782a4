/**
 * Gradient and HVP of the benchmark CNN (batch 4) on one backend, as flat vectors: what the gpu
 * tests compare between backends, in Node (test/gpu/cnn.test.ts) and in a browser
 * (test/browser/page.ts). Engine imports only, so a browser bundle can hold it.
 */
import { grad, hvp, Rng, setBackend, type Tensor } from '../../engine/index.js';
import { flattenTree } from '../../engine/tree.js';
import { cnnWorkload, type Params } from '../../bench/workloads.js';

export function flat(tree: Record<string, Tensor>): Float64Array {
  const parts = flattenTree(tree).leaves.map((t) => Array.from(t.toArray()));
  return Float64Array.from(parts.flat());
}

/** ‖a − b‖ / ‖b‖. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i]! - b[i]!) ** 2; den += b[i]! ** 2; }
  return Math.sqrt(num / den);
}

/** A random direction with the parameters' shapes, made on the current backend. */
function direction(params: Params, dtype: 'float32' | 'float64'): Params {
  const rng = new Rng(7);
  return Object.fromEntries(Object.entries(params).map(([k, p]) => [k, rng.normalTensor(p.shape, 0, 1, dtype)]));
}

/** Gradient and HVP of the CNN loss at batch 4 on `backend`. */
export function gradAndHvp(backend: string, dtype: 'float32' | 'float64'): { g: Float64Array; hv: Float64Array } {
  setBackend(backend);
  const w = cnnWorkload(dtype, 4, 3);
  const v = direction(w.params, dtype);
  return { g: flat(grad(w.loss)(w.params) as Params), hv: flat(hvp(w.loss, w.params, v)) };
}
