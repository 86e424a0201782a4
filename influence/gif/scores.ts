/**
 * Unit scores for parameter selection (SPEC §4), both from exactly one forward and one backward
 * pass over the target samples:
 *
 * - output score of unit u: |mean over samples (and spatial positions) of the layer's
 *   pre-activation output at u|, read during the forward pass;
 * - gradient score of unit u: |mean over samples and positions of ∂L_target/∂out[·, u, ·]|.
 *   The bias b_u is added at every position, so `∂L/∂b_u = Σ_{i,p} ∂L/∂out[i,u,p]` and the mean
 *   is `∂L_target/∂b_u / (N·positions)`: it comes out of the parameter gradient for free.
 */
import { NonFiniteError, ShapeError, grad, toVector, type Tensor } from '../../engine/index.js';
import type { Params, Sequential, WeightBias } from '../../nn/index.js';

/** Per-layer unit scores, one Float64Array per Linear/Conv2d layer in `parameterLayout()` order. */
export interface UnitScores {
  readonly output: Float64Array[];
  readonly gradient: Float64Array[];
  /** ∇θ of the target loss, flat: the same backward pass gives the edits' target gradient. */
  readonly targetGradient: Float64Array;
}

/** Mean over every axis but axis 1 of a row-major [N, U, ...] array, per unit (signed). */
function meanPerUnit(values: ArrayLike<number>, shape: readonly number[]): Float64Array {
  if (shape.length < 2) throw new ShapeError(`unitScores: a layer output must be [N, units, ...], got [${shape.join(', ')}]`);
  const [n, units] = shape as [number, number];
  const positions = shape.slice(2).reduce((a, b) => a * b, 1);
  const out = new Float64Array(units);
  for (let i = 0; i < n; i++) {
    for (let u = 0; u < units; u++) {
      const base = (i * units + u) * positions;
      let s = 0;
      for (let p = 0; p < positions; p++) s += values[base + p]!;
      out[u]! += s;
    }
  }
  for (let u = 0; u < units; u++) out[u] = out[u]! / (n * positions);
  return out;
}

/**
 * Output- and gradient-based unit scores of every Linear/Conv2d layer for target samples `x`,
 * with `targetLoss(outputs)` the target loss of the network outputs (a mean over the samples,
 * e.g. cross-entropy against the labels being removed).
 * @example
 * const scores = unitScores(net, params, target.x, (logits) => crossEntropy(logits, target.y));
 * selectParameters(net.parameterLayout(), scores.gradient, 0.05);
 */
export function unitScores(net: Sequential, params: Params, x: Tensor, targetLoss: (outputs: Tensor) => Tensor): UnitScores {
  const layout = net.parameterLayout();
  let output: Float64Array[] = [];
  let positions: number[] = [];
  const g = grad((p: Params) => {
    const { output: out, layerOutputs } = net.applyWithOutputs(p, x);
    // toArray inside the transform reads the primal values: the forward pass doubles as the scoring pass
    output = layout.map((slot) => {
      const o = layerOutputs[slot.layer]!;
      return meanPerUnit(o.toArray(), o.shape).map(Math.abs);
    });
    positions = layout.map((slot) => layerOutputs[slot.layer]!.shape.slice(2).reduce((a, b) => a * b, 1));
    return targetLoss(out);
  })(params);
  const n = x.shape[0]!;
  const gradient = layout.map((slot, i) => {
    const b = (g[slot.layer] as WeightBias).bias.toArray();
    return Float64Array.from(b, (v) => Math.abs(v) / (n * positions[i]!));
  });
  const targetGradient = toVector(g);
  targetGradient.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new NonFiniteError(`unitScores: the target loss gradient is ${v} at parameter ${i}`);
  });
  return { output, gradient, targetGradient };
}
