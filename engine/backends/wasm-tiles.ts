/**
 * The matmul inner kernel in WebAssembly SIMD, assembled at load time from the bytes below.
 *
 * Why: JavaScript numbers are scalar doubles, so the JS kernel in cpu.ts does one multiply and
 * one add per instruction. WebAssembly's 128-bit SIMD does two of each (f64x2), which roughly
 * doubles matmul throughput, and matmuls are most of the time of a gradient or an HVP. It is the
 * same algorithm as the JS `tiles` function in cpu.ts — 4×4 tiles of C from packed panels — so
 * read that one first; this file only spells it in WebAssembly's binary format.
 *
 * `wasmTiles()` returns null where WebAssembly SIMD is unavailable; cpu.ts then keeps the JS
 * kernel.
 */

// ---- a few opcodes (https://webassembly.github.io/spec/core/binary/instructions.html) ----
const I32 = 0x7f, V128 = 0x7b;
const BLOCK = [0x02, 0x40], LOOP = [0x03, 0x40], END = 0x0b, BR = 0x0c, BR_IF = 0x0d;
const GET = 0x20, SET = 0x21;
const I32_CONST = 0x41, I32_GE_S = 0x4e, I32_ADD = 0x6a, I32_SUB = 0x6b, I32_MUL = 0x6c;
const F64_LOAD = 0x2b;
const V128_LOAD = [0xfd, 0x00], V128_STORE = [0xfd, 0x0b], V128_CONST = [0xfd, 0x0c];
const F64X2_SPLAT = [0xfd, 0x14], F64X2_ADD = [0xfd, 0xf0, 0x01], F64X2_MUL = [0xfd, 0xf2, 0x01];

/** Unsigned LEB128, the variable-length integers of the binary format. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}
/** A memory access immediate: alignment exponent, then byte offset. */
const memarg = (offset: number, align = 3) => [align, ...uleb(offset)];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

// parameters: byte offsets of packed A, packed B and the C buffer; kc; panel counts
const pa = 0, pb = 1, pc = 2, kc = 3, mPanels = 4, nPanels = 5;
// locals
const q = 6, p = 7, k = 8, a = 9, b = 10, c = 11, ldcBytes = 12;
const acc = [13, 14, 15, 16, 17, 18, 19, 20]; // rows 0..3 of the tile, two f64x2 halves each
const b01 = 21, b23 = 22, av = 23;

/**
 * tiles(pa, pb, pc, kc, mPanels, nPanels): for every panel pair, C[4p.., 4q..] += A-panel ×
 * B-panel, where C is row-major with 4·nPanels columns. Same loop nest as the JS kernel.
 */
function tilesBody(): number[] {
  const code: number[] = [];
  const emit = (...xs: (number | number[])[]) => { for (const x of xs) typeof x === 'number' ? code.push(x) : code.push(...x); };
  const zero = [...V128_CONST, ...new Array<number>(16).fill(0)];
  // ldcBytes = nPanels · 4 · 8
  emit(GET, nPanels, I32_CONST, 32, I32_MUL, SET, ldcBytes);
  emit(I32_CONST, 0, SET, q);
  emit(BLOCK, LOOP); // over panels q of B
  emit(GET, q, GET, nPanels, I32_GE_S, BR_IF, 1);
  emit(I32_CONST, 0, SET, p);
  emit(BLOCK, LOOP); // over panels p of A
  emit(GET, p, GET, mPanels, I32_GE_S, BR_IF, 1);
  // a = pa + p·kc·32, b = pb + q·kc·32
  emit(GET, pa, GET, p, GET, kc, I32_MUL, I32_CONST, 32, I32_MUL, I32_ADD, SET, a);
  emit(GET, pb, GET, q, GET, kc, I32_MUL, I32_CONST, 32, I32_MUL, I32_ADD, SET, b);
  for (const r of acc) emit(zero, SET, r);
  emit(GET, kc, SET, k);
  emit(LOOP); // over k: two B halves, then each of the four A values broadcast against them
  emit(GET, b, V128_LOAD, memarg(0), SET, b01);
  emit(GET, b, V128_LOAD, memarg(16), SET, b23);
  for (let r = 0; r < 4; r++) {
    emit(GET, a, F64_LOAD, memarg(8 * r), F64X2_SPLAT, SET, av);
    emit(GET, acc[2 * r]!, GET, av, GET, b01, F64X2_MUL, F64X2_ADD, SET, acc[2 * r]!);
    emit(GET, acc[2 * r + 1]!, GET, av, GET, b23, F64X2_MUL, F64X2_ADD, SET, acc[2 * r + 1]!);
  }
  emit(GET, a, I32_CONST, 32, I32_ADD, SET, a);
  emit(GET, b, I32_CONST, 32, I32_ADD, SET, b);
  emit(GET, k, I32_CONST, 1, I32_SUB, SET, k);
  emit(GET, k, BR_IF, 0, END);
  // c = pc + p·4·ldcBytes + q·32; add the tile into C row by row
  emit(GET, pc, GET, p, I32_CONST, 4, I32_MUL, GET, ldcBytes, I32_MUL, I32_ADD, GET, q, I32_CONST, 32, I32_MUL, I32_ADD, SET, c);
  for (let r = 0; r < 4; r++) {
    for (const half of [0, 1]) {
      emit(GET, c, GET, c, V128_LOAD, memarg(16 * half), GET, acc[2 * r + half]!, F64X2_ADD, V128_STORE, memarg(16 * half));
    }
    emit(GET, c, GET, ldcBytes, I32_ADD, SET, c);
  }
  emit(GET, p, I32_CONST, 1, I32_ADD, SET, p, BR, 0, END, END); // next p
  emit(GET, q, I32_CONST, 1, I32_ADD, SET, q, BR, 0, END, END); // next q
  emit(END);
  return code;
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const body = [...vec([[7, I32], [11, V128]]), ...tilesBody()];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, vec([[0x60, ...vec(new Array(6).fill([I32])), 0x00]])), // type: (i32 ×6) → ()
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x01]])), // import memory, min 1 page
    ...section(3, vec([[0x00]])), // one function of type 0
    ...section(7, vec([[...name('tiles'), 0x00, 0x00]])), // export it as "tiles"
    ...section(10, vec([[...uleb(body.length), ...body]])), // its code
  ]);
}

export interface WasmTiles {
  /**
   * A float64 view of the module's memory holding at least `doubles` numbers (re-made after
   * growth), or null if that is more than WebAssembly memory can hold (the caller then uses JS).
   */
  view(doubles: number): Float64Array | null;
  /** tiles(pa, pb, pc, …) with offsets counted in doubles. */
  run(pa: number, pb: number, pc: number, kc: number, mPanels: number, nPanels: number): void;
}

let cached: WasmTiles | null | undefined;

/** The WebAssembly kernel, or null where WebAssembly SIMD is not available. */
export function wasmTiles(): WasmTiles | null {
  if (cached !== undefined) return cached;
  try {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()), { env: { memory } });
    const tiles = instance.exports.tiles as (...args: number[]) => void;
    let f64 = new Float64Array(memory.buffer);
    cached = {
      view(doubles) {
        const bytes = doubles * 8;
        if (bytes > 2 ** 31 - 65536) return null;
        if (memory.buffer.byteLength < bytes) {
          try {
            memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / 65536));
          } catch {
            return null; // the engine cannot get that much memory: fall back to the JS kernel
          }
        }
        if (f64.buffer !== memory.buffer || f64.length * 8 !== memory.buffer.byteLength) f64 = new Float64Array(memory.buffer);
        return f64;
      },
      run(a, b, c, k, m, n) { tiles(a * 8, b * 8, c * 8, k, m, n); },
    };
  } catch {
    cached = null;
  }
  return cached;
}
