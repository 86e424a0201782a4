import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng, tensor, toVector } from '../../engine/index.js';
import {
  ARCHITECTURE_KEY, FormatError, Linear, Sequential, decodeModel, decodeSafetensors, encodeModel, encodeSafetensors, loadModel, mlp, saveModel,
  smallCnn, type Params,
} from '../../nn/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gift-nn-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Splits a safetensors file into its JSON header and data section. */
function split(bytes: Uint8Array): { header: Record<string, any>; data: Uint8Array } {
  const n = Number(Buffer.from(bytes).readBigUInt64LE(0));
  return { header: JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8')), data: bytes.subarray(8 + n) };
}

/** Reassembles a file from a (possibly edited) header and data section. */
function join8(header: unknown, data: Uint8Array): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

describe('safetensors encoding', () => {
  it('decodes a file written by hand the way the reference implementation lays it out', () => {
    const header = '{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[1,1],"data_offsets":[16,20]},"__metadata__":{"k":"v"}}';
    const data = Buffer.alloc(20);
    data.writeDoubleLE(1.5, 0);
    data.writeDoubleLE(-2, 8);
    data.writeFloatLE(0.25, 16);
    const { tensors, metadata } = decodeSafetensors(join8(JSON.parse(header), data));
    expect(tensors.map((t) => [t.name, t.tensor.dtype, t.tensor.shape, Array.from(t.tensor.toArray())])).toEqual([
      ['a', 'float64', [2], [1.5, -2]], ['b', 'float32', [1, 1], [0.25]],
    ]);
    expect(metadata).toEqual({ k: 'v' });
  });

  it('writes the 8-byte little-endian length, an 8-aligned JSON header and little-endian data', () => {
    const bytes = encodeSafetensors([{ name: 'w', tensor: tensor([1, -0.5, 3], [3], 'float32') }, { name: 'b', tensor: tensor([2], [1], 'float64') }], { m: 'x' });
    const n = Number(Buffer.from(bytes).readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const { header, data } = split(bytes);
    expect(header).toEqual({
      __metadata__: { m: 'x' },
      w: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
      b: { dtype: 'F64', shape: [1], data_offsets: [12, 20] },
    });
    const d = Buffer.from(data);
    expect([d.readFloatLE(0), d.readFloatLE(4), d.readFloatLE(8), d.readDoubleLE(12)]).toEqual([1, -0.5, 3, 2]);
  });
});

describe('saveModel / loadModel', () => {
  it('round-trips an MLP (float32) and the small CNN (float64) exactly, with PyTorch names and layouts', () => {
    for (const [net, dtype] of [[mlp(), 'float32'], [smallCnn(), 'float64']] as const) {
      const params = net.init(new Rng(4), dtype);
      const path = join(dir, `model-${dtype}.safetensors`);
      saveModel(path, net, params, { note: 'round trip' });
      const loaded = loadModel(path);
      expect(loaded.dtype).toBe(dtype);
      expect(loaded.net.toSpec()).toEqual(net.toSpec());
      expect(toVector(loaded.params)).toEqual(toVector(params));
      expect(loaded.params.map((p) => Object.keys(p))).toEqual(params.map((p) => Object.keys(p)));
      expect(loaded.metadata.note).toBe('round trip');
      expect(loaded.metadata.format).toBe('pt');
      const { header } = split(readFileSync(path));
      const names = Object.keys(header).filter((k) => k !== '__metadata__');
      expect(names).toEqual(net.parameterNames());
      for (const s of net.parameterLayout()) {
        expect(header[s.weightName].shape).toEqual(s.weightShape);
        expect(header[s.biasName].shape).toEqual(s.biasShape);
      }
    }
  });

  it('encodeModel/decodeModel are the same bytes without the file (what a browser uses), checked the same way', () => {
    const net = smallCnn(), params = net.init(new Rng(5), 'float64');
    const path = join(dir, 'bytes.safetensors');
    saveModel(path, net, params, { note: 'n' });
    const bytes = encodeModel(net, params, { note: 'n' });
    expect(Buffer.from(bytes).equals(readFileSync(path))).toBe(true);
    const decoded = decodeModel(bytes);
    expect(decoded.net.toSpec()).toEqual(net.toSpec());
    expect(toVector(decoded.params)).toEqual(toVector(params));
    expect(() => decodeModel(bytes.subarray(0, bytes.length - 3))).toThrow(/^model bytes: truncated/);
    expect(() => decodeModel(bytes.subarray(0, bytes.length - 3), { source: 'upload.safetensors' })).toThrow(/^upload\.safetensors: truncated/);
    expect(() => decodeModel(bytes, { net: mlp() })).toThrow(FormatError);
  });

  it('loads a state_dict without gift metadata when the architecture is given', () => {
    const net = mlp([3, 2, 2]);
    const params = net.init(new Rng(0), 'float32');
    const bytes = encodeSafetensors(net.parameterLayout().flatMap((s) => {
      const p = params[s.layer] as { weight: any; bias: any };
      return [{ name: s.weightName, tensor: p.weight }, { name: s.biasName, tensor: p.bias }];
    }));
    const path = join(dir, 'plain.safetensors');
    writeFileSync(path, bytes);
    expect(() => loadModel(path)).toThrow(/pass the architecture/);
    expect(toVector(loadModel(path, { net }).params)).toEqual(toVector(params));
  });

  describe('rejects bad files with a FormatError and never half-loads', () => {
    const net = mlp([4, 3, 2]);
    const params = net.init(new Rng(1), 'float32');
    const goodPath = join(dir, 'good.safetensors');
    saveModel(goodPath, net, params);
    const good = new Uint8Array(readFileSync(goodPath));
    const { header, data } = split(good);
    const edit = (f: (h: Record<string, any>) => void): Uint8Array => {
      const h = JSON.parse(JSON.stringify(header));
      f(h);
      return join8(h, data);
    };
    const cases: [string, Uint8Array, RegExp][] = [
      ['too short', good.subarray(0, 5), /too short/],
      ['truncated data', good.subarray(0, good.length - 1), /truncated: the tensors need/],
      ['trailing bytes', Buffer.concat([good, Buffer.from([0, 0, 0, 0])]), /4 unexpected bytes/],
      ['header longer than the file', (() => { const b = Buffer.from(good); b.writeBigUInt64LE(BigInt(good.length)); return b; })(), /truncated: the header says/],
      ['absurd header length', (() => { const b = Buffer.from(good); b.writeBigUInt64LE(1n << 60n); return b; })(), /not plausible/],
      ['invalid JSON', (() => { const b = Buffer.from(good); b[9] = 0x7b; b[10] = 0x7b; return b; })(), /not valid JSON/],
      ['a JSON array header', join8([1, 2], data), /not a JSON object/],
      ['unsupported dtype', edit((h) => (h['0.bias'].dtype = 'I64')), /unsupported dtype "I64"/],
      ['offsets that disagree with the shape', edit((h) => (h['0.bias'].shape = [4])), /0\.bias: data_offsets .* need/],
      ['overlapping tensors', edit((h) => { h['0.bias'].data_offsets = [0, 12]; }), /overlap or leave a gap/],
      ['negative offsets', edit((h) => (h['0.bias'].data_offsets = [-4, 8])), /bad data_offsets/],
      ['non-string metadata', edit((h) => (h.__metadata__.x = 3)), /__metadata__\.x is not a string/],
      ['a shape that does not fit the architecture', edit((h) => (h['0.weight'].shape = [4, 3])), /0\.weight has shape \[4, 3\], the architecture needs \[3, 4\]/],
      ['a missing tensor', (() => { const h = JSON.parse(JSON.stringify(header)); const end = h['2.bias'].data_offsets[0]; delete h['2.bias']; return join8(h, data.subarray(0, end)); })(), /tensor 2\.bias is missing/],
      ['an unknown tensor', edit((h) => { h['9.weight'] = h['2.bias']; delete h['2.bias']; }), /9\.weight is not a parameter/],
      ['a broken architecture', edit((h) => (h.__metadata__[ARCHITECTURE_KEY] = '{"format":"gift.sequential","version":1,"layers":[{"type":"lstm"}]}')), /bad architecture.*lstm/],
      ['mixed dtypes', (() => {
        const h = JSON.parse(JSON.stringify(header));
        // rewrite 2.bias (last, 2 floats) as F64: 16 bytes instead of 8
        const [b0] = h['2.bias'].data_offsets;
        h['2.bias'] = { dtype: 'F64', shape: [2], data_offsets: [b0, b0 + 16] };
        return join8(h, Buffer.concat([data.subarray(0, b0), Buffer.alloc(16)]));
      })(), /mix dtypes/],
      ['a NaN weight', (() => { const d = Buffer.from(data); d.writeFloatLE(NaN, 0); return join8(header, d); })(), /non-finite value \(NaN\)/],
    ];
    it.each(cases)('%s', (_name, bytes, message) => {
      const path = join(dir, 'bad.safetensors');
      writeFileSync(path, bytes);
      expect(() => loadModel(path)).toThrow(FormatError);
      expect(() => loadModel(path)).toThrow(message);
    });

    it('the untouched file still loads (the cases above are its only defects)', () => {
      expect(toVector(loadModel(goodPath).params)).toEqual(toVector(params));
    });
  });

  it('writes atomically: a failed save leaves the old file and no temporary behind', () => {
    const net = mlp([2, 2]);
    const path = join(dir, 'atomic.safetensors');
    const params = net.init(new Rng(0), 'float64');
    saveModel(path, net, params);
    const before = readFileSync(path);
    const bad: Params = [{ weight: tensor([[NaN, 0], [0, 0]]), bias: tensor([0, 0]) }];
    expect(() => saveModel(path, net, bad)).toThrow(/non-finite/);
    expect(() => saveModel(path, new Sequential([new Linear(2, 3)]), params)).toThrow(/shape/);
    expect(readFileSync(path)).toEqual(before);
    expect(() => saveModel(join(dir, 'no-such-dir', 'm.safetensors'), net, params)).toThrow();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
  });
});
