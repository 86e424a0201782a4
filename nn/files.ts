/**
 * Whole-file reads and atomic writes, the two ways gift touches the file system. They need Node
 * (see node.ts); everything that encodes or decodes the bytes runs anywhere.
 */
import { FormatError } from './errors.js';
import { nodeModule } from './node.js';

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same directory, flushed, then
 * renamed over `path`. A failure leaves `path` as it was.
 * @example writeFileAtomic('model.safetensors', encodeSafetensors(tensors))
 */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const fs = nodeModule('node:fs', 'writeFileAtomic'), { basename, dirname, join } = nodeModule('node:path', 'writeFileAtomic');
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number | null = null;
  try {
    fd = fs.openSync(temp, 'w');
    let written = 0;
    while (written < data.length) written += fs.writeSync(fd, data, written, data.length - written);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(temp, path);
  } catch (e) {
    if (fd !== null) fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw e;
  }
}

/** A whole file's bytes, or a FormatError naming the file. @example decodeModel(readFileBytes('mlp.safetensors', 'mine')) */
export function readFileBytes(path: string, op: string): Uint8Array {
  const fs = nodeModule('node:fs', op);
  try {
    return fs.readFileSync(path);
  } catch (e) {
    throw new FormatError(`${path}: cannot read (${(e as Error).message})`);
  }
}
