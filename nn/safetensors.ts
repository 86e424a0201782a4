/**
 * Model files in the safetensors format, which PyTorch reads (`safetensors.torch.load_file`):
 *
 *   [8 bytes: header length N, little-endian u64][N bytes: JSON header][raw little-endian data]
 *
 * The header maps each tensor name to `{ dtype, shape, data_offsets: [begin, end] }` (offsets
 * relative to the data section) and holds a `__metadata__` string map. Tensor names are PyTorch
 * state_dict names (`0.weight`, `0.bias`, ...) with PyTorch layouts, so
 * `net.load_state_dict(load_file(path))` works on the same architecture built in PyTorch; the
 * gift architecture is stored as JSON under the metadata key `gift.architecture`.
 *
 * Loading validates everything before building a tensor; writing goes to a temporary file that
 * is renamed into place, so neither ever leaves a half-made result. `encodeModel`/`decodeModel`
 * work on bytes and run anywhere (a browser too); `saveModel`/`loadModel` add the file, in Node.
 */
import { tensor, type DType, type Tensor } from '../engine/index.js';
import { allocate } from '../engine/dtype.js';
import { FormatError } from './errors.js';
import { Sequential, type Params } from './sequential.js';
import { readFileBytes, writeFileAtomic } from './files.js';

/** The metadata key holding the JSON architecture (`Sequential.toSpec()`). */
export const ARCHITECTURE_KEY = 'gift.architecture';

const DTYPE_CODES: Record<DType, 'F32' | 'F64'> = { float32: 'F32', float64: 'F64' };
const CODE_DTYPES: Record<string, DType> = { F32: 'float32', F64: 'float64' };
const BYTES: Record<DType, number> = { float32: 4, float64: 8 };
/** Headers beyond this are refused before parsing (safetensors itself caps them at 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/** A named tensor as stored in a safetensors file. */
export interface NamedTensor {
  readonly name: string;
  readonly tensor: Tensor;
}

/**
 * Encodes tensors (in the given order) and string metadata as safetensors bytes. The header is
 * padded with spaces to a multiple of 8 bytes, as the reference implementation does.
 * @example const bytes = encodeSafetensors([{ name: 'w', tensor: ones([2]) }], { note: 'hi' });
 */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const seen = new Set<string>();
  for (const { name, tensor: t } of tensors) {
    if (name === '__metadata__' || seen.has(name)) throw new FormatError(`safetensors: tensor name ${JSON.stringify(name)} is reserved or repeated`);
    seen.add(name);
    const bytes = t.size * BYTES[t.dtype];
    header[name] = { dtype: DTYPE_CODES[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBuf = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20); // space padding
  headerBuf.set(json);
  const out = new Uint8Array(8 + headerBuf.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBuf.length), true);
  out.set(headerBuf, 8);
  let at = 8 + headerBuf.length;
  for (const { tensor: t } of tensors) {
    const values = t.toArray();
    // DataView writes little-endian whatever the host's byte order
    if (t.dtype === 'float32') for (let i = 0; i < values.length; i++, at += 4) view.setFloat32(at, values[i]!, true);
    else for (let i = 0; i < values.length; i++, at += 8) view.setFloat64(at, values[i]!, true);
  }
  return out;
}

/** The decoded content of a safetensors file. */
export interface SafetensorsContent {
  readonly tensors: NamedTensor[];
  readonly metadata: Record<string, string>;
}

/**
 * Decodes safetensors bytes, checking the header length, the JSON, every entry's dtype, shape and
 * offsets (in range, non-overlapping and covering the data section exactly) and the file length;
 * any problem is a FormatError naming `source` and the field. Tensors come in data order.
 * @example const { tensors, metadata } = decodeSafetensors(readFileSync('model.safetensors'));
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): SafetensorsContent {
  const fail = (msg: string): never => {
    throw new FormatError(`${source}: ${msg}`);
  };
  if (bytes.length < 8) fail(`${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength < 2n || headerLength > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLength} is not plausible`);
  const n = Number(headerLength);
  if (8 + n > bytes.length) fail(`truncated: the header says ${n} bytes of JSON but the file has ${bytes.length - 8} after the length`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('the header is not a JSON object');
  const entries = Object.entries(header as Record<string, unknown>);
  let metadata: Record<string, string> = {};
  const specs: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of entries) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
      metadata = value as Record<string, string>;
      continue;
    }
    if (value === null || typeof value !== 'object') fail(`tensor ${name}: entry is not an object`);
    const e = value as Record<string, unknown>;
    const dtype = typeof e.dtype === 'string' ? CODE_DTYPES[e.dtype] : undefined;
    if (!dtype) fail(`tensor ${name}: unsupported dtype ${JSON.stringify(e.dtype)} (gift reads F32 and F64)`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor ${name}: bad shape ${JSON.stringify(e.shape)}`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[1] < off[0]) {
      fail(`tensor ${name}: bad data_offsets ${JSON.stringify(off)}`);
    }
    const shape = e.shape as number[];
    const [begin, end] = off as [number, number];
    const expected = shape.reduce((a, b) => a * b, 1) * BYTES[dtype!];
    if (end - begin !== expected) fail(`tensor ${name}: data_offsets [${begin}, ${end}] span ${end - begin} bytes, shape [${shape.join(', ')}] of ${e.dtype} needs ${expected}`);
    specs.push({ name, dtype: dtype!, shape, begin, end });
  }
  // the data section must be covered exactly: sorted by offset, each tensor starts where the last ended
  specs.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expectedBegin = 0;
  for (const s of specs) {
    if (s.begin !== expectedBegin) fail(`tensor ${s.name}: starts at byte ${s.begin} of the data, expected ${expectedBegin} (tensors overlap or leave a gap)`);
    expectedBegin = s.end;
  }
  const dataLength = bytes.length - 8 - n;
  if (expectedBegin !== dataLength) {
    fail(expectedBegin > dataLength
      ? `truncated: the tensors need ${expectedBegin} bytes of data, the file has ${dataLength}`
      : `${dataLength - expectedBegin} unexpected bytes after the last tensor`);
  }
  const base = 8 + n;
  const tensors = specs.map(({ name, dtype, shape, begin }) => {
    const count = shape.reduce((a, b) => a * b, 1);
    const values = allocate(dtype, count);
    const step = BYTES[dtype];
    for (let i = 0, at = base + begin; i < count; i++, at += step) values[i] = dtype === 'float32' ? view.getFloat32(at, true) : view.getFloat64(at, true);
    return { name, tensor: tensor(values, shape, dtype) };
  });
  return { tensors, metadata };
}

/**
 * Saves a network's parameters and architecture as a safetensors file PyTorch can load
 * (names `0.weight`, `0.bias`, ... with PyTorch layouts; `__metadata__` holds `format: pt` and
 * the gift architecture). Written atomically. Extra string metadata may be added.
 * @example saveModel('mnist-mlp.safetensors', net, params, { 'test.accuracy': '0.95' });
 */
export function saveModel(path: string, net: Sequential, params: Params, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, modelBytes('saveModel', net, params, metadata));
}

/**
 * A network's parameters and architecture as safetensors bytes: what `saveModel` writes. Runs in
 * a browser too (e.g. to offer the bytes for download).
 * @example const bytes = encodeModel(net, params); // new Blob([bytes]) in a browser
 */
export function encodeModel(net: Sequential, params: Params, metadata: Record<string, string> = {}): Uint8Array {
  return modelBytes('encodeModel', net, params, metadata);
}

function modelBytes(op: string, net: Sequential, params: Params, metadata: Record<string, string>): Uint8Array {
  net.checkParams(params);
  const tensors: NamedTensor[] = net.parameterLayout().flatMap((slot) => {
    const p = params[slot.layer] as { weight: Tensor; bias: Tensor };
    return [{ name: slot.weightName, tensor: p.weight }, { name: slot.biasName, tensor: p.bias }];
  });
  const dtypes = new Set(tensors.map((t) => t.tensor.dtype));
  if (dtypes.size > 1) throw new FormatError(`${op}: parameters mix dtypes (${[...dtypes].join(', ')})`);
  for (const { name, tensor: t } of tensors) {
    const v = t.toArray();
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) throw new FormatError(`${op}: parameter ${name} has a non-finite value (${v[i]}) at index ${i}; refusing to save it`);
  }
  return encodeSafetensors(tensors, { ...metadata, format: 'pt', [ARCHITECTURE_KEY]: JSON.stringify(net.toSpec()) });
}

/** A loaded model. */
export interface LoadedModel {
  readonly net: Sequential;
  readonly params: Params;
  readonly dtype: DType;
  /** The file's metadata (architecture included). */
  readonly metadata: Record<string, string>;
}

/**
 * Loads a model saved by `saveModel` (or by PyTorch's `save_file(model.state_dict())` when `net`
 * gives the architecture). Everything is checked first — file structure, the architecture, that
 * the tensor names are exactly the architecture's, each shape, one dtype, finite values — and any
 * mismatch is a FormatError: nothing is returned half-loaded.
 * @example const { net, params } = loadModel('mnist-mlp.safetensors');
 */
export function loadModel(path: string, options: { net?: Sequential } = {}): LoadedModel {
  return decodeModel(readFileBytes(path, 'loadModel'), { ...options, source: path });
}

/**
 * A model from safetensors bytes (what `loadModel` reads from a file), checked the same way; any
 * mismatch is a FormatError naming `options.source`. Runs in a browser too.
 * @example const { net, params } = decodeModel(new Uint8Array(await (await fetch('mlp.safetensors')).arrayBuffer()));
 */
export function decodeModel(bytes: Uint8Array, options: { net?: Sequential; source?: string } = {}): LoadedModel {
  const path = options.source ?? 'model bytes';
  const { tensors, metadata } = decodeSafetensors(bytes, path);
  let net = options.net;
  if (!net) {
    const spec = metadata[ARCHITECTURE_KEY];
    if (spec === undefined) throw new FormatError(`${path}: no '${ARCHITECTURE_KEY}' in the metadata; pass the architecture as options.net`);
    try {
      net = Sequential.fromSpec(JSON.parse(spec));
    } catch (e) {
      throw new FormatError(`${path}: bad architecture in the metadata (${(e as Error).message})`);
    }
  }
  const byName = new Map(tensors.map((t) => [t.name, t.tensor]));
  const slots = net.parameterLayout();
  const expected = new Set(slots.flatMap((s) => [s.weightName, s.biasName]));
  for (const name of byName.keys()) if (!expected.has(name)) throw new FormatError(`${path}: tensor ${name} is not a parameter of the architecture (expected ${[...expected].join(', ')})`);
  const dtypes = new Set(tensors.map((t) => t.tensor.dtype));
  if (dtypes.size > 1) throw new FormatError(`${path}: tensors mix dtypes (${[...dtypes].join(', ')})`);
  const params: Params = net.layers.map(() => ({}));
  for (const slot of slots) {
    const pick = (name: string, shape: readonly number[]): Tensor => {
      const t = byName.get(name);
      if (!t) throw new FormatError(`${path}: tensor ${name} is missing`);
      if (t.rank !== shape.length || !t.shape.every((d, i) => d === shape[i])) {
        throw new FormatError(`${path}: tensor ${name} has shape [${t.shape.join(', ')}], the architecture needs [${shape.join(', ')}]`);
      }
      const v = t.toArray();
      for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) throw new FormatError(`${path}: tensor ${name} has a non-finite value (${v[i]}) at index ${i}`);
      return t;
    };
    params[slot.layer] = { weight: pick(slot.weightName, slot.weightShape), bias: pick(slot.biasName, slot.biasShape) };
  }
  const dtype: DType = tensors[0]?.tensor.dtype ?? 'float64';
  return { net, params, dtype, metadata };
}
