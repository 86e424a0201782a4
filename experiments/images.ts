/**
 * Pictures of training images for influence reports: grayscale PNGs as data URIs (no external
 * assets), and a self-contained HTML page of the most helpful and harmful training images.
 */
import { ShapeError } from '../engine/index.js';

const crcTable = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * A zlib stream of `data` in stored (uncompressed) deflate blocks. Thumbnails are a few hundred
 * bytes, so compressing them is not worth a dependency on Node's zlib: this runs anywhere.
 */
function zlibStored(data: Uint8Array): Uint8Array {
  const BLOCK = 65535;
  const blocks = Math.max(1, Math.ceil(data.length / BLOCK));
  const out = new Uint8Array(2 + 5 * blocks + data.length + 4);
  out[0] = 0x78; out[1] = 0x01; // deflate, 32 KiB window, no dictionary; (0x78·256 + 1) % 31 = 0
  let at = 2;
  for (let b = 0; b < blocks; b++) {
    const part = data.subarray(b * BLOCK, (b + 1) * BLOCK);
    out[at] = b === blocks - 1 ? 1 : 0; // BFINAL, BTYPE = 00 (stored)
    out[at + 1] = part.length & 0xff; out[at + 2] = part.length >>> 8;
    out[at + 3] = ~part.length & 0xff; out[at + 4] = (~part.length >>> 8) & 0xff;
    out.set(part, at + 5);
    at += 5 + part.length;
  }
  let a = 1, c = 0; // Adler-32, big-endian
  for (const v of data) { a = (a + v) % 65521; c = (c + a) % 65521; }
  new DataView(out.buffer).setUint32(at, ((c << 16) | a) >>> 0);
  return out;
}

/**
 * An 8-bit grayscale PNG of `pixels` (row-major, values in [0, 1], clamped; `invert` draws
 * ink dark on white as digits are usually shown).
 * @example grayscalePng(image, 28, 28) // bytes starting with the PNG signature
 */
export function grayscalePng(pixels: ArrayLike<number>, width: number, height: number, invert = true): Uint8Array {
  if (pixels.length !== width * height) throw new ShapeError(`grayscalePng: ${pixels.length} pixels for ${width}×${height}`);
  const raw = new Uint8Array((width + 1) * height);
  for (let r = 0; r < height; r++) {
    raw[r * (width + 1)] = 0; // filter: none
    for (let c = 0; c < width; c++) {
      const v = Math.min(1, Math.max(0, Number.isFinite(pixels[r * width + c]!) ? pixels[r * width + c]! : 0));
      raw[r * (width + 1) + 1 + c] = Math.round(255 * (invert ? 1 - v : v));
    }
  }
  const header = new Uint8Array(13); // width, height, bit depth 8, grayscale, no interlace
  new DataView(header.buffer).setUint32(0, width);
  new DataView(header.buffer).setUint32(4, height);
  header[8] = 8;
  const parts = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', zlibStored(raw)), chunk('IEND', new Uint8Array(0))];
  const png = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (png.set(p, at), at + p.length), 0);
  return png;
}

/** `data:image/png;base64,…` of {@link grayscalePng}. @example `<img src="${pngDataUri(pixels, 28, 28)}">` */
export function pngDataUri(pixels: ArrayLike<number>, width: number, height: number): string {
  const png = grayscalePng(pixels, width, height);
  let binary = '';
  for (const b of png) binary += String.fromCharCode(b);
  return `data:image/png;base64,${btoa(binary)}`;
}

/** One picture on the page. */
export interface Tile {
  pixels: ArrayLike<number>;
  caption: string;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

/**
 * A self-contained HTML page: a title, a notes list, then titled rows of captioned images.
 * @example influencePage({ title: 'test #7', notes: [], sections: [{ title: 'helpful', tiles }] })
 */
export function influencePage(options: { title: string; notes: readonly string[]; query: Tile; sections: readonly { title: string; tiles: readonly Tile[] }[]; width?: number; height?: number }): string {
  const w = options.width ?? 28, h = options.height ?? 28;
  const img = (t: Tile): string =>
    `<figure><img src="${pngDataUri(t.pixels, w, h)}" width="${w * 4}" height="${h * 4}" alt="${escapeHtml(t.caption)}"><figcaption>${escapeHtml(t.caption)}</figcaption></figure>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(options.title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
section { margin-top: 1.5em; }
.row { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; text-align: center; font-size: 12px; }
img { image-rendering: pixelated; border: 1px solid #ccc; display: block; }
</style></head><body>
<h1>${escapeHtml(options.title)}</h1>
<div class="row">${img(options.query)}</div>
<ul>${options.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>
${options.sections.map((s) => `<section><h2>${escapeHtml(s.title)}</h2><div class="row">${s.tiles.map(img).join('')}</div></section>`).join('\n')}
</body></html>
`;
}
