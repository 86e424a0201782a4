/**
 * Unit scores for parameter selection (SPEC §4), both from exactly one forward and one backward
 * pass over the target samples (taken in chunks, so memory stays bounded):
 *
 * - output score of unit u: |mean over samples (and spatial positions) of the layer's
 *   pre-activation output at u|, read during the forward pass;
 * - gradient score of unit u: |mean over samples and positions of ∂L_target/∂out[·, u, ·]|.
 *   The bias b_u is added at every position, so `∂L/∂b_u = Σ_{i,p} ∂L/∂out[i,u,p]` and the mean
 *   is `∂L_target/∂b_u / (N·positions)`: it comes out of the parameter gradient for free.
 */
import { NonFiniteError, ShapeError, grad, mul, toVector, type Tensor } from '../../engine/index.js';
import { sampleChunks, type Params, type Sequential } from '../../nn/index.js';
import { axpy } from '../linalg.js';

/** Per-layer unit scores, one Float64Array per Linear/Conv2d layer in `parameterLayout()` order. */
export interface UnitScores {
  readonly output: Float64Array[];
  readonly gradient: Float64Array[];
  /** ∇θ of the target loss, flat: the same backward pass gives the edits' target gradient. */
  readonly targetGradient: Float64Array;
}

/** Adds the sum over every axis but axis 1 of a row-major [N, U, ...] array, per unit (signed), to `out`. */
function sumPerUnit(values: ArrayLike<number>, shape: readonly number[], out: Float64Array): void {
  if (shape.length < 2) throw new ShapeError(`unitScores: a layer output must be [N, units, ...], got [${shape.join(', ')}]`);
  const [n, units] = shape as [number, number];
  const positions = shape.slice(2).reduce((a, b) => a * b, 1);
  for (let i = 0; i < n; i++) {
    for (let u = 0; u < units; u++) {
      const base = (i * units + u) * positions;
      let s = 0;
      for (let p = 0; p < positions; p++) s += values[base + p]!;
      out[u]! += s;
    }
  }
}

/** Samples `[start, end)` of the target set: the rows a chunk of the scoring pass holds. */
export interface Rows {
  readonly start: number;
  readonly end: number;
}

/** Options of {@link unitScores}. */
export interface UnitScoreOptions {
  /**
   * Samples per forward and backward chunk (default {@link SCORING_BATCH} = 128). The pass is still one pass over the
   * target samples, taken in pieces: memory stays bounded by the chunk (a CNN's im2col buffers
   * grow with the batch), and chunks that fit in cache run faster per sample. Scores and
   * gradient are exact sums over the chunks.
   */
  readonly batchSize?: number;
}

/**
 * The default chunk of the scoring pass. Measured on the training digits of each class (about
 * 740): the small CNN took 0.64–0.76 s for class 3 in one piece, 0.51 s in chunks of 256 and
 * 0.49 s in chunks of 128; the MLP 24.7 ms in one piece, 26.6 ms in 256s and 28.5 ms in 128s
 * (median over classes). The bench numbers in docs/gif.md were taken with 128.
 */
export const SCORING_BATCH = 128;

/**
 * Output- and gradient-based unit scores of every Linear/Conv2d layer for target samples `x`.
 * `targetLoss(outputs, rows)` is the target loss of the network outputs for samples
 * `rows.start … rows.end − 1`: the **mean** over those samples of a per-sample loss, e.g.
 * cross-entropy against their labels (`labels.subarray(rows.start, rows.end)`). The pass runs in
 * chunks of `options.batchSize` samples, and the chunks' means are combined by their sizes.
 * @example
 * const scores = unitScores(net, params, target.x, (logits, r) => crossEntropy(logits, target.y.subarray(r.start, r.end)));
 * selectParameters(net.parameterLayout(), scores.gradient, 0.05);
 */
export function unitScores(net: Sequential, params: Params, x: Tensor, targetLoss: (outputs: Tensor, rows: Rows) => Tensor, options: UnitScoreOptions = {}): UnitScores {
  const n = x.shape[0]!;
  const chunks = sampleChunks(x, options.batchSize ?? SCORING_BATCH, 'unitScores');
  if (n === 0) throw new ShapeError('unitScores: there are no target samples');
  const layout = net.parameterLayout();
  // signed sums over samples and positions of each layer's outputs, and the gradient of the mean loss
  const outputSums = layout.map((slot) => new Float64Array(slot.units));
  let positions: number[] = [];
  let targetGradient: Float64Array | null = null;
  for (const { start, end, x: chunk } of chunks) {
    const g = grad((p: Params) => {
      const { output: out, layerOutputs } = net.applyWithOutputs(p, chunk);
      // toArray inside the transform reads the primal values: the forward pass doubles as the scoring pass
      layout.forEach((slot, i) => {
        const o = layerOutputs[slot.layer]!;
        sumPerUnit(o.toArray(), o.shape, outputSums[i]!);
      });
      positions = layout.map((slot) => layerOutputs[slot.layer]!.shape.slice(2).reduce((a, b) => a * b, 1));
      // the chunk's mean, weighted by its share of the samples: the chunks add up to the mean over all
      return mul(targetLoss(out, { start, end }), (end - start) / n);
    })(params);
    const flat = toVector(g);
    targetGradient = targetGradient === null ? flat : axpy(1, flat, targetGradient);
  }
  const gradient = targetGradient!;
  gradient.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new NonFiniteError(`unitScores: the target loss gradient is ${v} at parameter ${i}`);
  });
  const output = outputSums.map((sums, i) => sums.map((v) => Math.abs(v) / (n * positions[i]!)));
  // mean of ∂L/∂out[·, u, ·] = ∂L/∂b_u / (N·positions): the bias block of the gradient
  const unitGradient = layout.map((slot, i) => Float64Array.from(gradient.subarray(slot.biasOffset, slot.biasOffset + slot.units), (v) => Math.abs(v) / (n * positions[i]!)));
  return { output, gradient: unitGradient, targetGradient: gradient };
}
