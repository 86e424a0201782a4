/**
 * The small slice of gpu.js the backend uses, typed locally, and the detection of which gpu.js
 * modes this process can run.
 *
 * gpu.js ships loose typings, so it is seen through the interfaces below. The import is a plain
 * named import so that bundlers pick gpu.js's browser build (WebGL/WebGL2 modes) and Node its
 * CommonJS build (headlessgl with the optional `gl` package, webasm, cpu); the engine core
 * never imports this folder, so gift without the gpu backend never loads gpu.js.
 */
import { GPU as GpuJsGPU } from 'gpu.js';

/** A gpu.js execution mode, best first: GL modes run GLSL shaders, webasm and cpu run on the CPU. */
export type GpuMode = 'headlessgl' | 'webgl2' | 'webgl' | 'webasm' | 'cpu';

/** Every mode in the order the automatic choice tries them. */
export const GPU_MODES: readonly GpuMode[] = ['headlessgl', 'webgl2', 'webgl', 'webasm', 'cpu'];

/** The modes that run GLSL on a (possibly software) GPU. */
export const GL_MODES: readonly GpuMode[] = ['headlessgl', 'webgl2', 'webgl'];

/** A gpu.js texture: device memory holding one kernel output. */
export interface GpuJsTexture {
  toArray(): ArrayLike<number>;
  delete(): void;
  readonly size: ArrayLike<number>;
}

/** What a kernel takes: textures or host arrays, and plain numbers (uniforms). */
export type KernelArg = GpuJsTexture | Float32Array | number;

/** A compiled-on-first-call gpu.js kernel in pipeline mode. */
export interface GpuJsKernel {
  (...args: KernelArg[]): GpuJsTexture | Float32Array;
  setOutput(output: number[]): GpuJsKernel;
  destroy(removeCanvasReference?: boolean): void;
  /** The kernel instance that actually runs (gpu.js swaps it on a fallback). */
  readonly kernel?: { readonly constructor: { readonly name: string } };
}

interface GpuJsInstance {
  createKernel(source: string, settings: Record<string, unknown>): GpuJsKernel;
  destroy(): Promise<void>;
}

interface GpuJsModule {
  GPU: {
    new (settings: { mode: string }): GpuJsInstance;
    readonly isHeadlessGLSupported: boolean;
    readonly isWebGL2Supported: boolean;
    readonly isWebGLSupported: boolean;
    readonly isWebAssemblySupported: boolean;
  };
}

const loaded = { GPU: GpuJsGPU as unknown as GpuJsModule['GPU'] };

/** The gpu.js entry points the backend uses. @example const { GPU } = gpujs(); */
export function gpujs(): GpuJsModule {
  return loaded;
}

let support: Record<GpuMode, boolean> | null = null;

/**
 * Which gpu.js modes work in this process. headlessgl needs the optional `gl` package built and
 * an X display (`xvfb-run`); webgl/webgl2 need a browser; webasm and cpu always work in Node.
 * @example
 * if (gpuModeSupport().headlessgl) console.log('WebGL shaders will run');
 */
export function gpuModeSupport(): Readonly<Record<GpuMode, boolean>> {
  if (support === null) {
    const { GPU } = gpujs();
    support = {
      headlessgl: safe(() => GPU.isHeadlessGLSupported),
      webgl2: safe(() => GPU.isWebGL2Supported),
      webgl: safe(() => GPU.isWebGLSupported),
      webasm: safe(() => GPU.isWebAssemblySupported),
      cpu: true,
    };
  }
  return support;
}

function safe(probe: () => boolean): boolean {
  try {
    return probe() === true;
  } catch {
    return false;
  }
}

/** The best supported mode: a GL mode when there is one, else webasm, else cpu. @example bestGpuMode() // 'webasm' without gl/X */
export function bestGpuMode(): GpuMode {
  const s = gpuModeSupport();
  return GPU_MODES.find((m) => s[m])!;
}

/** Names the mode a gpu.js kernel instance runs in, from its class. @example modeOfKernelClass('HeadlessGLKernel') // 'headlessgl' */
export function modeOfKernelClass(className: string): GpuMode | 'unknown' {
  switch (className) {
    case 'HeadlessGLKernel': return 'headlessgl';
    case 'WebGL2Kernel': return 'webgl2';
    case 'WebGLKernel': return 'webgl';
    case 'WebAssemblyKernel': return 'webasm';
    case 'CPUKernel': return 'cpu';
    default: return 'unknown';
  }
}

/** Creates a gpu.js instance pinned to `mode` (gpu.js throws if the mode is unsupported). @example createGpu('cpu') */
export function createGpu(mode: GpuMode): GpuJsInstance {
  const { GPU } = gpujs();
  return new GPU({ mode });
}
