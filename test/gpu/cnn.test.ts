/**
 * HVPs of the benchmark CNN (conv 1→8 5×5, relu, maxpool 2, conv 8→16 5×5, relu, maxpool 2,
 * linear 256→10, cross-entropy) on the gpu.js backend against the CPU backend: the float32 CPU
 * run bounds what single precision can reach, the float64 CPU run is the oracle.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { findBackend, grad, hvp, Rng, setBackend, type Tensor } from '../../engine/index.js';
import { flattenTree } from '../../engine/tree.js';
import type { GpuBackend } from '../../engine/backends/gpu/index.js';
import { cnnWorkload } from '../../bench/engine.js';
import { gpuBackendName, modesUnderTest, reportModes } from './modes.js';

reportModes('cnn.test.ts');

type Params = Record<string, Tensor>;

function flat(tree: Params): Float64Array {
  const parts = flattenTree(tree).leaves.map((t) => Array.from(t.toArray()));
  return Float64Array.from(parts.flat());
}

function relError(a: Float64Array, b: Float64Array): number {
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
function gradAndHvp(backend: string, dtype: 'float32' | 'float64'): { g: Float64Array; hv: Float64Array } {
  setBackend(backend);
  const w = cnnWorkload(dtype, 4, 3);
  const v = direction(w.params, dtype);
  return { g: flat(grad(w.loss)(w.params) as Params), hv: flat(hvp(w.loss, w.params, v)) };
}

afterEach(() => setBackend('cpu'));

describe.each(modesUnderTest)('benchmark CNN on gpu.js %s', (mode) => {
  it('gradient and HVP agree with the CPU backend within float32 tolerance', () => {
    const oracle = gradAndHvp('cpu', 'float64');
    const cpu32 = gradAndHvp('cpu', 'float32');
    const gpu = gradAndHvp(gpuBackendName(mode), 'float32');
    const errCpu = relError(cpu32.hv, oracle.hv), errGpu = relError(gpu.hv, oracle.hv);
    console.log(`[gpu] cnn.test.ts ${mode}: HVP relative error vs float64 oracle: gpu ${errGpu.toExponential(2)}, cpu float32 ${errCpu.toExponential(2)}`);
    expect(gpu.hv.length).toBe(8 * 25 + 8 + 16 * 200 + 16 + 2560 + 10);
    expect(relError(gpu.g, oracle.g)).toBeLessThan(1e-4);
    expect(errGpu).toBeLessThan(1e-3);
    expect(relError(gpu.hv, cpu32.hv)).toBeLessThan(1e-3);
    const info = (findBackend(gpuBackendName(mode)) as GpuBackend).info();
    expect(info.modesRun).toEqual([mode]);
    expect(info.float64Ops).toBe(0); // the whole HVP ran in gpu.js kernels
  });
});
