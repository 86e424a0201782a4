import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, inflateSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../cli/command.js';
import { influenceCommand } from '../../cli/commands/influence.js';
import { grayscalePng, pngDataUri } from '../../experiments/index.js';
import { loadResults } from '../../experiments/index.js';
import { Rng } from '../../engine/index.js';
import { logisticRegression, saveModel } from '../../nn/index.js';

describe('grayscalePng', () => {
  it('encodes pixels that decode back (signature, IHDR, inflated rows)', () => {
    const pixels = Float64Array.from({ length: 12 }, (_, i) => i / 11);
    const png = Buffer.from(grayscalePng(pixels, 4, 3, false));
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // every chunk's CRC, checked with Node's zlib
    for (let at = 8; at < png.length;) {
      const length = png.readUInt32BE(at);
      expect(png.readUInt32BE(at + 8 + length), `CRC of ${png.subarray(at + 4, at + 8).toString('latin1')}`).toBe(crc32(png.subarray(at + 4, at + 8 + length)));
      at += 12 + length;
    }
    expect(png.readUInt32BE(16)).toBe(4);
    expect(png.readUInt32BE(20)).toBe(3);
    const idatLength = png.readUInt32BE(33);
    expect(png.subarray(37, 41).toString('latin1')).toBe('IDAT');
    const raw = inflateSync(png.subarray(41, 41 + idatLength));
    expect(raw.length).toBe(3 * 5);
    expect(raw[0]).toBe(0);
    expect(Array.from(raw.subarray(1, 5))).toEqual([0, 23, 46, 70]);
    expect(() => grayscalePng(pixels, 5, 3)).toThrow(/pixels/);
  });

  it('splits rows of more than 65,535 bytes into several stored blocks, and base64s the same bytes into a data URI', () => {
    const rng = new Rng(3);
    const pixels = Float64Array.from({ length: 300 * 300 }, () => rng.uniform());
    const png = Buffer.from(grayscalePng(pixels, 300, 300));
    const idatLength = png.readUInt32BE(33);
    const raw = inflateSync(png.subarray(41, 41 + idatLength)); // checks the zlib stream's Adler-32 too
    expect(raw.length).toBe(301 * 300);
    expect(raw[301 * 299 + 1 + 7]).toBe(Math.round(255 * (1 - pixels[299 * 300 + 7]!)));
    const uri = pngDataUri(pixels, 300, 300);
    expect(uri.startsWith('data:image/png;base64,')).toBe(true);
    expect(Buffer.from(uri.slice('data:image/png;base64,'.length), 'base64').equals(png)).toBe(true);
  });
});

describe('gift influence', () => {
  it('writes an HTML page of helpful/harmful training images and a JSON results file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gift-cli-influence-'));
    const out = join(dir, 'page.html'), json = join(dir, 'r.json');
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((s: unknown) => { lines.push(String(s)); });
    try {
      const code = await influenceCommand.run(['--test', '3', '--train-size', '80', '--top', '3', '--out', out, '--json', json, '--quiet']);
      expect(code).toBe(0);
    } finally {
      spy.mockRestore();
    }
    const html = readFileSync(out, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect((html.match(/data:image\/png;base64,/g) ?? []).length).toBeGreaterThanOrEqual(5); // the query + helpful + harmful
    expect(html).not.toMatch(/src="http/);
    const r = loadResults<{ test: number; trainSize: number }, { helpful: { index: number; score: number }[]; harmful: { index: number; score: number }[] }>(json, 'influence-top-k');
    expect(r.settings.test).toBe(3);
    expect(r.settings.trainSize).toBe(80);
    expect(r.data.helpful.every((s) => s.score > 0)).toBe(true);
    expect(r.data.harmful.every((s) => s.score < 0)).toBe(true);
    expect(lines.some((l) => l.includes('most helpful'))).toBe(true);
    // printed indices are the saved ones
    expect(lines.some((l) => l.includes(`#${r.data.helpful[0]!.index}`))).toBe(true);
  });

  it('--load starts from a model file (float32 widened to float64); a wrong architecture is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gift-cli-influence-'));
    const net = logisticRegression(784, 10);
    const file = join(dir, 'lr.safetensors');
    saveModel(file, net, net.init(new Rng(5), 'float32'));
    const json = join(dir, 'r.json');
    const spy = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      expect(await influenceCommand.run(['--load', file, '--train-size', '40', '--top', '2', '--out', join(dir, 'p.html'), '--json', json, '--quiet'])).toBe(0);
      await expect(influenceCommand.run(['--load', file, '--model', 'mlp', '--train-size', '40', '--out', join(dir, 'q.html'), '--quiet'])).rejects.toThrow(/values/);
    } finally {
      spy.mockRestore();
    }
    expect(loadResults<{ load: string }, unknown>(json, 'influence-top-k').settings.load).toBe(file);
  });

  it('rejects bad flags with a UsageError', async () => {
    await expect(influenceCommand.run(['--test', '5000'])).rejects.toThrow(UsageError);
    await expect(influenceCommand.run(['--model', 'cnn'])).rejects.toThrow(UsageError);
    await expect(influenceCommand.run(['--solver', 'magic'])).rejects.toThrow(UsageError);
    await expect(influenceCommand.run(['--bogus'])).rejects.toThrow(UsageError);
    await expect(influenceCommand.run(['--damping', '-1'])).rejects.toThrow(UsageError);
  });
});
