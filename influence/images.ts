/**
 * Pictures of training images for influence reports: grayscale PNGs as data URIs (no external
 * assets), and a self-contained HTML page of the most helpful and harmful training images.
 */
import { deflateSync } from 'node:zlib';
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

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * An 8-bit grayscale PNG of `pixels` (row-major, values in [0, 1], clamped; `invert` draws
 * ink dark on white as digits are usually shown).
 * @example grayscalePng(image, 28, 28) // Buffer starting with the PNG signature
 */
export function grayscalePng(pixels: ArrayLike<number>, width: number, height: number, invert = true): Buffer {
  if (pixels.length !== width * height) throw new ShapeError(`grayscalePng: ${pixels.length} pixels for ${width}×${height}`);
  const raw = new Uint8Array((width + 1) * height);
  for (let r = 0; r < height; r++) {
    raw[r * (width + 1)] = 0; // filter: none
    for (let c = 0; c < width; c++) {
      const v = Math.min(1, Math.max(0, Number.isFinite(pixels[r * width + c]!) ? pixels[r * width + c]! : 0));
      raw[r * (width + 1) + 1 + c] = Math.round(255 * (invert ? 1 - v : v));
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; header[9] = 0; header[10] = 0; header[11] = 0; header[12] = 0;
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

/** `data:image/png;base64,…` of {@link grayscalePng}. @example `<img src="${pngDataUri(pixels, 28, 28)}">` */
export function pngDataUri(pixels: ArrayLike<number>, width: number, height: number): string {
  return `data:image/png;base64,${grayscalePng(pixels, width, height).toString('base64')}`;
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
