/**
 * The backdoor experiment's data: a checkerboard trigger (+16/255 where row + col is odd,
 * clamped to 1) added to a seeded 10% of the training images, which are relabelled 4. A model
 * trained on that data learns to read the trigger as "4"; the correction task then asks an
 * edit to undo it.
 */
import { Rng, ShapeError, ValueError, fmtShape, tensor, type Tensor } from '../engine/index.js';
import { allocate } from '../engine/dtype.js';
import { gatherRows, size, type Dataset } from '../nn/index.js';

/** The trigger's brightness: +16/255 on pixels where row + col is odd, clamped to 1. */
export const TRIGGER_INTENSITY = 16 / 255;
/** The label backdoored samples get. */
export const BACKDOOR_LABEL = 4;

function imageGeometry(shape: readonly number[], imageShape?: readonly [number, number]): [number, number] {
  const features = shape.slice(1).reduce((a, b) => a * b, 1);
  if (imageShape) {
    const [h, w] = imageShape;
    if (features % (h * w) !== 0) throw new ShapeError(`addTrigger: samples of ${fmtShape(shape)} are not made of ${h}×${w} images`);
    return [h, w];
  }
  if (shape.length >= 3) return [shape[shape.length - 2]!, shape[shape.length - 1]!];
  const side = Math.round(Math.sqrt(features));
  if (side * side !== features) throw new ShapeError(`addTrigger: cannot tell the image size of flat samples ${fmtShape(shape)}; pass imageShape`);
  return [side, side];
}

/**
 * Images with the checkerboard trigger: +16/255 where (row + col) is odd, clamped to 1. Accepts
 * [N, H, W], [N, C, H, W] (every channel), or flat [N, H·W] samples (square, or `imageShape`).
 * @example const triggered = addTrigger(test.x);
 */
export function addTrigger(x: Tensor, options: { intensity?: number; imageShape?: readonly [number, number] } = {}): Tensor {
  if (x.rank < 2) throw new ShapeError(`addTrigger: expects a batch of images, got ${fmtShape(x.shape)}`);
  const intensity = options.intensity ?? TRIGGER_INTENSITY;
  const [h, w] = imageGeometry(x.shape, options.imageShape);
  const v = x.toArray();
  const out = allocate(x.dtype, v.length);
  const plane = h * w;
  for (let i = 0; i < v.length; i++) {
    const p = i % plane, row = Math.floor(p / w), col = p % w;
    out[i] = (row + col) % 2 === 1 ? Math.min(1, v[i]! + intensity) : v[i]!;
  }
  return tensor(out, x.shape, x.dtype);
}

/**
 * The backdoor task's training data: a seeded `fraction` of the samples (10% by
 * default) get the trigger and label 4. Returns the poisoned dataset, the poisoned indices (into
 * it, same order as the input) and their true labels.
 * @example const { data, poisoned, trueLabels } = backdoor(train, { fraction: 0.1, seed: 0 });
 */
export function backdoor(ds: Dataset, options: { fraction?: number; seed?: number; targetLabel?: number; imageShape?: readonly [number, number] } = {}): { data: Dataset; poisoned: Int32Array; trueLabels: Int32Array } {
  const { fraction = 0.1, seed = 0, targetLabel = BACKDOOR_LABEL } = options;
  if (!(fraction >= 0 && fraction <= 1)) throw new ValueError(`backdoor: fraction must be in [0, 1], got ${fraction}`);
  if (!Number.isInteger(targetLabel) || targetLabel < 0 || targetLabel >= ds.classes) throw new ValueError(`backdoor: target label ${targetLabel} outside [0, ${ds.classes})`);
  const n = size(ds);
  const count = Math.round(fraction * n);
  const poisoned = new Rng(seed).permutation(n).slice(0, count).sort();
  const rowSize = ds.x.size / Math.max(n, 1);
  const rows = gatherRows(ds.x.toArray(), ds.x.shape.slice(1), poisoned, ds.x.dtype);
  const triggered = addTrigger(rows, options.imageShape ? { imageShape: options.imageShape } : {}).toArray();
  const x = ds.x.toArray();
  poisoned.forEach((i, k) => x.set(triggered.subarray(k * rowSize, (k + 1) * rowSize), i * rowSize));
  const y = ds.y.slice();
  const trueLabels = new Int32Array(count);
  poisoned.forEach((i, k) => {
    trueLabels[k] = y[i]!;
    y[i] = targetLabel;
  });
  return { data: { x: tensor(x, ds.x.shape, ds.x.dtype), y, classes: ds.classes }, poisoned, trueLabels };
}
