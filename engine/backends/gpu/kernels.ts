/**
 * The gpu.js kernel sources of the GPU backend, as JavaScript strings that gpu.js translates
 * (to GLSL in the GL modes, to WebAssembly or JavaScript otherwise).
 *
 * Every tensor is stored flat (row-major, one float per element) and every kernel writes a 1-d
 * output: thread `i` computes element `i`. Shapes and strides are kernel *arguments* (uniforms),
 * never literals, so one compiled kernel serves every shape with the same output size: property
 * tests with random shapes compile about a hundred shaders, not thousands. Layout ops (permute, broadcastTo, slice) are one
 * strided gather over at most `MAX_RANK` axes.
 *
 * gpu.js gotcha: two loops in one kernel must not reuse a loop variable's name (GLSL redefinition).
 *
 * Index arithmetic runs in float32 (WebGL 1 has no reliable 32-bit ints). `divmod` below is
 * exact for integers below 2^24: the quotient estimate is off by at most one and corrected.
 */
import type { BinaryOp, UnaryOp } from '../../backend.js';

/** Axes a strided gather or pad kernel handles; higher ranks are coalesced or rejected. */
export const MAX_RANK = 6;

/** Elements one tensor may hold: float32 index arithmetic is exact below 2^24. */
export const MAX_ELEMENTS = 2 ** 24;

/**
 * Emits `q = floor(n / d); r = n - q·d`, corrected for the rounding of the float division.
 * `q` must be a different variable from `n` (r may be the same).
 */
function divmod(q: string, r: string, n: string, d: string): string {
  return `${q} = Math.floor((${n} + 0.5) / (${d})); ${r} = ${n} - ${q} * (${d});
  if (${r} < 0.0) { ${q} = ${q} - 1.0; ${r} = ${r} + (${d}); }
  if (${r} >= ${d}) { ${q} = ${q} + 1.0; ${r} = ${r} - (${d}); }`;
}

const axes = [...Array(MAX_RANK).keys()];
const list = (prefix: string): string => axes.map((k) => `${prefix}${k}`).join(', ');

/** out[i] = a[i]: the upload kernel (host array in, texture out). */
export const copySource = `function(a) { return a[this.thread.x]; }`;

/** out[i] = v. */
export const fillSource = `function(v) { return v; }`;

const unaryBodies: Record<UnaryOp, string> = {
  neg: 'return -x;',
  exp: 'return Math.exp(x);',
  log: 'return Math.log(x);',
  // GLSL ES 1.0 has no tanh; this form cannot overflow.
  tanh: 'let t = Math.exp(-2.0 * Math.abs(x)); let y = (1.0 - t) / (1.0 + t); if (x < 0.0) { return -y; } return y;',
  sigmoid: 'if (x >= 0.0) { return 1.0 / (1.0 + Math.exp(-x)); } let e = Math.exp(x); return e / (1.0 + e);',
  relu: 'if (x > 0.0 || x != x) { return x; } return 0.0;', // NaN stays NaN
  // log(1 + e) with a series for small e, since GLSL has no log1p.
  softplus: 'let e = Math.exp(-Math.abs(x)); let l = 0.0; if (e < 0.0001) { l = e * (1.0 - 0.5 * e); } else { l = Math.log(1.0 + e); } return Math.max(x, 0.0) + l;',
  square: 'return x * x;',
  sqrt: 'return Math.sqrt(x);',
  abs: 'return Math.abs(x);',
  sign: 'if (x > 0.0) { return 1.0; } if (x < 0.0) { return -1.0; } return 0.0;',
};

/** out[i] = op(a[i]). */
export function unarySource(op: UnaryOp): string {
  return `function(a) { let x = a[this.thread.x]; ${unaryBodies[op]} }`;
}

const binaryBodies: Record<BinaryOp, string> = {
  add: 'return x + y;',
  sub: 'return x - y;',
  mul: 'return x * y;',
  div: 'return x / y;',
  // NaN in either operand wins, as on the CPU (x != x is true only for NaN)
  max: 'if (x >= y || x != x) { return x; } return y;',
  min: 'if (x <= y || x != x) { return x; } return y;',
  equal: 'if (x == y) { return 1.0; } return 0.0;',
  greater: 'if (x > y) { return 1.0; } return 0.0;',
};

/** out[i] = op(a[i], b[i]). */
export function binarySource(op: BinaryOp): string {
  return `function(a, b) { let x = a[this.thread.x]; let y = b[this.thread.x]; ${binaryBodies[op]} }`;
}

/**
 * out[i] = a[i] ** p. Small integer exponents multiply (exact, and defined for negative bases);
 * others use |a|^p with the sign of an odd integer power, as Math.pow does.
 */
export const powSource = `function(a, p) {
  let x = a[this.thread.x];
  if (p == 0.0) { return 1.0; }
  if (p == 1.0) { return x; }
  if (p == 2.0) { return x * x; }
  if (p == 3.0) { return x * x * x; }
  if (p == -1.0) { return 1.0 / x; }
  if (p == -2.0) { return 1.0 / (x * x); }
  if (p == 0.5) { return Math.sqrt(x); }
  if (x == 0.0) { if (p > 0.0) { return 0.0; } return 1.0 / x; }
  let m = Math.pow(Math.abs(x), p);
  if (x > 0.0) { return m; }
  let half = p * 0.5;
  if (Math.floor(p) != p) { return Math.sqrt(-1.0 - m * 0.0); }
  if (Math.floor(half) == half) { return m; }
  return -m;
}`;

/** out[i] = c[i] != 0 ? a[i] : b[i]. */
export const whereSource = `function(c, a, b) { if (c[this.thread.x] != 0.0) { return a[this.thread.x]; } return b[this.thread.x]; }`;

/**
 * The strided gather behind permute, broadcastTo and slice: out index i is split into a
 * multi-index over the output dims d0..d5, and read from `off + Σ index_k · s_k`.
 */
export const stridedSource = `function(x, off, ${list('d')}, ${list('s')}) {
  let rest = this.thread.x + 0.0;
  let q = 0.0; let r = 0.0; let src = off;
  ${axes.slice(1).reverse().map((k) => `${divmod('q', 'r', 'rest', `d${k}`)} src = src + r * s${k}; rest = q;`).join('\n  ')}
  src = src + rest * s0;
  return x[src];
}`;

/**
 * Zero padding: out index i, split over the output dims o0..o5, reads the input at index − before
 * when that lies inside the input dims n0..n5, else 0.
 */
export const padSource = `function(x, ${list('o')}, ${list('b')}, ${list('n')}) {
  let rest = this.thread.x + 0.0;
  let q = 0.0;
  ${axes.slice().reverse().map((k) => `let i${k} = 0.0; ${divmod('q', `i${k}`, 'rest', `o${k}`)} rest = q; i${k} = i${k} - b${k};`).join('\n  ')}
  if (${axes.map((k) => `i${k} < 0.0 || i${k} >= n${k}`).join(' || ')}) { return 0.0; }
  let src = i0;
  ${axes.slice(1).map((k) => `src = src * n${k} + i${k};`).join(' ')}
  return x[src];
}`;

/**
 * Row reduction in segments: thread t reduces segment c = t mod segments of row o = t / segments,
 * i.e. a[o·inner + c·seg ... ]. With segments = 1 it reduces whole rows; two passes of this
 * kernel make a long reduction parallel.
 */
export function reduceSource(op: 'sum' | 'max'): string {
  // a NaN wins the max, as on the CPU: once acc is NaN no comparison replaces it
  const combine = op === 'sum' ? 'acc = acc + v;' : 'if (v > acc || v != v) { acc = v; }';
  return `function(a, inner, seg, segments) {
  let t = this.thread.x + 0.0;
  let o = 0.0; let c = 0.0;
  ${divmod('o', 'c', 't', 'segments')}
  let start = c * seg;
  let end = Math.min(inner, start + seg);
  let base = o * inner;
  let acc = a[base + start];
  for (let j = start + 1.0; j < end; j++) {
    let v = a[base + j];
    ${combine}
  }
  return acc;
}`;
}

/**
 * Batched matmul with transpose flags folded into strides: A[b, m, k] is read at
 * b·aBatch + m·sAm + k·sAk, B[b, k, n] at b·bBatch + k·sBk + n·sBn.
 */
export const matmulSource = `function(a, b, M, N, K, sAm, sAk, sBk, sBn, aBatch, bBatch) {
  let t = this.thread.x + 0.0;
  let q = 0.0; let n = 0.0; let bi = 0.0; let m = 0.0;
  ${divmod('q', 'n', 't', 'N')}
  ${divmod('bi', 'm', 'q', 'M')}
  let aRow = bi * aBatch + m * sAm;
  let bCol = bi * bBatch + n * sBn;
  let acc = 0.0;
  // four products per iteration: fewer loop tests and index updates (1.2-2× on llvmpipe/webasm)
  let K4 = Math.floor(K / 4.0) * 4.0;
  for (let k = 0.0; k < K4; k = k + 4.0) {
    let pa = aRow + k * sAk;
    let pb = bCol + k * sBk;
    acc = acc + a[pa] * b[pb] + a[pa + sAk] * b[pb + sBk] + a[pa + 2.0 * sAk] * b[pb + 2.0 * sBk] + a[pa + 3.0 * sAk] * b[pb + 3.0 * sBk];
  }
  for (let rest = K4; rest < K; rest++) {
    acc = acc + a[aRow + rest * sAk] * b[bCol + rest * sBk];
  }
  return acc;
}`;

/** Two tensors viewed as [outer, la, inner] and [outer, lb, inner], joined along the middle axis. */
export const concatSource = `function(a, b, la, lb, inner) {
  let t = this.thread.x + 0.0;
  let row = (la + lb) * inner;
  let o = 0.0; let rem = 0.0; let ax = 0.0; let w = 0.0;
  ${divmod('o', 'rem', 't', 'row')}
  ${divmod('ax', 'w', 'rem', 'inner')}
  if (ax < la) { return a[(o * la + ax) * inner + w]; }
  return b[(o * lb + ax - la) * inner + w];
}`;

/** out[i] = x[i·C + labels[i]]. */
export const gatherSource = `function(x, labels, C) {
  let i = this.thread.x + 0.0;
  return x[i * C + labels[this.thread.x]];
}`;

/** out[i, c] = labels[i] == c ? v[i] : 0. */
export const scatterSource = `function(v, labels, C) {
  let t = this.thread.x + 0.0;
  let i = 0.0; let c = 0.0;
  ${divmod('i', 'c', 't', 'C')}
  if (labels[i] == c) { return v[i]; }
  return 0.0;
}`;

/** Patches [N, OH, OW, C·kh·kw] of a zero-padded [N, C, H, W] image. */
export const im2colSource = `function(x, C, H, W, kh, kw, stride, pad, OH, OW) {
  let t = this.thread.x + 0.0;
  let patch = C * kh * kw;
  let q = 0.0; let p = 0.0; let ox = 0.0; let oy = 0.0; let b = 0.0;
  let ch = 0.0; let kk = 0.0; let ky = 0.0; let kx = 0.0;
  ${divmod('q', 'p', 't', 'patch')}
  ${divmod('b', 'q', 'q', 'OH * OW')}
  ${divmod('oy', 'ox', 'q', 'OW')}
  ${divmod('ch', 'kk', 'p', 'kh * kw')}
  ${divmod('ky', 'kx', 'kk', 'kw')}
  let iy = oy * stride - pad + ky;
  let ix = ox * stride - pad + kx;
  if (iy < 0.0 || iy >= H || ix < 0.0 || ix >= W) { return 0.0; }
  return x[((b * C + ch) * H + iy) * W + ix];
}`;

/**
 * The adjoint of im2col, written as a gather so no two threads write one pixel: pixel (iy, ix)
 * sums every patch entry that read it.
 */
export const col2imSource = `function(cols, C, H, W, kh, kw, stride, pad, OH, OW) {
  let t = this.thread.x + 0.0;
  let q = 0.0; let p = 0.0; let ix = 0.0; let iy = 0.0; let ch = 0.0; let b = 0.0;
  ${divmod('q', 'ix', 't', 'W')}
  ${divmod('p', 'iy', 'q', 'H')}
  ${divmod('b', 'ch', 'p', 'C')}
  let patch = C * kh * kw;
  let acc = 0.0;
  for (let ky = 0.0; ky < kh; ky++) {
    let ty = iy + pad - ky;
    let oy = Math.floor((ty + 0.5) / stride);
    if (ty >= 0.0 && Math.abs(oy * stride - ty) < 0.5 && oy < OH) {
      for (let kx = 0.0; kx < kw; kx++) {
        let tx = ix + pad - kx;
        let ox = Math.floor((tx + 0.5) / stride);
        if (tx >= 0.0 && Math.abs(ox * stride - tx) < 0.5 && ox < OW) {
          acc = acc + cols[((b * OH + oy) * OW + ox) * patch + (ch * kh + ky) * kw + kx];
        }
      }
    }
  }
  return acc;
}`;

/** Thread t is window (p, oy, ox) of plane p = n·C + c: the offset ky·kw + kx of its first maximum, or of its first NaN. */
export const poolArgmaxSource = `function(x, H, W, kh, kw, stride, OH, OW) {
  let t = this.thread.x + 0.0;
  let p = 0.0; let q = 0.0; let oy = 0.0; let ox = 0.0;
  ${divmod('p', 'q', 't', 'OH * OW')}
  ${divmod('oy', 'ox', 'q', 'OW')}
  let corner = (p * H + oy * stride) * W + ox * stride;
  let best = x[corner];
  let at = 0.0;
  for (let ky = 0.0; ky < kh; ky++) {
    for (let kx = 0.0; kx < kw; kx++) {
      let v = x[corner + ky * W + kx];
      if (v > best || (v != v && best == best)) { best = v; at = ky * kw + kx; }
    }
  }
  return at;
}`;

/** Thread t is window (p, oy, ox): the pixel its offset at[t] = ky·kw + kx points to. */
export const poolGatherSource = `function(x, at, H, W, kw, stride, OH, OW) {
  let t = this.thread.x + 0.0;
  let p = 0.0; let q = 0.0; let oy = 0.0; let ox = 0.0; let ky = 0.0; let kx = 0.0;
  ${divmod('p', 'q', 't', 'OH * OW')}
  ${divmod('oy', 'ox', 'q', 'OW')}
  let k = at[this.thread.x];
  ${divmod('ky', 'kx', 'k', 'kw')}
  return x[(p * H + oy * stride + ky) * W + ox * stride + kx];
}`;

/**
 * The adjoint of poolGather, written as a gather like col2im: pixel (iy, ix) sums the values of
 * the windows that cover it and whose offset points at it.
 */
export const poolScatterSource = `function(v, at, H, W, kh, kw, stride, OH, OW) {
  let t = this.thread.x + 0.0;
  let p = 0.0; let q = 0.0; let iy = 0.0; let ix = 0.0;
  ${divmod('p', 'q', 't', 'H * W')}
  ${divmod('iy', 'ix', 'q', 'W')}
  let acc = 0.0;
  for (let ky = 0.0; ky < kh; ky++) {
    let ty = iy - ky;
    let oy = Math.floor((ty + 0.5) / stride);
    if (ty >= 0.0 && Math.abs(oy * stride - ty) < 0.5 && oy < OH) {
      for (let kx = 0.0; kx < kw; kx++) {
        let tx = ix - kx;
        let ox = Math.floor((tx + 0.5) / stride);
        if (tx >= 0.0 && Math.abs(ox * stride - tx) < 0.5 && ox < OW) {
          let win = (p * OH + oy) * OW + ox;
          if (Math.abs(at[win] - (ky * kw + kx)) < 0.5) { acc = acc + v[win]; }
        }
      }
    }
  }
  return acc;
}`;
