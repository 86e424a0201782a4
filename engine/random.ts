/**
 * Seeded randomness. `Rng` is xoshiro128** seeded through splitmix32: small, fast, and the same
 * stream on every platform, so a seed reproduces a run exactly.
 */
import type { DType } from './dtype.js';
import { allocate } from './dtype.js';
import { ValueError } from './errors.js';
import { checkShape, sizeOf, type Shape } from './shape.js';
import { getDefaultDType, tensor, type ConcreteTensor } from './tensor.js';

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  /** @example const rng = new Rng(42); rng.uniform() */
  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new ValueError(`Rng: seed must be an integer, got ${seed}`);
    let x = seed >>> 0;
    const next = (): number => {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next(); this.s1 = next(); this.s2 = next(); this.s3 = next();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0; this.s3 ^= this.s1; this.s1 ^= this.s2; this.s0 ^= this.s3;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0; this.s1 >>>= 0;
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5, lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new ValueError(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.uniform() * n);
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i]!; p[i] = p[j]!; p[j] = t;
    }
    return p;
  }

  /** A tensor of uniform values in [low, high). @example new Rng(0).uniformTensor([2, 2], -1, 1) */
  uniformTensor(shape: Shape, low = 0, high = 1, dtype: DType = getDefaultDType()): ConcreteTensor {
    checkShape('uniformTensor', shape);
    const v = allocate(dtype, sizeOf(shape));
    for (let i = 0; i < v.length; i++) v[i] = low + (high - low) * this.uniform();
    return tensor(v, shape, dtype);
  }

  /** A tensor of normal values. @example new Rng(0).normalTensor([3], 0, 0.1) */
  normalTensor(shape: Shape, mean = 0, std = 1, dtype: DType = getDefaultDType()): ConcreteTensor {
    checkShape('normalTensor', shape);
    const v = allocate(dtype, sizeOf(shape));
    for (let i = 0; i < v.length; i++) v[i] = mean + std * this.normal();
    return tensor(v, shape, dtype);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
