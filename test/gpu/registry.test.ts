/** Registration, the automatic choice, mode reporting and axis coalescing of the gpu backend. */
import { afterEach, describe, expect, it } from 'vitest';
import { getBackend, matmul, setBackend, tensor, ValueError } from '../../engine/index.js';
import {
  autoBackendName, bestGpuMode, GL_MODES, gpuBackendInfo, gpuModeSupport, useAutoBackend,
} from '../../engine/backends/gpu/index.js';
import { coalesce } from '../../engine/backends/gpu/backend.js';
import { modesUnderTest, reportModes } from './modes.js';

reportModes('registry.test.ts');
afterEach(() => setBackend('cpu'));

describe('gpu backend registry', () => {
  it("setBackend('gpu') runs ops in the best supported mode and reports it", () => {
    setBackend('gpu');
    const y = matmul(tensor(new Float32Array([1, 2]), [1, 2]), tensor(new Float32Array([3, 4]), [2, 1]));
    expect(Array.from(y.toArray())).toEqual([11]);
    const info = gpuBackendInfo('gpu');
    expect(info.mode).toBe(bestGpuMode());
    expect(info.modesRun).toEqual([bestGpuMode()]);
    expect(modesUnderTest[0]).toBe(bestGpuMode());
  });

  it('registers one backend per supported mode and none for the others', () => {
    for (const [mode, ok] of Object.entries(gpuModeSupport())) {
      if (ok) expect(() => setBackend(`gpu:${mode}`)).not.toThrow();
      else expect(() => setBackend(`gpu:${mode}`)).toThrow(ValueError);
    }
    expect(() => gpuBackendInfo('cpu')).toThrow(/not a registered gpu backend/);
  });

  it('the automatic choice takes the GPU only for float32 with a GL mode', () => {
    const gl = GL_MODES.includes(bestGpuMode());
    expect(autoBackendName('float64')).toBe('cpu');
    expect(autoBackendName('float32')).toBe(gl ? 'gpu' : 'cpu');
    expect(useAutoBackend('float32')).toBe(gl ? 'gpu' : 'cpu');
    expect(getBackend().name).toBe(gl ? 'gpu' : 'cpu');
  });

  it('coalesces axes that address memory as one', () => {
    expect(coalesce([2, 3, 4], [12, 4, 1])).toEqual([[24], [1]]);
    expect(coalesce([4, 3, 2], [1, 4, 12])).toEqual([[4, 3, 2], [1, 4, 12]]); // a transpose stays
    expect(coalesce([2, 1, 3], [3, 0, 1])).toEqual([[6], [1]]); // size-1 axes drop
    expect(coalesce([5, 3], [0, 1])).toEqual([[5, 3], [0, 1]]); // a broadcast axis stays
    expect(coalesce([1, 1], [0, 0])).toEqual([[1], [0]]);
  });
});
