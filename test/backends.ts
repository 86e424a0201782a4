/**
 * The backends every engine property test runs on. A suite loops over `backendsUnderTest()`
 * (`describe.each`) and calls `useBackend(entry)` before each case, so one suite checks every
 * backend and dtype. The oracles (finite differences) always run in float64 on the CPU; the
 * backend under test computes in its own dtype on the same inputs. Tolerances belong to the
 * entry: float64 on the CPU is held to the tight bounds, float32 (and the GPU) to
 * bounds that single precision can meet.
 */
import { getDefaultDType, setBackend, setDefaultDType, findBackend, type DType } from '../engine/index.js';
import { bestGpuMode } from '../engine/backends/gpu/index.js';

export interface BackendUnderTest {
  /** A label for test titles, e.g. `cpu float64`. */
  readonly name: string;
  /** The registered backend name passed to `setBackend`. */
  readonly backend: string;
  readonly dtype: DType;
  /** Relative tolerance of a gradient/JVP against central finite differences. */
  readonly rtolFiniteDiff: number;
  /** Relative tolerance of an HVP against finite differences of gradients. */
  readonly rtolHvpFiniteDiff: number;
  /** Relative tolerance between two exact algorithms (forward-over-reverse vs reverse-over-reverse, symmetry, linearity). */
  readonly rtolExact: number;
  /** Step of the float64 central finite differences the oracle takes (about ε₆₄^(1/3)). */
  readonly fdStep: number;
  /** Whether this entry computes in float64 throughout (it then gets more property runs). */
  readonly exact64: boolean;
}

const entries: BackendUnderTest[] = [
  {
    name: 'cpu float64', backend: 'cpu', dtype: 'float64',
    rtolFiniteDiff: 1e-6, rtolHvpFiniteDiff: 1e-5, rtolExact: 1e-10, fdStep: 1e-5, exact64: true,
  },
  {
    name: 'cpu float32', backend: 'cpu', dtype: 'float32',
    rtolFiniteDiff: 2e-3, rtolHvpFiniteDiff: 5e-3, rtolExact: 3e-3, fdStep: 1e-5, exact64: false,
  },
  // The gpu.js backend in the best mode this process has (headlessgl under xvfb-run with `gl`
  // built, else webasm): float32, with GLSL's transcendentals a few ulps off correctly rounded.
  {
    name: `gpu float32 (${bestGpuMode()})`, backend: 'gpu', dtype: 'float32',
    rtolFiniteDiff: 3e-3, rtolHvpFiniteDiff: 7e-3, rtolExact: 5e-3, fdStep: 1e-5, exact64: false,
  },
];

/** Adds a backend to the list (the GPU backend registers its float32 entry here). */
export function addBackendUnderTest(entry: BackendUnderTest): void {
  if (!entries.some((e) => e.name === entry.name)) entries.push(entry);
}

/** The backends under test whose backend is registered (skipped silently if it could not load). */
export function backendsUnderTest(): BackendUnderTest[] {
  return entries.filter((e) => findBackend(e.backend) !== undefined);
}

/** Makes `entry` the active backend and default dtype; returns a function that restores the previous ones. */
export function useBackend(entry: BackendUnderTest): () => void {
  const previousDType = getDefaultDType();
  setBackend(entry.backend);
  setDefaultDType(entry.dtype);
  return () => {
    setBackend('cpu');
    setDefaultDType(previousDType);
  };
}
