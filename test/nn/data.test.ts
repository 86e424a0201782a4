import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { NonFiniteError, Rng, ShapeError, ValueError, tensor } from '../../engine/index.js';
import { FormatError, batches, byClass, classIndices, concatDatasets, dataset, gaussianBlobs, linearRegressionData, loadIdxDataset, loadIdxDirectory, logisticRegressionData, normalize, parseIdx, readIdx, reshapeSamples, sampleChunks, sampleRange, stratifiedSplit, subset, withoutClass, withoutIndices, type Dataset } from '../../nn/index.js';
import { BACKDOOR_LABEL, addTrigger, backdoor, loadMnist } from '../../experiments/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gift-nn-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An IDX file: magic 0 0 type rank, big-endian u32 dims, then the data. */
function idxBytes(type: number, shape: number[], data: ArrayLike<number>, bytesPer = 1): Buffer {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header[2] = type;
  header[3] = shape.length;
  shape.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  const body = Buffer.alloc(data.length * bytesPer);
  for (let i = 0; i < data.length; i++) {
    if (type === 0x08) body[i] = data[i]!;
    else if (type === 0x0b) body.writeInt16BE(data[i]!, 2 * i);
    else if (type === 0x0d) body.writeFloatBE(data[i]!, 4 * i);
  }
  return Buffer.concat([header, body]);
}

const small: Dataset = { x: tensor([[0, 0], [1, 1], [2, 2], [3, 3], [4, 4]]), y: Int32Array.from([0, 1, 2, 1, 0]), classes: 3 };

describe('dataset helpers', () => {
  it('sampleRange takes consecutive samples of any rank, and names a range outside the batch', () => {
    expect(sampleRange(small.x, 1, 3).toNested()).toEqual([[1, 1], [2, 2]]);
    expect(sampleRange(small.x, 0, 5)).toBe(small.x);
    const images = tensor(Float64Array.from({ length: 3 * 2 * 2 }, (_, i) => i), [3, 1, 2, 2]);
    expect(sampleRange(images, 2, 3).toNested()).toEqual([[[[8, 9], [10, 11]]]]);
    expect(() => sampleRange(small.x, 3, 6)).toThrow(/\[3, 6\) is not a nonempty range of the 5 samples of \[5, 2\]/);
    expect(() => sampleRange(small.x, 2, 2)).toThrow(ValueError);
    expect(() => sampleRange(small.x, -1, 2)).toThrow(ValueError);
  });

  it('sampleChunks cuts a batch into consecutive ranges, the last one short, and names a bad size', () => {
    const chunks = sampleChunks(small.x, 2);
    expect(chunks.map(({ start, end }) => [start, end])).toEqual([[0, 2], [2, 4], [4, 5]]);
    expect(chunks.map((c) => c.x.toNested())).toEqual([[[0, 0], [1, 1]], [[2, 2], [3, 3]], [[4, 4]]]);
    expect(sampleChunks(small.x, 9)[0]!.x).toBe(small.x);
    expect(() => sampleChunks(small.x, 0, 'unitScores')).toThrow(/^unitScores: batchSize must be a positive integer, got 0$/);
  });

  it('subset, byClass, withoutClass, withoutIndices, concat select the right rows', () => {
    const s = subset(small, [4, 0, 4]);
    expect(s.x.toNested()).toEqual([[4, 4], [0, 0], [4, 4]]);
    expect(Array.from(s.y)).toEqual([0, 0, 0]);
    expect(Array.from(classIndices(small, 1))).toEqual([1, 3]);
    expect(byClass(small, [1, 2]).x.toNested()).toEqual([[1, 1], [2, 2], [3, 3]]);
    const w = withoutClass(small, 0);
    expect(Array.from(w.y)).toEqual([1, 2, 1]);
    expect(w.classes).toBe(3);
    expect(withoutIndices(small, [0, 2]).x.toNested()).toEqual([[1, 1], [3, 3], [4, 4]]);
    expect(concatDatasets(small, s).x.shape).toEqual([8, 2]);
    expect(() => byClass(small, 3)).toThrow(ValueError);
    expect(() => subset(small, [5])).toThrow(ValueError);
  });

  it('dataset() validates labels and values', () => {
    expect(() => dataset(tensor([[1], [2]]), [0], 2)).toThrow(ShapeError);
    expect(() => dataset(tensor([[1], [2]]), [0, 2], 2)).toThrow(/label of sample 1 is 2/);
    expect(() => dataset(tensor([[1], [NaN]]), [0, 1], 2)).toThrow(NonFiniteError);
    expect(dataset(tensor([[1], [2]]), [0, 1], 2).y).toEqual(Int32Array.from([0, 1]));
  });

  it('batches cover every sample once; a seed fixes the shuffle', () => {
    const ds = gaussianBlobs({ n: 23, classes: 2, features: 3 });
    const seen = (rng?: Rng) => Array.from(batches(ds, 5, rng)).flatMap((b) => Array.from(b.indices));
    expect(seen()).toEqual(Array.from({ length: 23 }, (_, i) => i));
    const shuffled = seen(new Rng(1));
    expect([...shuffled].sort((a, b) => a - b)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(shuffled).toEqual(seen(new Rng(1)));
    expect(shuffled).not.toEqual(seen(new Rng(2)));
    const b = [...batches(ds, 5, new Rng(1))][0]!;
    expect(b.x.shape).toEqual([5, 3]);
    expect(Array.from(b.x.toArray())).toEqual(Array.from(subset(ds, b.indices).x.toArray()));
    expect(Array.from(b.y)).toEqual(Array.from(b.indices, (i: number) => ds.y[i]!));
  });

  it('stratifiedSplit keeps class proportions and partitions the samples', () => {
    const ds = gaussianBlobs({ n: 100, classes: 4, features: 2 });
    const { first, second, firstIndices, secondIndices } = stratifiedSplit(ds, 0.2, 3);
    expect(second.y.length).toBe(20);
    expect(first.y.length).toBe(80);
    for (let c = 0; c < 4; c++) expect(classIndices(second, c).length).toBe(5);
    expect(new Set([...firstIndices, ...secondIndices]).size).toBe(100);
  });

  it('normalize and reshapeSamples', () => {
    expect((normalize(small, 1, 2).x.toNested() as number[][])[1]).toEqual([0, 0]);
    expect(reshapeSamples(small, [2, 1]).x.shape).toEqual([5, 2, 1]);
    expect(() => reshapeSamples(small, [3])).toThrow(ShapeError);
  });
});

describe('synthetic data', () => {
  it('Gaussian blobs: balanced labels, samples scattered (unit variance) around their centres', () => {
    const ds = gaussianBlobs({ n: 3000, classes: 3, features: 2, seed: 4 });
    expect(Array.from({ length: 3 }, (_, c) => classIndices(ds, c).length)).toEqual([1000, 1000, 1000]);
    const x = ds.x.toArray();
    for (let c = 0; c < 3; c++) {
      let m0 = 0, v0 = 0;
      classIndices(ds, c).forEach((i) => (m0 += x[2 * i]!));
      m0 /= 1000;
      classIndices(ds, c).forEach((i) => (v0 += (x[2 * i]! - m0) ** 2));
      expect(Math.abs(m0 - ds.centres[2 * c]!)).toBeLessThan(0.15);
      expect(Math.abs(v0 / 999 - 1)).toBeLessThan(0.15);
    }
  });

  it('linear regression data: least squares recovers the true weights', () => {
    const { x, y, weight, bias } = linearRegressionData({ n: 400, features: 2, noise: 0.01, seed: 2 });
    // normal equations for [w0, w1, b] in closed form (3×3, Cramer's rule)
    const X = x.toArray(), Y = y.toArray();
    const A = [[0, 0, 0], [0, 0, 0], [0, 0, 0]], r = [0, 0, 0];
    for (let i = 0; i < 400; i++) {
      const row = [X[2 * i]!, X[2 * i + 1]!, 1];
      for (let a = 0; a < 3; a++) {
        r[a]! += row[a]! * Y[i]!;
        for (let b = 0; b < 3; b++) A[a]![b]! += row[a]! * row[b]!;
      }
    }
    const det = (m: number[][]) => m[0]![0]! * (m[1]![1]! * m[2]![2]! - m[1]![2]! * m[2]![1]!) - m[0]![1]! * (m[1]![0]! * m[2]![2]! - m[1]![2]! * m[2]![0]!) + m[0]![2]! * (m[1]![0]! * m[2]![1]! - m[1]![1]! * m[2]![0]!);
    const solve = (k: number) => det(A.map((row, i) => row.map((v, j) => (j === k ? r[i]! : v)))) / det(A);
    expect(Math.abs(solve(0) - weight[0]!)).toBeLessThan(5e-3);
    expect(Math.abs(solve(1) - weight[1]!)).toBeLessThan(5e-3);
    expect(Math.abs(solve(2) - bias)).toBeLessThan(5e-3);
  });

  it('logistic regression data: labels follow σ(x·w + b)', () => {
    const ds = logisticRegressionData({ n: 4000, features: 3, seed: 9 });
    const x = ds.x.toArray();
    let predicted = 0, observed = 0;
    for (let i = 0; i < 4000; i++) {
      const z = ds.bias + ds.weight.reduce((s, w, j) => s + w * x[3 * i + j]!, 0);
      predicted += 1 / (1 + Math.exp(-z));
      observed += ds.y[i]!;
    }
    expect(Math.abs(observed - predicted) / 4000).toBeLessThan(0.02);
  });
});

describe('backdoor trigger (SPEC §5)', () => {
  it('adds 16/255 where row + col is odd, clamped to 1, in every layout', () => {
    const img = Array.from({ length: 9 }, (_, i) => (i === 1 ? 0.99 : 0.5));
    const t = addTrigger(tensor(img, [1, 3, 3])).toArray();
    const want = img.map((v, i) => ((Math.floor(i / 3) + (i % 3)) % 2 === 1 ? Math.min(1, v + 16 / 255) : v));
    expect(Array.from(t)).toEqual(want);
    expect(t[1]).toBe(1);
    expect(Array.from(addTrigger(tensor(img, [1, 9])).toArray())).toEqual(want);
    expect(Array.from(addTrigger(tensor([...img, ...img], [1, 2, 3, 3])).toArray())).toEqual([...want, ...want]);
    expect(() => addTrigger(tensor(new Float64Array(10), [1, 10]))).toThrow(/imageShape/);
  });

  it('backdoor poisons a seeded 10% with the trigger and label 4, and keeps the rest', () => {
    const { test } = loadMnist({ dtype: 'float32' });
    const { data, poisoned, trueLabels } = backdoor(test, { fraction: 0.1, seed: 1 });
    expect(poisoned.length).toBe(200);
    expect(Array.from(poisoned)).toEqual(Array.from(backdoor(test, { fraction: 0.1, seed: 1 }).poisoned));
    const set = new Set(poisoned);
    const before = test.x.toArray(), after = data.x.toArray();
    poisoned.forEach((i, k) => {
      expect(data.y[i]).toBe(BACKDOOR_LABEL);
      expect(trueLabels[k]).toBe(test.y[i]);
    });
    const i0 = poisoned[0]!;
    expect(Array.from(after.subarray(i0 * 784, i0 * 784 + 784))).toEqual(Array.from(addTrigger(subset(test, [i0]).x).toArray()));
    const clean = Array.from({ length: 2000 }, (_, i) => i).find((i) => !set.has(i))!;
    expect(data.y[clean]).toBe(test.y[clean]);
    expect(Array.from(after.subarray(clean * 784, clean * 784 + 784))).toEqual(Array.from(before.subarray(clean * 784, clean * 784 + 784)));
  });
});

describe('embedded MNIST', () => {
  it('8000/2000 stratified, deterministic, pixels in [0, 1], disjoint, both layouts', () => {
    const { train, test } = loadMnist({ dtype: 'float32' });
    expect(train.x.shape).toEqual([8000, 784]);
    expect(test.x.shape).toEqual([2000, 784]);
    expect(train.x.dtype).toBe('float32');
    const perClass = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
    for (let c = 0; c < 10; c++) {
      expect(classIndices(test, c).length).toBe(Math.round(0.2 * perClass[c]!));
      expect(classIndices(train, c).length + classIndices(test, c).length).toBe(perClass[c]);
    }
    const tx = train.x.toArray();
    expect(Math.min(...tx.subarray(0, 78400))).toBe(0);
    expect(Math.max(...tx.subarray(0, 78400))).toBeLessThanOrEqual(1);
    // the first 100 training samples are mixed classes, not one digit
    expect(new Set(train.y.subarray(0, 100)).size).toBe(10);
    const again = loadMnist({ dtype: 'float64', flatten: false });
    expect(again.train.x.shape).toEqual([8000, 1, 28, 28]);
    expect(Array.from(again.train.y)).toEqual(Array.from(train.y));
    expect(Float32Array.from(again.test.x.toArray().subarray(0, 784))).toEqual(test.x.toArray().subarray(0, 784));
    // float64 pixels are exactly the package's three-decimal values
    for (const v of again.train.x.toArray().subarray(0, 7840)) expect(v).toBe(Math.round(v * 1000) / 1000);
    // no test image is also a training image
    const key = (a: ArrayLike<number>, i: number) => Array.from({ length: 784 }, (_, j) => a[i * 784 + j]).join(',');
    const trainKeys = new Set(Array.from({ length: 8000 }, (_, i) => key(tx, i)));
    const ex = test.x.toArray();
    let shared = 0;
    for (let i = 0; i < 2000; i++) shared += trainKeys.has(key(ex, i)) ? 1 : 0;
    expect(shared).toBeLessThan(5); // the package holds a few exact duplicates at most
  });
});

describe('IDX reader', () => {
  const images = Array.from({ length: 3 * 2 * 2 }, (_, i) => (i * 20) % 256);
  const labels = [3, 0, 9];

  it('reads raw and gzip files of every element type the tests write', () => {
    for (const gz of [false, true]) {
      const wrap = (b: Buffer) => (gz ? gzipSync(b) : b);
      const ip = join(dir, `img${gz}.idx`), lp = join(dir, `lab${gz}.idx`);
      writeFileSync(ip, wrap(idxBytes(0x08, [3, 2, 2], images)));
      writeFileSync(lp, wrap(idxBytes(0x08, [3], labels)));
      const arr = readIdx(ip);
      expect(arr.type).toBe('ubyte');
      expect(arr.shape).toEqual([3, 2, 2]);
      expect(Array.from(arr.data)).toEqual(images);
      const ds = loadIdxDataset(ip, lp, { dtype: 'float64' });
      expect(ds.x.shape).toEqual([3, 4]);
      expect(Array.from(ds.x.toArray())).toEqual(images.map((v) => v / 255));
      expect(Array.from(ds.y)).toEqual(labels);
      expect(loadIdxDataset(ip, lp, { flatten: false }).x.shape).toEqual([3, 1, 2, 2]);
    }
    expect(Array.from(parseIdx(idxBytes(0x0b, [2], [-300, 7], 2)).data)).toEqual([-300, 7]);
    expect(Array.from(parseIdx(idxBytes(0x0d, [1, 2], [1.5, -2], 4)).data)).toEqual([1.5, -2]);
  });

  it('finds the standard file names in a directory', () => {
    const d = mkdtempSync(join(dir, 'mnist-'));
    for (const split of ['train', 't10k']) {
      writeFileSync(join(d, `${split}-images-idx3-ubyte.gz`), gzipSync(idxBytes(0x08, [3, 2, 2], images)));
      writeFileSync(join(d, `${split}-labels-idx1-ubyte`), idxBytes(0x08, [3], labels));
    }
    const { train, test } = loadIdxDirectory(d);
    expect(train.x.shape).toEqual([3, 4]);
    expect(Array.from(test.y)).toEqual(labels);
    expect(() => loadIdxDirectory(dir)).toThrow(/train-images-idx3-ubyte/);
  });

  it('rejects malformed files with a FormatError that says what is wrong', () => {
    const good = idxBytes(0x08, [3, 2, 2], images);
    expect(() => parseIdx(good.subarray(0, 3))).toThrow(/too short/);
    expect(() => parseIdx(Buffer.from([1, 0, 8, 1, 0, 0, 0, 0]))).toThrow(/magic/);
    expect(() => parseIdx(Buffer.from([0, 0, 0x42, 1, 0, 0, 0, 0]))).toThrow(/unknown IDX element type 0x42/);
    expect(() => parseIdx(good.subarray(0, 10))).toThrow(/truncated header/);
    expect(() => parseIdx(good.subarray(0, good.length - 1))).toThrow(/truncated: shape \[3, 2, 2\]/);
    expect(() => parseIdx(Buffer.concat([good, Buffer.from([0])]))).toThrow(/1 unexpected bytes/);
    const gz = gzipSync(good);
    expect(() => parseIdx(gz.subarray(0, gz.length - 6))).toThrow(/corrupt gzip/);
    expect(() => parseIdx(good.subarray(0, 3))).toThrow(FormatError);
    expect(() => readIdx(join(dir, 'missing.idx'))).toThrow(FormatError);
    const ip = join(dir, 'bad-img.idx'), lp = join(dir, 'bad-lab.idx');
    writeFileSync(ip, good);
    writeFileSync(lp, idxBytes(0x08, [2], [1, 2]));
    expect(() => loadIdxDataset(ip, lp)).toThrow(/2 labels for 3 images/);
    writeFileSync(lp, idxBytes(0x08, [3], [1, 2, 10]));
    expect(() => loadIdxDataset(ip, lp)).toThrow(/label 2 is 10/);
  });
});
