/**
 * Which gpu.js modes the GPU tests run in, and the report of what ran and what was skipped.
 *
 * Every supported mode is tested. `GIFT_EXPECT_WEBGL=1` (set by .ci/run after installing the
 * GL packages) turns "headlessgl is not available" from a skip into a failure.
 */
import '../../engine/backends/gpu/index.js';
import { GPU_MODES, gpuBackendName, gpuModeSupport, type GpuMode } from '../../engine/backends/gpu/index.js';

/** The supported modes, best first. */
export const modesUnderTest: GpuMode[] = GPU_MODES.filter((m) => gpuModeSupport()[m]);

/** Modes this process cannot run, with the usual reason. */
export const modesSkipped: string[] = GPU_MODES.filter((m) => !gpuModeSupport()[m]).map((m) =>
  m === 'headlessgl'
    ? 'headlessgl (needs the optional `gl` package built and an X display: run under xvfb-run, see docs/gpu.md)'
    : m === 'webgl' || m === 'webgl2' ? `${m} (browser only)` : m,
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
