/**
 * HVPs of the benchmark CNN (conv 1→8 5×5, relu, maxpool 2, conv 8→16 5×5, relu, maxpool 2,
 * linear 256→10, cross-entropy) on the gpu.js backend against the CPU backend: the float32 CPU
 * run bounds what single precision can reach, the float64 CPU run is the oracle.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { findBackend, setBackend } from '../../engine/index.js';
import type { GpuBackend } from '../../engine/backends/gpu/index.js';
import { gradAndHvp, relError } from './cnn-probe.js';
import { gpuBackendName, modesUnderTest, reportModes } from './modes.js';

reportModes('cnn.test.ts');

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
