/**
 * The IDX format of the MNIST / Fashion-MNIST distributions (raw or gzip), for image datasets a
 * user has on disk. Files are read with Node; `parseIdx` decodes bytes anywhere (gzip needs
 * Node's zlib).
 */
import { ValueError, getDefaultDType, tensor, type DType } from '../engine/index.js';
import { allocate } from '../engine/dtype.js';
import type { Dataset } from './data.js';
import { EnvironmentError, FormatError } from './errors.js';
import { nodeModule } from './node.js';
import { readFileBytes } from './files.js';

/** A train/test pair. */
export interface Split {
  readonly train: Dataset;
  readonly test: Dataset;
}

/** Options of the MNIST loaders. */
export interface ImageDataOptions {
  /** Float dtype of the pixels (the engine default if omitted). */
  readonly dtype?: DType;
  /** true: samples [N, 784] (for MLPs); false: [N, 1, 28, 28] (for CNNs). Default true. */
  readonly flatten?: boolean;
}

/** The element types of the IDX format (third byte of the magic number). */
const IDX_TYPES = {
  0x08: { name: 'ubyte', bytes: 1 },
  0x09: { name: 'byte', bytes: 1 },
  0x0b: { name: 'short', bytes: 2 },
  0x0c: { name: 'int', bytes: 4 },
  0x0d: { name: 'float', bytes: 4 },
  0x0e: { name: 'double', bytes: 8 },
} as const;

/** A decoded IDX file: its element type, its shape and its values (row-major). */
export interface IdxArray {
  readonly type: 'ubyte' | 'byte' | 'short' | 'int' | 'float' | 'double';
  readonly shape: number[];
  readonly data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/**
 * Decodes an IDX file (the format of MNIST and Fashion-MNIST), raw or gzip-compressed (detected
 * from the gzip magic bytes). Values are big-endian as the format says. A bad magic number, an
 * unknown type, a truncated file or trailing bytes give a FormatError naming `source`.
 * @example const images = parseIdx(readFileSync('train-images-idx3-ubyte.gz')); // shape [60000, 28, 28]
 */
export function parseIdx(bytes: Uint8Array, source = 'IDX data'): IdxArray {
  let buf = bytes;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = nodeModule('node:zlib', `parseIdx (${source} is gzip-compressed; decompress it first where there is no Node)`).gunzipSync(buf);
    } catch (e) {
      if (e instanceof EnvironmentError) throw e;
      throw new FormatError(`${source}: corrupt gzip stream (${(e as Error).message})`);
    }
  }
  if (buf.length < 4) throw new FormatError(`${source}: ${buf.length} bytes, too short for an IDX header`);
  if (buf[0] !== 0 || buf[1] !== 0) throw new FormatError(`${source}: bad magic number (first two bytes must be 0, got ${buf[0]}, ${buf[1]}) — not an IDX file`);
  const type = IDX_TYPES[buf[2] as keyof typeof IDX_TYPES];
  if (!type) throw new FormatError(`${source}: unknown IDX element type 0x${buf[2]!.toString(16).padStart(2, '0')}`);
  const rank = buf[3]!;
  if (rank === 0) throw new FormatError(`${source}: IDX rank 0`);
  const headerBytes = 4 + 4 * rank;
  if (buf.length < headerBytes) throw new FormatError(`${source}: truncated header (${buf.length} bytes, rank ${rank} needs ${headerBytes})`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * type.bytes;
  if (buf.length < expected) throw new FormatError(`${source}: truncated: shape [${shape.join(', ')}] of ${type.name} needs ${expected} bytes, the file has ${buf.length}`);
  if (buf.length > expected) throw new FormatError(`${source}: ${buf.length - expected} unexpected bytes after the data (shape [${shape.join(', ')}] of ${type.name})`);
  let data: IdxArray['data'];
  switch (type.name) {
    // copies (new Uint8Array of a view), so the result never aliases Node's shared Buffer pool
    case 'ubyte': data = new Uint8Array(buf.subarray(headerBytes, expected)); break;
    case 'byte': data = new Int8Array(new Uint8Array(buf.subarray(headerBytes, expected)).buffer); break;
    case 'short': data = Int16Array.from({ length: count }, (_, i) => view.getInt16(headerBytes + 2 * i, false)); break;
    case 'int': data = Int32Array.from({ length: count }, (_, i) => view.getInt32(headerBytes + 4 * i, false)); break;
    case 'float': data = Float32Array.from({ length: count }, (_, i) => view.getFloat32(headerBytes + 4 * i, false)); break;
    case 'double': data = Float64Array.from({ length: count }, (_, i) => view.getFloat64(headerBytes + 8 * i, false)); break;
  }
  return { type: type.name, shape, data };
}

/** Reads and decodes an IDX file (raw or .gz). @example readIdx('data/t10k-labels-idx1-ubyte.gz') */
export function readIdx(path: string): IdxArray {
  return parseIdx(readFileBytes(path, 'readIdx'), path);
}

/**
 * An image dataset from an IDX images file ([N, H, W] ubyte) and an IDX labels file ([N] ubyte),
 * pixels scaled to [0, 1]. Counts, types and label range are checked.
 * @example const test = loadIdxDataset('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz');
 */
export function loadIdxDataset(imagesPath: string, labelsPath: string, options: ImageDataOptions & { classes?: number } = {}): Dataset {
  const images = readIdx(imagesPath), labels = readIdx(labelsPath);
  const classes = options.classes ?? 10;
  if (images.type !== 'ubyte' || images.shape.length !== 3) throw new FormatError(`${imagesPath}: expected [N, H, W] ubyte images, got [${images.shape.join(', ')}] ${images.type}`);
  if (labels.type !== 'ubyte' || labels.shape.length !== 1) throw new FormatError(`${labelsPath}: expected [N] ubyte labels, got [${labels.shape.join(', ')}] ${labels.type}`);
  const [n, h, w] = images.shape as [number, number, number];
  if (labels.shape[0] !== n) throw new FormatError(`${labelsPath}: ${labels.shape[0]} labels for ${n} images in ${imagesPath}`);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const l = labels.data[i]!;
    if (l >= classes) throw new FormatError(`${labelsPath}: label ${i} is ${l}, outside [0, ${classes})`);
    y[i] = l;
  }
  const dtype = options.dtype ?? getDefaultDType();
  const x = allocate(dtype, n * h * w);
  for (let i = 0; i < x.length; i++) x[i] = images.data[i]! / 255;
  const flat = options.flatten ?? true;
  return { x: tensor(x, flat ? [n, h * w] : [n, 1, h, w], dtype), y, classes };
}

/**
 * The standard MNIST / Fashion-MNIST files in a directory (`train-images-idx3-ubyte`,
 * `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each raw or `.gz`).
 * @example const { train, test } = loadIdxDirectory('~/data/fashion-mnist', { flatten: false });
 */
export function loadIdxDirectory(dir: string, options: ImageDataOptions = {}): Split {
  const { existsSync } = nodeModule('node:fs', 'loadIdxDirectory'), { join } = nodeModule('node:path', 'loadIdxDirectory');
  const find = (base: string): string => {
    for (const name of [base, `${base}.gz`, base.replace('-idx', '.idx'), `${base.replace('-idx', '.idx')}.gz`]) {
      const p = join(dir, name);
      if (existsSync(p)) return p;
    }
    throw new ValueError(`loadIdxDirectory: ${dir} has no ${base} (or ${base}.gz)`);
  };
  return {
    train: loadIdxDataset(find('train-images-idx3-ubyte'), find('train-labels-idx1-ubyte'), options),
    test: loadIdxDataset(find('t10k-images-idx3-ubyte'), find('t10k-labels-idx1-ubyte'), options),
  };
}
