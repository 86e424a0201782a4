/**
 * Which gpu.js modes the GPU tests run in, and the report of what ran and what was skipped.
 *
 * Every supported mode is tested. `GIFT_EXPECT_WEBGL=1` (set by .ci/run after installing the
 * GL packages) turns "headlessgl is not available" from a skip into a failure.
 */
import { createRequire } from 'node:module';
import '../../engine/backends/gpu/index.js';
import { GPU_MODES, gpuBackendName, gpuModeSupport, type GpuMode } from '../../engine/backends/gpu/index.js';

/** The supported modes, best first. */
export const modesUnderTest: GpuMode[] = GPU_MODES.filter((m) => gpuModeSupport()[m]);

/** Why headless-gl cannot run here: the optional `gl` addon missing, or no X display. */
function headlessGLReason(): string {
  try {
    createRequire(import.meta.url)('gl');
  } catch {
    return 'the optional `gl` package is not built: install the GL/X headers, then npm ci (docs/gpu.md)';
  }
  return process.env.DISPLAY ? `gl is built but no context on DISPLAY=${process.env.DISPLAY}` : 'gl is built but there is no X display: run under xvfb-run -a';
}

/** Modes this process cannot run, with the reason. */
export const modesSkipped: string[] = GPU_MODES.filter((m) => !gpuModeSupport()[m]).map((m) =>
  m === 'headlessgl' ? `headlessgl (${headlessGLReason()})` : m === 'webgl' || m === 'webgl2' ? `${m} (browser only)` : m,
);

export const expectWebGL = process.env.GIFT_EXPECT_WEBGL === '1';

export { gpuBackendName };

let reported = false;
/** Prints, once per test file, which modes run and which are skipped. */
export function reportModes(file: string): void {
  if (reported) return;
  reported = true;
  console.log(`[gpu] ${file}: gpu.js modes under test: ${modesUnderTest.join(', ')}; skipped: ${modesSkipped.join('; ') || 'none'}`);
}
