/**
 * Datasets: a float tensor of samples, integer labels, and the number of classes. Helpers select
 * samples (by index, by class), make mini-batches, and generate synthetic data whose answers are
 * known in closed form. Selection happens on the host: datasets here are small.
 */
import {
  NonFiniteError, Rng, ShapeError, ValueError, fmtShape, slice, tensor, type DType, type Tensor, type TypedArray,
} from '../engine/index.js';
import { allocate } from '../engine/dtype.js';

/** A classification dataset: `x` is [N, ...features] (float), `y[i]` ∈ [0, classes) is sample i's label. */
export interface Dataset {
  readonly x: Tensor;
  readonly y: Int32Array;
  readonly classes: number;
}

/** A regression dataset: `x` [N, features], targets `y` [N] or [N, outputs]. */
export interface RegressionDataset {
  readonly x: Tensor;
  readonly y: Tensor;
}

/**
 * A validated dataset: labels must be integers in [0, classes), one per sample, and `x` finite.
 * @example const ds = dataset(tensor([[0, 1], [1, 0]]), [0, 1], 2);
 */
export function dataset(x: Tensor, labels: ArrayLike<number>, classes: number): Dataset {
  if (!Number.isInteger(classes) || classes < 1) throw new ValueError(`dataset: classes must be a positive integer, got ${classes}`);
  if (x.rank < 1) throw new ShapeError(`dataset: x must have a sample axis, got shape ${fmtShape(x.shape)}`);
  const n = x.shape[0]!;
  if (labels.length !== n) throw new ShapeError(`dataset: ${labels.length} labels for ${n} samples (x ${fmtShape(x.shape)})`);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    if (!Number.isInteger(l) || l < 0 || l >= classes) throw new ValueError(`dataset: label of sample ${i} is ${l}, not an integer in [0, ${classes})`);
    y[i] = l;
  }
  const values = x.toArray();
  const rowSize = Math.max(1, values.length / Math.max(1, n));
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) throw new NonFiniteError(`dataset: x has a non-finite value (${values[i]}) in sample ${Math.floor(i / rowSize)}`);
  }
  return { x, y, classes };
}

/** The number of samples. @example size(ds) */
export function size(ds: { readonly x: Tensor }): number {
  return ds.x.shape[0]!;
}

/**
 * Samples `start … end − 1` of a batch `x` ([N, ...]), as a tensor: `x` itself when that is all
 * of it. For passes that run a large batch in chunks.
 * @example sampleRange(images, 0, 128) // the first 128 images, [128, 1, 28, 28]
 */
export function sampleRange(x: Tensor, start: number, end: number): Tensor {
  const n = x.shape[0];
  if (n === undefined || !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > n || start >= end) {
    throw new ValueError(`sampleRange: [${start}, ${end}) is not a nonempty range of the ${n ?? 0} samples of ${fmtShape(x.shape)}`);
  }
  if (start === 0 && end === n) return x;
  const rest = x.shape.slice(1);
  return slice(x, [start, ...rest.map(() => 0)], [end - start, ...rest.map(() => -1)]);
}

/**
 * A batch `x` cut into consecutive chunks of at most `batchSize` samples, each with its range
 * `[start, end)`: for passes that run a large batch piece by piece. `caller` names the function in
 * the error about a bad `batchSize`.
 * @example for (const { start, end, x: part } of sampleChunks(images, 128)) console.log(start, end, part.shape);
 */
export function sampleChunks(x: Tensor, batchSize: number, caller = 'sampleChunks'): { start: number; end: number; x: Tensor }[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`${caller}: batchSize must be a positive integer, got ${batchSize}`);
  const n = x.shape[0] ?? 0;
  const chunks: { start: number; end: number; x: Tensor }[] = [];
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    chunks.push({ start, end, x: sampleRange(x, start, end) });
  }
  return chunks;
}

/**
 * Rows `indices` of host data laid out as [N, ...rest] (rowSize values per row), as a tensor.
 * Shared by subset, batching and training so each copies rows the same way.
 * @example gatherRows(ds.x.toArray(), [784], [3, 1], 'float32') // samples 3 and 1, [2, 784]
 */
export function gatherRows(values: TypedArray, sampleShape: readonly number[], indices: ArrayLike<number>, dtype: DType): Tensor {
  const rowSize = sampleShape.reduce((a, b) => a * b, 1);
  const n = values.length / Math.max(rowSize, 1);
  const out = allocate(dtype, indices.length * rowSize);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new ValueError(`gatherRows: index ${i} (position ${k}) outside [0, ${n})`);
    out.set(values.subarray(i * rowSize, (i + 1) * rowSize), k * rowSize);
  }
  return tensor(out, [indices.length, ...sampleShape], dtype);
}

/**
 * The samples at `indices`, in that order (repeats allowed).
 * @example subset(ds, [0, 5, 7])
 */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const x = gatherRows(ds.x.toArray(), ds.x.shape.slice(1), indices, ds.x.dtype);
  const y = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) y[k] = ds.y[indices[k]!]!;
  return { x, y, classes: ds.classes };
}

/** Indices of the samples whose label is one of `classes`. @example classIndices(ds, 3) */
export function classIndices(ds: Dataset, classes: number | readonly number[]): Int32Array {
  const set = new Set(typeof classes === 'number' ? [classes] : classes);
  for (const c of set) if (!Number.isInteger(c) || c < 0 || c >= ds.classes) throw new ValueError(`classIndices: class ${c} outside [0, ${ds.classes})`);
  const out: number[] = [];
  ds.y.forEach((l, i) => set.has(l) && out.push(i));
  return Int32Array.from(out);
}

/** The samples of the given class(es), in dataset order. @example byClass(ds, 7) */
export function byClass(ds: Dataset, classes: number | readonly number[]): Dataset {
  return subset(ds, classIndices(ds, classes));
}

/** Every sample except those of the given class(es); `classes` is kept. @example withoutClass(ds, 0) */
export function withoutClass(ds: Dataset, classes: number | readonly number[]): Dataset {
  const drop = new Set(classIndices(ds, classes));
  return subset(ds, Int32Array.from({ length: size(ds) }, (_, i) => i).filter((i) => !drop.has(i)));
}

/** Every sample except those at `indices` (order kept). @example withoutIndices(ds, [3, 9]) */
export function withoutIndices(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const drop = new Set(Array.from(indices));
  return subset(ds, Int32Array.from({ length: size(ds) }, (_, i) => i).filter((i) => !drop.has(i)));
}

/** Two datasets of the same sample shape, one after the other. @example concatDatasets(a, b) */
export function concatDatasets(a: Dataset, b: Dataset): Dataset {
  const sa = a.x.shape.slice(1), sb = b.x.shape.slice(1);
  if (sa.length !== sb.length || !sa.every((d, i) => d === sb[i])) throw new ShapeError(`concatDatasets: sample shapes ${fmtShape(sa)} and ${fmtShape(sb)} differ`);
  if (a.x.dtype !== b.x.dtype) throw new ValueError(`concatDatasets: dtypes ${a.x.dtype} and ${b.x.dtype} differ`);
  const va = a.x.toArray(), vb = b.x.toArray();
  const out = allocate(a.x.dtype, va.length + vb.length);
  out.set(va);
  out.set(vb, va.length);
  const y = new Int32Array(a.y.length + b.y.length);
  y.set(a.y);
  y.set(b.y, a.y.length);
  return { x: tensor(out, [a.y.length + b.y.length, ...sa], a.x.dtype), y, classes: Math.max(a.classes, b.classes) };
}

/** One mini-batch: the samples, their labels, and their indices in the dataset. */
export interface Batch {
  readonly x: Tensor;
  readonly y: Int32Array;
  readonly indices: Int32Array;
}

/**
 * Mini-batches covering the dataset once: in order, or shuffled by `rng` (a seeded permutation).
 * The last batch may be smaller.
 * @example for (const { x, y } of batches(ds, 64, new Rng(0))) { ... }
 */
export function* batches(ds: Dataset, batchSize: number, rng?: Rng): Generator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`batches: batch size must be a positive integer, got ${batchSize}`);
  const n = size(ds);
  const order = rng ? rng.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
  const values = ds.x.toArray();
  const sampleShape = ds.x.shape.slice(1);
  for (let start = 0; start < n; start += batchSize) {
    const indices = order.slice(start, Math.min(n, start + batchSize));
    const y = new Int32Array(indices.length);
    indices.forEach((i, k) => (y[k] = ds.y[i]!));
    yield { x: gatherRows(values, sampleShape, indices, ds.x.dtype), y, indices };
  }
}

/** The same samples with every sample flattened to one axis: [N, ...] → [N, features]. @example flatten(ds) */
export function flattenSamples(ds: Dataset): Dataset {
  const n = size(ds), features = ds.x.size / Math.max(n, 1);
  return { ...ds, x: tensor(ds.x.toArray(), [n, features], ds.x.dtype) };
}

/** The same samples reshaped per sample, e.g. [N, 784] → [N, 1, 28, 28]. @example reshapeSamples(ds, [1, 28, 28]) */
export function reshapeSamples(ds: Dataset, sampleShape: readonly number[]): Dataset {
  const n = size(ds), features = sampleShape.reduce((a, b) => a * b, 1);
  if (features * n !== ds.x.size) throw new ShapeError(`reshapeSamples: samples of ${fmtShape(ds.x.shape)} do not fit ${fmtShape(sampleShape)}`);
  return { ...ds, x: tensor(ds.x.toArray(), [n, ...sampleShape], ds.x.dtype) };
}

/** The same dataset in another float dtype. @example withDType(ds, 'float32') */
export function withDType(ds: Dataset, dtype: DType): Dataset {
  if (ds.x.dtype === dtype) return ds;
  const out = allocate(dtype, ds.x.size);
  out.set(ds.x.toArray());
  return { ...ds, x: tensor(out, ds.x.shape, dtype) };
}

/**
 * (x − mean) / std elementwise with scalar statistics (e.g. MNIST's 0.1307 and 0.3081).
 * @example normalize(ds, 0.1307, 0.3081)
 */
export function normalize(ds: Dataset, mean: number, std: number): Dataset {
  if (!Number.isFinite(mean) || !Number.isFinite(std) || std <= 0) throw new ValueError(`normalize: need finite mean and std > 0, got ${mean}, ${std}`);
  const v = ds.x.toArray();
  const out = allocate(ds.x.dtype, v.length);
  for (let i = 0; i < v.length; i++) out[i] = (v[i]! - mean) / std;
  return { ...ds, x: tensor(out, ds.x.shape, ds.x.dtype) };
}

/**
 * A seeded, class-stratified split: within each class, a seeded permutation sends the first
 * round(fraction · count) samples to `second`, the rest to `first`. Both keep dataset order.
 * @example const { first: train, second: validation } = stratifiedSplit(ds, 0.1, 0);
 */
export function stratifiedSplit(ds: Dataset, fraction: number, seed: number): { first: Dataset; second: Dataset; firstIndices: Int32Array; secondIndices: Int32Array } {
  if (!(fraction >= 0 && fraction <= 1)) throw new ValueError(`stratifiedSplit: fraction must be in [0, 1], got ${fraction}`);
  const rng = new Rng(seed);
  const toSecond = new Uint8Array(size(ds));
  for (let c = 0; c < ds.classes; c++) {
    const idx = classIndices(ds, c);
    const perm = rng.permutation(idx.length);
    const take = Math.round(fraction * idx.length);
    for (let k = 0; k < take; k++) toSecond[idx[perm[k]!]!] = 1;
  }
  const firstIndices: number[] = [], secondIndices: number[] = [];
  toSecond.forEach((s, i) => (s ? secondIndices : firstIndices).push(i));
  const fi = Int32Array.from(firstIndices), si = Int32Array.from(secondIndices);
  return { first: subset(ds, fi), second: subset(ds, si), firstIndices: fi, secondIndices: si };
}

// ---------------------------------------------------------------- synthetic data

/**
 * Gaussian blobs: `classes` centres drawn from N(0, separation²·I), samples N(centre, I), labels
 * balanced (sample i has class i mod classes).
 * @example const ds = gaussianBlobs({ n: 300, classes: 3, features: 2, seed: 0 });
 */
export function gaussianBlobs(options: { n: number; classes: number; features: number; separation?: number; seed?: number; dtype?: DType }): Dataset & { centres: Float64Array } {
  const { n, classes, features, separation = 4, seed = 0, dtype = 'float64' } = options;
  for (const [k, v] of [['n', n], ['classes', classes], ['features', features]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ValueError(`gaussianBlobs: ${k} must be a positive integer, got ${v}`);
  }
  const rng = new Rng(seed);
  const centres = new Float64Array(classes * features);
  for (let i = 0; i < centres.length; i++) centres[i] = separation * rng.normal();
  const x = allocate(dtype, n * features);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    y[i] = c;
    for (let j = 0; j < features; j++) x[i * features + j] = centres[c * features + j]! + rng.normal();
  }
  return { x: tensor(x, [n, features], dtype), y, classes, centres };
}

/**
 * Linear regression data: x ~ N(0, I), y = x·w + b + noise·N(0, 1), with w ~ N(0, I), b ~ N(0, 1).
 * Returns the true `weight` and `bias` too.
 * @example const { x, y, weight } = linearRegressionData({ n: 100, features: 3, noise: 0.1 });
 */
export function linearRegressionData(options: { n: number; features: number; noise?: number; seed?: number; dtype?: DType }): RegressionDataset & { weight: Float64Array; bias: number } {
  const { n, features, noise = 0.1, seed = 0, dtype = 'float64' } = options;
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(features) || features < 1) throw new ValueError(`linearRegressionData: n and features must be positive integers, got ${n}, ${features}`);
  const rng = new Rng(seed);
  const weight = Float64Array.from({ length: features }, () => rng.normal());
  const bias = rng.normal();
  const x = allocate(dtype, n * features), y = allocate(dtype, n);
  for (let i = 0; i < n; i++) {
    let dot = bias;
    for (let j = 0; j < features; j++) {
      const v = rng.normal();
      x[i * features + j] = v;
      dot += v * weight[j]!;
    }
    y[i] = dot + noise * rng.normal();
  }
  return { x: tensor(x, [n, features], dtype), y: tensor(y, [n], dtype), weight, bias };
}

/**
 * Binary logistic regression data: x ~ N(0, I), P(y = 1 | x) = σ(x·w + b), with w ~ N(0, scale²·I).
 * @example const ds = logisticRegressionData({ n: 200, features: 5, seed: 1 });
 */
export function logisticRegressionData(options: { n: number; features: number; scale?: number; seed?: number; dtype?: DType }): Dataset & { weight: Float64Array; bias: number } {
  const { n, features, scale = 2, seed = 0, dtype = 'float64' } = options;
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(features) || features < 1) throw new ValueError(`logisticRegressionData: n and features must be positive integers, got ${n}, ${features}`);
  const rng = new Rng(seed);
  const weight = Float64Array.from({ length: features }, () => scale * rng.normal());
  const bias = rng.normal();
  const x = allocate(dtype, n * features);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let z = bias;
    for (let j = 0; j < features; j++) {
      const v = rng.normal();
      x[i * features + j] = v;
      z += v * weight[j]!;
    }
    y[i] = rng.uniform() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return { x: tensor(x, [n, features], dtype), y, classes: 2, weight, bias };
}
