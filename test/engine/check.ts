/**
 * Oracles and generators for the engine's property tests.
 *
 * A test case is a function of a few tensors. The oracle is always float64 on the CPU:
 * central finite differences of the function (for grad and jvp) and of its float64 gradient
 * (for hvp). The backend under test computes the transforms in its own dtype on the same
 * inputs (rounded to that dtype first), so float32 and GPU backends are held to the same
 * oracle with looser tolerances.
 */
import fc from 'fast-check';
import {
  add, grad, hvp, hvpReverse, jvp, linearize, mul, Rng, setBackend, setDefaultDType, sum, square, tensor,
  type DType, type Tensor,
} from '../../engine/index.js';
import { useBackend, type BackendUnderTest } from '../backends.js';

/** Concrete numbers of a case: input arrays with their shapes, and a seed for anything else. */
export interface Sample {
  readonly shapes: readonly (readonly number[])[];
  readonly arrays: readonly Float64Array[];
  readonly seed: number;
}

/**
 * A function under test: `op(inputs, constants)` where the first `nDiff` tensors of the sample
 * are differentiated and the rest are constants (a `where` condition, say).
 */
export interface Case<S extends Sample = Sample> {
  readonly name: string;
  readonly sample: fc.Arbitrary<S>;
  readonly nDiff: number;
  readonly op: (inputs: Tensor[], constants: Tensor[], s: S) => Tensor;
  /** The op already returns a scalar loss: check the transforms on it directly. */
  readonly loss?: boolean;
  /**
   * Whether finite differences are valid at this sample (float64): false when a step of the
   * oracle could cross a kink (two nearly tied maxima, a pre-activation near zero). Such samples
   * are discarded and fast-check draws others; a case that discards most samples fails.
   */
  readonly admissible?: (s: S) => boolean;
}

// ---------- numbers ----------

export type Domain = 'real' | 'positive' | 'nonzero' | 'distinct' | 'binary';

/** Values for a domain chosen so that finite differences never cross a kink or leave the domain. */
export function valuesIn(domain: Domain, n: number, rng: Rng): Float64Array {
  const v = new Float64Array(n);
  switch (domain) {
    case 'real': for (let i = 0; i < n; i++) v[i] = rng.normal(); break;
    case 'positive': for (let i = 0; i < n; i++) v[i] = 0.5 + 1.5 * rng.uniform(); break;
    case 'nonzero': for (let i = 0; i < n; i++) v[i] = (rng.uniform() < 0.5 ? -1 : 1) * (0.2 + 1.8 * rng.uniform()); break;
    case 'binary': for (let i = 0; i < n; i++) v[i] = rng.uniform() < 0.5 ? 0 : 1; break;
    case 'distinct': {
      // a shuffled ladder: every pair differs by at least 0.1, so no max ties, even after a nudge
      const p = rng.permutation(n);
      for (let i = 0; i < n; i++) v[i] = (p[i]! - n / 2) * 0.25 + 0.1 * rng.uniform();
      break;
    }
  }
  return v;
}

/** Rounds to the precision of `dtype` (a no-op for float64). */
export function roundTo(dtype: DType, a: Float64Array): Float64Array {
  return dtype === 'float64' ? a : a.map((x) => Math.fround(x));
}

// ---------- shapes ----------

export const shapeArb = (maxRank = 3, maxDim = 4, minRank = 0): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minRank, maxLength: maxRank });

/** A shape that broadcasts to `out`: some leading axes dropped, some axes set to 1. */
export function broadcastableTo(out: readonly number[], rng: Rng): number[] {
  const drop = rng.int(out.length + 1);
  return out.slice(drop).map((d) => (rng.uniform() < 0.35 ? 1 : d));
}

/** A sample of `count` tensors: `shapesOf` picks shapes from a seed, `domains` the values. */
export function sampleArb(shapesOf: (rng: Rng) => number[][], domains: readonly Domain[]): fc.Arbitrary<Sample> {
  return fc.integer({ min: 0, max: 2 ** 31 - 1 }).map((seed) => {
    const rng = new Rng(seed);
    const shapes = shapesOf(rng);
    const arrays = shapes.map((s, i) => valuesIn(domains[i] ?? 'real', s.reduce((a, b) => a * b, 1), rng));
    return { shapes, arrays, seed };
  });
}

/** A random shape of rank ≤ maxRank with dims ≤ maxDim, from a seed. */
export function randomShape(rng: Rng, maxRank = 3, maxDim = 4, minRank = 0): number[] {
  const rank = minRank + rng.int(maxRank - minRank + 1);
  return Array.from({ length: rank }, () => 1 + rng.int(maxDim));
}

// ---------- building and reading tensors ----------

export function makeTensors(s: Sample, dtype: DType): Tensor[] {
  return s.arrays.map((a, i) => tensor(roundTo(dtype, a), s.shapes[i]!, dtype));
}

export const flat = (ts: readonly Tensor[]): Float64Array => {
  const out: number[] = [];
  for (const t of ts) out.push(...t.toArray());
  return Float64Array.from(out);
};

/** ‖a − b‖∞ / max(‖b‖∞, floor): the relative error of `a` against the reference `b`. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-2): number {
  if (a.length !== b.length) throw new Error(`relErr: lengths ${a.length} and ${b.length}`);
  let num = 0, den = floor;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) return Infinity;
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

// ---------- the scalar function every transform is checked on ----------

/**
 * Σ w⊙y + ½Σ y² for y = op(...): a random cotangent w exercises every output, and the square
 * gives linear ops a non-zero Hessian, so HVP tests see their rules at second order too.
 */
export function scalarize(y: Tensor, seed: number): Tensor {
  const w = tensor(valuesIn('real', y.size, new Rng(seed ^ 0x5bd1e995)), y.shape, y.dtype);
  return add(sum(mul(w, y)), mul(sum(square(y)), 0.5));
}

function scalarFn<S extends Sample>(c: Case<S>, s: S, constants: Tensor[]): (xs: Tensor[]) => Tensor {
  return c.loss ? (xs) => c.op(xs, constants, s) : (xs) => scalarize(c.op(xs, constants, s), s.seed);
}

// ---------- float64 CPU oracles ----------

function onCpu64<R>(body: () => R): R {
  setBackend('cpu');
  setDefaultDType('float64');
  return body();
}

/** f evaluated on float64 copies of `arrays`. */
function evalAt<S extends Sample>(c: Case<S>, s: S, arrays: Float64Array[]): number {
  const ts = arrays.map((a, i) => tensor(a, s.shapes[i]!, 'float64'));
  return scalarFn(c, s, ts.slice(c.nDiff))(ts.slice(0, c.nDiff)).item();
}

/** The gradient by central differences, one coordinate at a time. */
function fdGradient<S extends Sample>(c: Case<S>, s: S, base: Float64Array[], h: number): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < c.nDiff; i++) {
    for (let j = 0; j < base[i]!.length; j++) {
      const at = (delta: number) => base.map((a, k) => (k === i ? a.map((x, m) => (m === j ? x + delta : x)) : a));
      out.push((evalAt(c, s, at(h)) - evalAt(c, s, at(-h))) / (2 * h));
    }
  }
  return Float64Array.from(out);
}

function gradAt<S extends Sample>(c: Case<S>, s: S, arrays: Float64Array[]): Float64Array {
  const ts = arrays.map((a, i) => tensor(a, s.shapes[i]!, 'float64'));
  return flat(grad(scalarFn(c, s, ts.slice(c.nDiff)))(ts.slice(0, c.nDiff)));
}

/** H·v by central differences of the float64 gradient. */
function fdHvp<S extends Sample>(c: Case<S>, s: S, base: Float64Array[], v: Float64Array[], h: number): Float64Array {
  const shift = (sign: number) => base.map((a, i) => (i < c.nDiff ? a.map((x, j) => x + sign * h * v[i]![j]!) : a));
  const gp = gradAt(c, s, shift(1)), gm = gradAt(c, s, shift(-1));
  return gp.map((x, i) => (x - gm[i]!) / (2 * h));
}

// ---------- the properties ----------

export interface CheckOptions {
  numRuns?: number;
  /** Skip the HVP properties (for ops whose Hessian the case does not exercise). */
  noHvp?: boolean;
}

function directions(s: Sample, nDiff: number, salt: number): Float64Array[] {
  const rng = new Rng(s.seed ^ salt);
  return s.arrays.slice(0, nDiff).map((a) => valuesIn('real', a.length, rng));
}

/**
 * Runs every transform property of `c` on `entry`:
 * grad vs finite differences; jvp of the op (every output) vs finite differences, and its
 * linearization vs jvp; hvp vs finite differences of gradients, and `linearize(grad f)` vs hvp; forward-over-reverse vs reverse-over-reverse; ⟨u, Hv⟩ = ⟨Hu, v⟩;
 * H(αu + βv) = αHu + βHv.
 */
export function checkCase<S extends Sample>(c: Case<S>, entry: BackendUnderTest, opts: CheckOptions = {}): void {
  // GIFT_PROPERTY_SCALE=20 multiplies the runs, to hunt for rare failures off the CI path
  const scale = Number(process.env.GIFT_PROPERTY_SCALE ?? 1);
  const numRuns = Math.max(1, Math.round((opts.numRuns ?? (entry.exact64 ? 12 : 6)) * scale));
  fc.assert(
    fc.property(c.sample, (s) => {
      if (c.admissible) fc.pre(onCpu64(() => c.admissible!(s)));
      const base = s.arrays.map((a) => roundTo(entry.dtype, a));
      const sR = { ...s, arrays: base } as S;
      const u = directions(s, c.nDiff, 0x1234).map((a) => roundTo(entry.dtype, a));
      const v = directions(s, c.nDiff, 0x9876).map((a) => roundTo(entry.dtype, a));
      const h = entry.fdStep;

      // oracles, float64 on the CPU
      const [gradFd, jvpFd, hvpFd] = onCpu64(() => [
        fdGradient(c, sR, base, h),
        jvpOracle(c, sR, base, u, h),
        opts.noHvp ? null : fdHvp(c, sR, base, v, h),
      ] as const);

      // the backend under test
      const restore = useBackend(entry);
      try {
        const ts = makeTensors(sR, entry.dtype);
        const xs = ts.slice(0, c.nDiff), consts = ts.slice(c.nDiff);
        const f = scalarFn(c, sR, consts);
        const toT = (arrs: Float64Array[]) => arrs.map((a, i) => tensor(a, s.shapes[i]!, entry.dtype));
        const U = toT(u), V = toT(v);

        const g = flat(grad(f)(xs));
        expectClose(`${c.name}: grad vs finite differences`, g, gradFd, entry.rtolFiniteDiff);

        const [, dy] = jvp((p: Tensor[]) => c.op(p, consts, sR), xs, U);
        expectClose(`${c.name}: jvp vs finite differences`, dy.toArray(), jvpFd, entry.rtolFiniteDiff);
        const [, linearJvp] = linearize((p: Tensor[]) => c.op(p, consts, sR), xs);
        expectClose(`${c.name}: linearize vs jvp`, linearJvp(U).toArray(), dy.toArray(), entry.rtolExact);

        if (hvpFd !== null) {
          const Hv = flat(hvp(f, xs, V));
          expectClose(`${c.name}: hvp vs finite differences of gradients`, Hv, hvpFd, entry.rtolHvpFiniteDiff);
          const HvRev = flat(hvpReverse(f, xs, V));
          expectClose(`${c.name}: forward-over-reverse vs reverse-over-reverse`, Hv, HvRev, entry.rtolExact);
          const Hu = flat(hvp(f, xs, U));
          const uHv = dot(flat(U), Hv), Huv = dot(Hu, flat(V));
          expectClose(`${c.name}: ⟨u, Hv⟩ = ⟨Hu, v⟩`, [uHv], [Huv], entry.rtolExact, Math.max(1, Math.abs(Huv)));
          const alpha = 0.75, beta = -1.5;
          const W = U.map((ui, i) => add(mul(ui, alpha), mul(V[i]!, beta)));
          const Hw = flat(hvp(f, xs, W));
          const combo = Hu.map((x, i) => alpha * x + beta * Hv[i]!);
          expectClose(`${c.name}: hvp linear in v`, Hw, combo, entry.rtolExact);
          // one linearization of ∇f serves every direction
          const [, hvpAt] = linearize(grad(f), xs);
          expectClose(`${c.name}: linearize(grad f) vs hvp, along v`, flat(hvpAt(V)), Hv, entry.rtolExact);
          expectClose(`${c.name}: linearize(grad f) vs hvp, along u`, flat(hvpAt(U)), Hu, entry.rtolExact);
        }
      } finally {
        restore();
      }
    }),
    { numRuns },
  );
}

/** Finite differences of the op's outputs (every element) along `u`. */
function jvpOracle<S extends Sample>(c: Case<S>, s: S, base: Float64Array[], u: Float64Array[], h: number): Float64Array {
  const at = (sign: number) => {
    const arrays = base.map((a, i) => (i < c.nDiff ? a.map((x, j) => x + sign * h * u[i]![j]!) : a));
    const ts = arrays.map((a, i) => tensor(a, s.shapes[i]!, 'float64'));
    return c.op(ts.slice(0, c.nDiff), ts.slice(c.nDiff), s).toArray();
  };
  const p = at(1), m = at(-1);
  return Float64Array.from(p, (x, i) => (x - m[i]!) / (2 * h));
}

/** Throws with a readable message when `a` is not within `rtol` of the reference `b`. */
export function expectClose(what: string, a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, floor = 1e-2): void {
  const err = relErr(a, b, floor);
  if (!(err <= rtol)) {
    const show = (x: ArrayLike<number>) => Array.from(x).slice(0, 6).map((y) => y.toPrecision(8)).join(', ');
    throw new Error(`${what}: relative error ${err.toExponential(2)} > ${rtol}\n  got      [${show(a)}${a.length > 6 ? ', …' : ''}]\n  expected [${show(b)}${b.length > 6 ? ', …' : ''}]`);
  }
}

