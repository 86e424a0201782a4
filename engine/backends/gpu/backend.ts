/**
 * The gpu.js backend: every kernel of the engine's `Backend` interface as a gpu.js kernel.
 *
 * - Data stays on the device: kernels run in pipeline mode and return textures (GL modes) that
 *   feed the next kernel directly; only `toArray` reads back. In webasm/cpu modes gpu.js hands
 *   back Float32Arrays instead, with the same code path.
 * - Kernels are compiled once per operation and output size, and cached; shapes are uniforms
 *   (see kernels.ts). A kernel is never resized (see `kernel`).
 * - float32 on the device. gpu.js computes in single precision only, so float64 tensors of this
 *   backend are CPU buffers computed by the CPU backend (exact), or a DTypeError naming the op
 *   under `float64Policy = 'error'`; see `Float64Policy`.
 * - Memory: a buffer's texture is freed by `dispose()`, by the `tidy` scope that created it, or
 *   by the garbage collector (a FinalizationRegistry), whichever comes first. Views (reshape)
 *   share a texture through a reference count.
 */
import type { Backend, BinaryOp, Buffer, Conv2dGeometry, PoolGeometry, UnaryOp } from '../../backend.js';
import { convOutSize } from '../../backend.js';
import type { DType, TypedArray } from '../../dtype.js';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../../errors.js';
import { sizeOf, stridesOf, type Shape } from '../../shape.js';
import { CpuBuffer, cpuBackend } from '../cpu.js';
import {
  createGpu, bestGpuMode, gpuModeSupport, modeOfKernelClass,
  type GpuJsKernel, type GpuJsTexture, type GpuMode, type KernelArg,
} from './gpujs.js';
import * as K from './kernels.js';
import { trackBuffer, type ScopedBuffer } from './scope.js';

/** Device memory shared by a buffer and its views. */
class Storage {
  refs = 1;
  constructor(readonly value: GpuJsTexture | Float32Array, readonly bytes: number, readonly owner: GpuBackend) {}
  release(): void {
    if (--this.refs > 0) return;
    if (!(this.value instanceof Float32Array)) this.value.delete();
    this.owner.memory.buffers--;
    this.owner.memory.bytes -= this.bytes;
  }
}

const EMPTY = new Float32Array(0);

const finalizer = new FinalizationRegistry<Storage>((storage) => storage.release());

/**
 * A GPU buffer: a flat float32 texture (or host array in webasm/cpu modes) and a shape.
 * @example (tensor([1, 2]) as ConcreteTensor).buffer instanceof GpuBuffer // under setBackend('gpu')
 */
export class GpuBuffer implements Buffer, ScopedBuffer {
  readonly dtype: DType = 'float32';
  private released = false;
  constructor(readonly shape: Shape, private readonly storage: Storage | null) {
    if (storage) finalizer.register(this, storage, this);
    trackBuffer(this);
  }
  get size(): number {
    return sizeOf(this.shape);
  }
  /** The kernel argument holding the data; throws if the buffer was disposed. */
  data(op: string): GpuJsTexture | Float32Array {
    if (this.released) throw new ValueError(`${op}: a gpu tensor of shape ${fmtShape(this.shape)} was used after dispose()`);
    return this.storage?.value ?? EMPTY; // an empty tensor has no texture; kernels never launch on it
  }
  /** A new buffer of another shape over the same storage (reshape is free). */
  view(shape: Shape): GpuBuffer {
    if (this.released) throw new ValueError(`reshape: a gpu tensor of shape ${fmtShape(this.shape)} was used after dispose()`);
    if (this.storage) this.storage.refs++;
    return new GpuBuffer(shape, this.storage);
  }
  get isReleased(): boolean {
    return this.released;
  }
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.storage) {
      finalizer.unregister(this);
      this.storage.release();
    }
  }
}

/**
 * The float64 rule. gpu.js computes in float32 only, so a float64 tensor created on a gpu
 * backend is held by the CPU backend and its ops run there, in exact float64 ('cpu', the
 * default: mixed programs keep working, `info().float64Ops` counts them); 'error' makes any
 * float64 tensor on the gpu backend a DTypeError that names the op, for code that must not
 * silently leave the GPU.
 */
export type Float64Policy = 'cpu' | 'error';

/** What a GPU backend reports about itself. */
export interface GpuBackendInfo {
  /** The registered name (`gpu`, `gpu:webasm`, ...). */
  readonly name: string;
  /** The mode asked for; `auto` picks the best supported one. */
  readonly requested: GpuMode | 'auto';
  /** The mode the instance was created in (null before first use). */
  readonly mode: GpuMode | null;
  /** Modes the compiled kernels actually ran in (a gpu.js fallback shows up here). */
  readonly modesRun: readonly string[];
  /** Kernels that gpu.js moved to another mode than the instance's, with the mode they ended in. */
  readonly fallbacks: readonly string[];
  readonly kernelsCompiled: number;
  readonly launches: number;
  /** Operations on float64 tensors, which ran on the CPU backend (see `Float64Policy`). */
  readonly float64Ops: number;
  /** Live device buffers and their approximate bytes. */
  readonly liveBuffers: number;
  readonly liveBytes: number;
}

const sourceOf = {
  unary: K.unarySource,
  binary: K.binarySource,
};

/**
 * A Backend running on gpu.js in one mode. The instance is created on first use, so
 * registering a backend costs nothing.
 * @example
 * import { registerBackend, setBackend, setDefaultDType } from 'gift/engine';
 * registerBackend(new GpuBackend('gpu:webasm', 'webasm'));
 * setBackend('gpu:webasm'); setDefaultDType('float32');
 */
export class GpuBackend implements Backend {
  readonly memory = { buffers: 0, bytes: 0 };
  private gpu: ReturnType<typeof createGpu> | null = null;
  private activeMode: GpuMode | null = null;
  private readonly kernels = new Map<string, GpuJsKernel>();
  private readonly modesRun = new Set<string>();
  private readonly fallbacks: string[] = [];
  private launches = 0;
  private float64Ops = 0;
  /** What float64 tensors do on this backend: live on the CPU backend ('cpu'), or throw ('error'). */
  float64Policy: Float64Policy = 'cpu';

  constructor(readonly name: string, readonly requested: GpuMode | 'auto') {}

  /** The gpu.js mode this backend runs in (creates the gpu.js instance if needed). */
  get mode(): GpuMode {
    this.instance();
    return this.activeMode!;
  }

  info(): GpuBackendInfo {
    return {
      name: this.name, requested: this.requested, mode: this.activeMode,
      modesRun: [...this.modesRun], fallbacks: [...this.fallbacks],
      kernelsCompiled: this.kernels.size, launches: this.launches, float64Ops: this.float64Ops,
      liveBuffers: this.memory.buffers, liveBytes: this.memory.bytes,
    };
  }

  /**
   * Frees every compiled kernel and the gpu.js instance; the next op starts a new one. Tensors
   * made before must not be used afterwards (their textures belonged to the old context).
   */
  async destroy(): Promise<void> {
    for (const fn of this.kernels.values()) fn.destroy();
    this.kernels.clear();
    const gpu = this.gpu;
    this.gpu = null;
    if (gpu) await gpu.destroy();
  }

  private instance(): ReturnType<typeof createGpu> {
    if (this.gpu === null) {
      const mode = this.requested === 'auto' ? bestGpuMode() : this.requested;
      if (!gpuModeSupport()[mode]) throw new ValueError(`gpu backend '${this.name}': gpu.js mode '${mode}' is not supported in this process`);
      this.gpu = createGpu(mode);
      this.activeMode = mode;
    }
    return this.gpu;
  }

  /**
   * The kernel of one operation with `n` outputs, compiled on first use. Each output size gets
   * its own kernel: resizing a gpu.js kernel (dynamicOutput + setOutput) after `tidy` had freed
   * its earlier outputs made later results silently wrong under headless WebGL
   * (test/gpu/memory.test.ts), so no kernel is ever resized. Input sizes still vary per call.
   */
  private kernel(key: string, source: string, n: number): GpuJsKernel {
    const sized = `${key}#${n}`;
    let fn = this.kernels.get(sized);
    if (!fn) {
      fn = this.instance().createKernel(source, {
        output: [n], pipeline: true, immutable: true, precision: 'single', tactic: 'precision',
        dynamicOutput: false, dynamicArguments: true, loopMaxIterations: K.MAX_ELEMENTS,
      });
      this.kernels.set(sized, fn);
    }
    return fn;
  }

  /** Runs a cached kernel over `n` threads and wraps its output. */
  private run(op: string, key: string, source: string, shape: Shape, args: KernelArg[]): GpuBuffer {
    const n = sizeOf(shape);
    checkSize(op, shape);
    if (n === 0) return new GpuBuffer(shape, null);
    const fn = this.kernel(key, source, n);
    const out = fn(...args);
    this.launches++;
    this.noteMode(key, fn);
    return this.wrap(out, shape);
  }

  /** Records the mode a kernel really ran in: gpu.js may swap in another kernel class on a fallback. */
  private noteMode(key: string, fn: GpuJsKernel): void {
    const mode = modeOfKernelClass(fn.kernel?.constructor.name ?? '');
    this.modesRun.add(mode);
    if (mode !== this.activeMode) {
      const note = `${key} → ${mode}`;
      if (!this.fallbacks.includes(note)) this.fallbacks.push(note);
    }
  }

  private wrap(out: GpuJsTexture | Float32Array, shape: Shape): GpuBuffer {
    const bytes = out instanceof Float32Array ? out.byteLength : textureBytes(out);
    this.memory.buffers++;
    this.memory.bytes += bytes;
    return new GpuBuffer(shape, new Storage(out, bytes, this));
  }

  /**
   * The float64 rule: float64 buffers of this backend are CPU buffers and their ops run on the
   * CPU backend, exactly — or, under the 'error' policy, a DTypeError naming the op.
   */
  private host(op: string, shape?: Shape): Backend {
    if (this.float64Policy === 'error') {
      throw new DTypeError(
        `${op}: the gpu backend ('${this.name}') computes in float32 only, got float64${shape ? ` ${fmtShape(shape)}` : ''}; ` +
        `gpu.js has no double precision. Create float32 tensors (setDefaultDType('float32') or cast(x, 'float32')), ` +
        `keep float64 work on the CPU backend (setBackend('cpu')), or allow CPU fallback (setFloat64Policy('cpu'))`,
      );
    }
    this.float64Ops++;
    return cpuBackend;
  }

  /** A condition mask as a CPU buffer (for a float64 where). */
  private toHost(x: Buffer): Buffer {
    return x instanceof CpuBuffer ? x : cpuBackend.fromArray(this.toArray(x), x.shape, x.dtype);
  }

  private buf(op: string, x: Buffer): GpuJsTexture | Float32Array {
    if (!(x instanceof GpuBuffer)) throw new ValueError(`${op}: buffer of shape ${fmtShape(x.shape)} does not belong to the gpu backend`);
    return x.data(op);
  }

  // ---- upload, download, memory ----

  fromArray(values: ArrayLike<number>, shape: Shape, dtype: DType): Buffer {
    if (dtype === 'float64') return this.host('fromArray', shape).fromArray(values, shape, dtype);
    checkSize('fromArray', shape);
    const n = sizeOf(shape);
    const host = values instanceof Float32Array && values.length === n ? values : Float32Array.from({ length: n }, (_, i) => values[i]!);
    return this.run('fromArray', 'copy', K.copySource, shape, [host]);
  }

  toArray(x: Buffer): TypedArray {
    if (x instanceof CpuBuffer) return cpuBackend.toArray(x);
    const b = x as GpuBuffer;
    const n = sizeOf(x.shape);
    if (n === 0) return new Float32Array(0);
    const data = this.buf('toArray', b);
    const flat = data instanceof Float32Array ? data : data.toArray();
    if (!(flat instanceof Float32Array)) return Float32Array.from(flat as ArrayLike<number>).subarray(0, n);
    return flat.slice(0, n);
  }

  dispose(x: Buffer): void {
    if (x instanceof GpuBuffer) x.release();
  }

  fill(shape: Shape, dtype: DType, value: number): Buffer {
    if (dtype === 'float64') return this.host('fill', shape).fill(shape, dtype, value);
    return this.run('fill', 'fill', K.fillSource, shape, [value]);
  }

  // ---- elementwise ----

  unary(op: UnaryOp, x: Buffer): Buffer {
    if (x instanceof CpuBuffer) return this.host(op).unary(op, x);
    return this.run(op, `unary|${op}`, sourceOf.unary(op), x.shape, [this.buf(op, x)]);
  }

  binary(op: BinaryOp, a: Buffer, b: Buffer): Buffer {
    if (a instanceof CpuBuffer) return this.host(op).binary(op, a, b);
    sameShapes(op, a, b);
    return this.run(op, `binary|${op}`, sourceOf.binary(op), a.shape, [this.buf(op, a), this.buf(op, b)]);
  }

  pow(x: Buffer, p: number): Buffer {
    if (x instanceof CpuBuffer) return this.host('pow').pow(x, p);
    return this.run('pow', 'pow', K.powSource, x.shape, [this.buf('pow', x), p]);
  }

  where(cond: Buffer, a: Buffer, b: Buffer): Buffer {
    if (a instanceof CpuBuffer) return this.host('where').where(this.toHost(cond), a, b);
    sameShapes('where', cond, a);
    sameShapes('where', a, b);
    return this.run('where', 'where', K.whereSource, a.shape, [this.buf('where', cond), this.buf('where', a), this.buf('where', b)]);
  }

  cast(x: Buffer, dtype: DType): Buffer {
    if (x.dtype === dtype) return x instanceof CpuBuffer ? cpuBackend.cast(x, dtype) : (x as GpuBuffer).view(x.shape);
    // float64 → float32 uploads (rounding on the host), float32 → float64 downloads
    if (dtype === 'float32') return this.fromArray(cpuBackend.toArray(cpuBackend.cast(x, 'float32')), x.shape, 'float32');
    return this.host('cast', x.shape).fromArray(this.toArray(x), x.shape, 'float64');
  }

  // ---- reductions and matmul ----

  reduce(op: 'sum' | 'max', x: Buffer, axes: readonly number[]): Buffer {
    if (x instanceof CpuBuffer) return this.host(op).reduce(op, x, axes);
    const rank = x.shape.length;
    const kept = [...Array(rank).keys()].filter((i) => !axes.includes(i));
    const outShape = kept.map((i) => x.shape[i]!);
    const inner = sizeOf(axes.map((i) => x.shape[i]!));
    const outer = sizeOf(outShape);
    if (inner === 0) {
      if (op === 'max') throw new ShapeError(`max: cannot reduce an empty axis of ${fmtShape(x.shape)}`);
      return this.fill(outShape, 'float32', 0);
    }
    // Reduced axes last and contiguous: a free view when they already are, else one gather.
    const trailing = axes.every((a, i) => a === rank - axes.length + i);
    const rows = trailing ? (x as GpuBuffer) : (this.permute(x, [...kept, ...axes]) as GpuBuffer);
    let out: GpuBuffer;
    // Long rows are cut into ~√inner segments so many threads share the work.
    if (inner > 1024) {
      const seg = Math.ceil(Math.sqrt(inner));
      const segments = Math.ceil(inner / seg);
      const partial = this.run(op, `reduce|${op}`, K.reduceSource(op), [outer, segments], [rows.data(op), inner, seg, segments]);
      out = this.run(op, `reduce|${op}`, K.reduceSource(op), outShape, [partial.data(op), segments, segments, 1]);
      partial.release();
    } else {
      out = this.run(op, `reduce|${op}`, K.reduceSource(op), outShape, [rows.data(op), inner, inner, 1]);
    }
    if (rows !== x) rows.release();
    return out;
  }

  matmul(a: Buffer, b: Buffer, transA: boolean, transB: boolean): Buffer {
    if (a instanceof CpuBuffer) return this.host('matmul').matmul(a, b, transA, transB);
    const ra = a.shape.length;
    if (ra < 2 || b.shape.length !== ra) throw new ShapeError(`matmul: operands ${fmtShape(a.shape)} and ${fmtShape(b.shape)} need equal ranks ≥ 2`);
    const batchShape = a.shape.slice(0, ra - 2);
    const [aR, aC] = [a.shape[ra - 2]!, a.shape[ra - 1]!];
    const [bR, bC] = [b.shape[ra - 2]!, b.shape[ra - 1]!];
    const M = transA ? aC : aR, Ka = transA ? aR : aC, Kb = transB ? bC : bR, N = transB ? bR : bC;
    if (Ka !== Kb) throw new ShapeError(`matmul: inner dimensions differ: ${fmtShape(a.shape)} and ${fmtShape(b.shape)} (transA=${transA}, transB=${transB})`);
    const outShape = [...batchShape, M, N];
    if (Ka === 0) return this.fill(outShape, 'float32', 0);
    const sAm = transA ? 1 : Ka, sAk = transA ? M : 1;
    const sBk = transB ? 1 : N, sBn = transB ? Ka : 1;
    return this.run('matmul', 'matmul', K.matmulSource, outShape, [
      this.buf('matmul', a), this.buf('matmul', b), M, N, Ka, sAm, sAk, sBk, sBn, M * Ka, Ka * N,
    ]);
  }

  // ---- layout ----

  reshape(x: Buffer, shape: Shape): Buffer {
    if (x instanceof CpuBuffer) return cpuBackend.reshape(x, shape);
    if (sizeOf(shape) !== sizeOf(x.shape)) throw new ShapeError(`reshape: cannot view ${fmtShape(x.shape)} as ${fmtShape(shape)}`);
    return (x as GpuBuffer).view(shape);
  }

  permute(x: Buffer, perm: readonly number[]): Buffer {
    if (x instanceof CpuBuffer) return cpuBackend.permute(x, perm);
    const strides = stridesOf(x.shape);
    const outShape = perm.map((p) => x.shape[p]!);
    return this.strided('permute', x, 0, outShape, perm.map((p) => strides[p]!));
  }

  broadcastTo(x: Buffer, shape: Shape): Buffer {
    if (x instanceof CpuBuffer) return cpuBackend.broadcastTo(x, shape);
    const strides = stridesOf(x.shape);
    const lead = shape.length - x.shape.length;
    const s = shape.map((_, i) => (i < lead || x.shape[i - lead] === 1 ? 0 : strides[i - lead]!));
    return this.strided('broadcastTo', x, 0, shape, s);
  }

  slice(x: Buffer, begin: readonly number[], size: readonly number[]): Buffer {
    if (x instanceof CpuBuffer) return cpuBackend.slice(x, begin, size);
    const strides = stridesOf(x.shape);
    const offset = begin.reduce((acc, b, i) => acc + b * strides[i]!, 0);
    return this.strided('slice', x, offset, size, strides);
  }

  /** out[i] = x[offset + Σ index_k · strides_k] over `shape`, with axes coalesced to fit MAX_RANK. */
  private strided(op: string, x: Buffer, offset: number, shape: Shape, strides: readonly number[]): GpuBuffer {
    const [dims, s] = coalesce(shape, strides);
    if (dims.length > K.MAX_RANK) throw new ShapeError(`${op}: the gpu backend handles at most ${K.MAX_RANK} non-mergeable axes, got shape ${fmtShape(shape)}`);
    while (dims.length < K.MAX_RANK) {
      dims.unshift(1);
      s.unshift(0);
    }
    if (sizeOf(shape) === 0) return new GpuBuffer(shape, null);
    return this.run(op, 'strided', K.stridedSource, shape, [this.buf(op, x), offset, ...dims, ...s]);
  }

  pad(x: Buffer, before: readonly number[], after: readonly number[]): Buffer {
    if (x instanceof CpuBuffer) return this.host('pad').pad(x, before, after);
    const rank = x.shape.length;
    const outShape = x.shape.map((d, i) => d + before[i]! + after[i]!);
    if (rank > K.MAX_RANK) throw new ShapeError(`pad: the gpu backend pads at most ${K.MAX_RANK} axes, got ${fmtShape(x.shape)}`);
    const lead = K.MAX_RANK - rank;
    const o = [...Array(lead).fill(1), ...outShape];
    const b = [...Array(lead).fill(0), ...before];
    const n = [...Array(lead).fill(1), ...x.shape];
    if (sizeOf(x.shape) === 0) return this.fill(outShape, 'float32', 0);
    return this.run('pad', 'pad', K.padSource, outShape, [this.buf('pad', x), ...o, ...b, ...n]);
  }

  concat(xs: readonly Buffer[], axis: number): Buffer {
    if (xs[0] instanceof CpuBuffer) return this.host('concat').concat(xs, axis);
    const nonEmpty = xs.filter((x) => sizeOf(x.shape) > 0);
    const outShape = [...xs[0]!.shape];
    outShape[axis] = xs.reduce((s, x) => s + x.shape[axis]!, 0);
    if (nonEmpty.length === 0) return new GpuBuffer(outShape, null);
    if (nonEmpty.length === 1) return (nonEmpty[0] as GpuBuffer).view(outShape);
    // Pairwise in a balanced tree: every element is copied about log2(k) times.
    const inputs = new Set<Buffer>(nonEmpty);
    let level = nonEmpty as GpuBuffer[];
    while (level.length > 1) {
      const next: GpuBuffer[] = [];
      for (let i = 0; i < level.length; i += 2) {
        if (i + 1 === level.length) { next.push(level[i]!); continue; }
        next.push(this.concat2(level[i]!, level[i + 1]!, axis));
        for (const done of [level[i]!, level[i + 1]!]) if (!inputs.has(done)) done.release();
      }
      level = next;
    }
    return level[0]!;
  }

  private concat2(a: GpuBuffer, b: GpuBuffer, axis: number): GpuBuffer {
    const inner = sizeOf(a.shape.slice(axis + 1));
    const la = a.shape[axis]!, lb = b.shape[axis]!;
    const shape = [...a.shape];
    shape[axis] = la + lb;
    return this.run('concat', 'concat', K.concatSource, shape, [a.data('concat'), b.data('concat'), la, lb, inner]);
  }

  // ---- gathers ----

  gather(x: Buffer, labels: Int32Array): Buffer {
    if (x instanceof CpuBuffer) return this.host('gather').gather(x, labels);
    const [n, c] = x.shape as [number, number];
    if (n === 0) return new GpuBuffer([0], null);
    const l = this.labels(labels);
    const out = this.run('gather', 'gather', K.gatherSource, [n], [this.buf('gather', x), l.data('gather'), c]);
    l.release();
    return out;
  }

  scatter(v: Buffer, labels: Int32Array, classes: number): Buffer {
    if (v instanceof CpuBuffer) return this.host('scatter').scatter(v, labels, classes);
    const n = v.shape[0]!;
    if (n === 0 || classes === 0) return new GpuBuffer([n, classes], null);
    const l = this.labels(labels);
    const out = this.run('scatter', 'scatter', K.scatterSource, [n, classes], [this.buf('scatter', v), l.data('scatter'), classes]);
    l.release();
    return out;
  }

  /** Labels go up as a float texture: integers below 2^24 are exact in float32. */
  private labels(labels: Int32Array): GpuBuffer {
    return this.run('labels', 'copy', K.copySource, [labels.length], [Float32Array.from(labels)]);
  }

  im2col(x: Buffer, g: Conv2dGeometry): Buffer {
    if (x instanceof CpuBuffer) return this.host('im2col').im2col(x, g);
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const { kernelH: kh, kernelW: kw, stride, padding } = g;
    const oh = convOutSize(h, kh, stride, padding), ow = convOutSize(w, kw, stride, padding);
    return this.run('im2col', 'im2col', K.im2colSource, [n, oh, ow, c * kh * kw], [
      this.buf('im2col', x), c, h, w, kh, kw, stride, padding, oh, ow,
    ]);
  }

  col2im(cols: Buffer, imageShape: Shape, g: Conv2dGeometry): Buffer {
    if (cols instanceof CpuBuffer) return this.host('col2im').col2im(cols, imageShape, g);
    const [, c, h, w] = imageShape as [number, number, number, number];
    const { kernelH: kh, kernelW: kw, stride, padding } = g;
    const oh = convOutSize(h, kh, stride, padding), ow = convOutSize(w, kw, stride, padding);
    return this.run('col2im', 'col2im', K.col2imSource, imageShape, [
      this.buf('col2im', cols), c, h, w, kh, kw, stride, padding, oh, ow,
    ]);
  }

  // ---- max pooling (the offsets are small integers, exact in float32) ----

  poolArgmax(x: Buffer, g: PoolGeometry): Buffer {
    if (x instanceof CpuBuffer) return this.host('poolArgmax').poolArgmax(x, g);
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const { kernelH: kh, kernelW: kw, stride } = g;
    const oh = convOutSize(h, kh, stride, 0), ow = convOutSize(w, kw, stride, 0);
    return this.run('poolArgmax', 'poolArgmax', K.poolArgmaxSource, [n, c, oh, ow], [this.buf('poolArgmax', x), h, w, kh, kw, stride, oh, ow]);
  }

  poolGather(x: Buffer, at: Buffer, g: PoolGeometry): Buffer {
    if (x instanceof CpuBuffer) return this.host('poolGather').poolGather(x, at, g);
    const [, , h, w] = x.shape as [number, number, number, number];
    const [, , oh, ow] = at.shape as [number, number, number, number];
    return this.run('poolGather', 'poolGather', K.poolGatherSource, at.shape, [
      this.buf('poolGather', x), this.buf('poolGather', at), h, w, g.kernelW, g.stride, oh, ow,
    ]);
  }

  poolScatter(v: Buffer, at: Buffer, imageShape: Shape, g: PoolGeometry): Buffer {
    if (v instanceof CpuBuffer) return this.host('poolScatter').poolScatter(v, at, imageShape, g);
    const [, , h, w] = imageShape as [number, number, number, number];
    const [, , oh, ow] = at.shape as [number, number, number, number];
    return this.run('poolScatter', 'poolScatter', K.poolScatterSource, imageShape, [
      this.buf('poolScatter', v), this.buf('poolScatter', at), h, w, g.kernelH, g.kernelW, g.stride, oh, ow,
    ]);
  }
}

function checkSize(op: string, shape: Shape): void {
  if (sizeOf(shape) > K.MAX_ELEMENTS) {
    throw new ShapeError(`${op}: ${fmtShape(shape)} has ${sizeOf(shape)} elements; the gpu backend's float32 index arithmetic allows at most 2^24 per tensor`);
  }
}

function sameShapes(op: string, a: Buffer, b: Buffer): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`${op}: the gpu kernel expects equal shapes, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
}

/** Bytes of an RGBA float32 texture (gpu.js stores one value per texel in single precision). */
function textureBytes(t: GpuJsTexture): number {
  const size = t.size;
  return (size[0] ?? 1) * (size[1] ?? 1) * 16;
}

/**
 * Merges neighbouring axes that address memory as one (stride_k = stride_{k+1}·dim_{k+1}) and
 * drops size-1 axes, so a strided gather needs as few axes as possible.
 * @example coalesce([2, 3, 4], [12, 4, 1]) // [[24], [1]]
 */
export function coalesce(shape: Shape, strides: readonly number[]): [number[], number[]] {
  const dims: number[] = [], s: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && s[last] === strides[i]! * shape[i]!) {
      dims[last] = dims[last]! * shape[i]!;
      s[last] = strides[i]!;
    } else {
      dims.push(shape[i]!);
      s.push(strides[i]!);
    }
  }
  if (dims.length === 0) return [[1], [0]];
  return [dims, s];
}
