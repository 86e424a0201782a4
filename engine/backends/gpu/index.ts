/**
 * The gpu.js backend of gift. Importing this module registers:
 *
 * - `gpu`: the best gpu.js mode this process supports (headlessgl → webgl2 → webgl → webasm → cpu),
 * - `gpu:<mode>`: one backend per supported mode, for tests and benchmarks that compare modes.
 *
 * Tensors on these backends are float32 (see backend.ts for the float64 rule). Use `tidy` to
 * release device memory of intermediates, `gpuBackendInfo()` to see which mode really ran.
 * @example
 * import '../engine/backends/gpu/index.js';
 * import { setBackend, setDefaultDType, tensor, matmul } from '../engine/index.js';
 * setBackend('gpu'); setDefaultDType('float32');
 * const y = tidy(() => matmul(tensor([[1, 2]]), tensor([[3], [4]])));   // [[11]], on the GPU
 * @module
 */
import { findBackend, registerBackend, setBackend } from '../registry.js';
import { getDefaultDType } from '../../tensor.js';
import type { DType } from '../../dtype.js';
import { ValueError } from '../../errors.js';
import { GpuBackend, type Float64Policy, type GpuBackendInfo } from './backend.js';
import { GL_MODES, GPU_MODES, bestGpuMode, gpuModeSupport, type GpuMode } from './gpujs.js';

export { GpuBackend, GpuBuffer, type GpuBackendInfo, type Float64Policy } from './backend.js';
export { tidy, keep } from './scope.js';
export { gpuModeSupport, bestGpuMode, GPU_MODES, GL_MODES, type GpuMode } from './gpujs.js';

/** The name under which the backend of one gpu.js mode is registered. @example setBackend(gpuBackendName('webasm')) // 'gpu:webasm' */
export function gpuBackendName(mode: GpuMode): string {
  return `gpu:${mode}`;
}

registerBackend(new GpuBackend('gpu', 'auto'));
for (const mode of GPU_MODES) {
  if (gpuModeSupport()[mode]) registerBackend(new GpuBackend(gpuBackendName(mode), mode));
}

/**
 * What a registered gpu backend reports: the mode it runs in, the modes its kernels actually
 * ran in, compiled kernels, launches and live device memory.
 * @example
 * console.log(gpuBackendInfo().mode); // 'headlessgl' under xvfb-run with `gl` built, else 'webasm'
 */
export function gpuBackendInfo(name = 'gpu'): GpuBackendInfo {
  const b = findBackend(name);
  if (!(b instanceof GpuBackend)) throw new ValueError(`gpuBackendInfo: '${name}' is not a registered gpu backend`);
  b.mode; // creates the gpu.js instance so the mode is known
  return b.info();
}

/**
 * Sets what float64 tensors do on every registered gpu backend: live and compute on the CPU
 * backend ('cpu', the default) or throw a DTypeError naming the op ('error').
 * @example
 * setFloat64Policy('error'); // tensor([1, 2]) on the gpu backend now throws unless float32
 */
export function setFloat64Policy(policy: Float64Policy): void {
  for (const name of ['gpu', ...GPU_MODES.map(gpuBackendName)]) {
    const b = findBackend(name);
    if (b instanceof GpuBackend) b.float64Policy = policy;
  }
}

/**
 * The backend an automatic choice picks: `gpu` when gpu.js can run GLSL here (a real or software
 * WebGL) and the dtype is float32, otherwise `cpu` (gpu.js's webasm/cpu modes are slower than
 * gift's own CPU kernels, and float64 stays on the CPU).
 * @example
 * setBackend(autoBackendName('float32'));
 */
export function autoBackendName(dtype: DType = getDefaultDType()): 'gpu' | 'cpu' {
  if (dtype !== 'float32') return 'cpu';
  return GL_MODES.includes(bestGpuMode()) ? 'gpu' : 'cpu';
}

/** Sets the backend chosen by `autoBackendName` and returns its name. @example useAutoBackend('float32') */
export function useAutoBackend(dtype: DType = getDefaultDType()): 'gpu' | 'cpu' {
  const name = autoBackendName(dtype);
  setBackend(name);
  return name;
}
