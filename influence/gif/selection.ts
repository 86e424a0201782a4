/**
 * Which parameters GIF updates (SPEC §4, "Parameter selection").
 *
 * Only Linear and Conv2d layers take part. Each has `n_l = units·(fanIn + 1)` parameters and a
 * budget `k_l = floor(ratio·n_l)`. Units (output neurons / output channels: a weight row or
 * filter plus its bias) are ranked by a score and taken whole in that order; the leftover
 * `k_l mod (fanIn + 1)` weights are drawn at random from the next unit's weights; a bias is
 * selected only with its whole unit. So every layer gets exactly `k_l` parameters.
 *
 * Scores (`unitScores`, from one forward and one backward pass over the target samples):
 * - `output`: |mean over target samples (and spatial positions) of the layer's pre-activation output|;
 * - `gradient`: |mean of ∂L_target/∂(layer output)| over samples and positions. Since a unit's
 *   bias is added to every position of its output, `∂L/∂b_u = Σ_{i,p} ∂L/∂out[i,u,p]`, so this
 *   is `|∂L_target/∂b_u| / (N·positions)`: read off the parameter gradient of the biases.
 * Ablations: the lowest-scoring units first, a random unit order, and a threshold on the output score.
 */
import { ShapeError, ValueError } from '../../engine/errors.js';
import { Rng } from '../../engine/random.js';

/** What selection needs to know about one parameterised layer (nn's `LayerSlot` has these fields). */
export interface SelectableLayer {
  /** Index of the layer in the network. */
  readonly layer: number;
  readonly kind: 'linear' | 'conv2d';
  /** Unit u's weights are θ[weightOffset + u·fanIn, +fanIn); its bias is θ[biasOffset + u]. */
  readonly weightOffset: number;
  readonly biasOffset: number;
  readonly units: number;
  readonly fanIn: number;
}

/** How units are ordered (or chosen) within each layer. */
export type SelectionOrder = 'highest' | 'lowest' | 'random';

/** One layer's part of a selection. */
export interface LayerSelection {
  readonly layer: number;
  readonly kind: 'linear' | 'conv2d';
  /** n_l: weights + biases of the layer. */
  readonly parameters: number;
  /** k_l = floor(ratio·n_l) (for a threshold selection: what was selected). */
  readonly budget: number;
  /** Parameters selected in this layer (= budget). */
  readonly selected: number;
  /** Units taken whole (weights and bias), in selection order. */
  readonly wholeUnits: readonly number[];
  /** The unit the leftover weights came from, or null when there were none. */
  readonly partialUnit: number | null;
  /** How many weights of `partialUnit` were taken. */
  readonly partialWeights: number;
}

/** An index set J into the flat parameter vector θ, with a per-layer account of how it was built. */
export interface Selection {
  /** Strictly increasing indices into θ. */
  readonly indices: Int32Array;
  readonly layers: readonly LayerSelection[];
  /** The requested ratio (NaN for a threshold selection). */
  readonly ratio: number;
  /** |J| divided by the parameters of the selectable layers. */
  readonly fraction: number;
  /** How it was made, e.g. `output/highest`, `gradient/lowest`, `random`, `threshold(0.1)`. */
  readonly rule: string;
}

function checkLayout(where: string, layout: readonly SelectableLayer[]): void {
  if (layout.length === 0) throw new ValueError(`${where}: the model has no Linear or Conv2d layer to select from`);
  for (const l of layout) {
    if (!Number.isInteger(l.units) || l.units <= 0 || !Number.isInteger(l.fanIn) || l.fanIn <= 0) {
      throw new ValueError(`${where}: layer ${l.layer} has units=${l.units}, fanIn=${l.fanIn}`);
    }
  }
}

function checkScores(where: string, layout: readonly SelectableLayer[], scores: readonly ArrayLike<number>[]): void {
  if (scores.length !== layout.length) throw new ShapeError(`${where}: ${scores.length} score arrays for ${layout.length} layers`);
  layout.forEach((l, i) => {
    const s = scores[i]!;
    if (s.length !== l.units) throw new ShapeError(`${where}: layer ${l.layer} has ${l.units} units but ${s.length} scores`);
    for (let u = 0; u < s.length; u++) {
      if (!Number.isFinite(s[u]!)) throw new ValueError(`${where}: score of unit ${u} of layer ${l.layer} is ${s[u]}`);
    }
  });
}

/** Unit order by score: highest first (ties by unit index), lowest first, or a random permutation. */
function unitOrder(scores: ArrayLike<number> | null, units: number, order: SelectionOrder, rng: Rng): number[] {
  if (order === 'random' || scores === null) return Array.from(rng.permutation(units));
  const idx = Array.from({ length: units }, (_, u) => u);
  const sign = order === 'highest' ? -1 : 1;
  idx.sort((a, b) => sign * (scores[a]! - scores[b]!) || a - b);
  return idx;
}

/**
 * Selects parameters with the per-layer budget `k_l = floor(ratio·n_l)`: units whole in the
 * given order, leftover weights at random from the next unit, biases only of whole units.
 * `scores[i]` ranks the units of `layout[i]` (ignored, and may be null, for `order: 'random'`).
 * @example
 * const sel = selectParameters(net.parameterLayout(), scores, 0.05, { order: 'highest', seed: 0 });
 * sel.indices // J, strictly increasing indices into θ
 */
export function selectParameters(
  layout: readonly SelectableLayer[], scores: readonly ArrayLike<number>[] | null, ratio: number,
  options: { order?: SelectionOrder; seed?: number; rule?: string } = {},
): Selection {
  const { order = 'highest', seed = 0 } = options;
  checkLayout('selectParameters', layout);
  if (!(ratio > 0 && ratio <= 1)) throw new ValueError(`selectParameters: ratio must be in (0, 1], got ${ratio}`);
  if (order !== 'random') {
    if (scores === null) throw new ValueError(`selectParameters: order '${order}' needs scores`);
    checkScores('selectParameters', layout, scores);
  }
  const rng = new Rng(seed);
  const chosen: number[] = [];
  const layers: LayerSelection[] = layout.map((l, i) => {
    const per = l.fanIn + 1;
    const n = l.units * per;
    const budget = Math.floor(ratio * n + 1e-9); // the 1e-9 keeps e.g. 0.05·2000 = 100, not 99.99…
    const whole = Math.floor(budget / per);
    const leftover = budget - whole * per;
    const ranked = unitOrder(scores?.[i] ?? null, l.units, order, rng);
    const wholeUnits = ranked.slice(0, whole);
    for (const u of wholeUnits) {
      for (let w = 0; w < l.fanIn; w++) chosen.push(l.weightOffset + u * l.fanIn + w);
      chosen.push(l.biasOffset + u);
    }
    let partialUnit: number | null = null;
    if (leftover > 0) {
      partialUnit = ranked[whole]!; // exists: leftover > 0 implies whole < units
      const pick = rng.permutation(l.fanIn).subarray(0, leftover);
      for (const w of pick) chosen.push(l.weightOffset + partialUnit * l.fanIn + w);
    }
    return { layer: l.layer, kind: l.kind, parameters: n, budget, selected: budget, wholeUnits, partialUnit, partialWeights: leftover };
  });
  return finishSelection(layout, chosen, layers, ratio, options.rule ?? (order === 'random' ? 'random' : `scores/${order}`));
}

/**
 * The threshold ablation: every unit whose score is at least `threshold` is taken whole
 * (weights and bias); no budget.
 * @example selectByThreshold(net.parameterLayout(), outputScores, 0.5)
 */
export function selectByThreshold(layout: readonly SelectableLayer[], scores: readonly ArrayLike<number>[], threshold: number, rule?: string): Selection {
  checkLayout('selectByThreshold', layout);
  checkScores('selectByThreshold', layout, scores);
  if (!Number.isFinite(threshold)) throw new ValueError(`selectByThreshold: threshold must be finite, got ${threshold}`);
  const chosen: number[] = [];
  const layers = layout.map((l, i) => {
    const s = scores[i]!;
    const wholeUnits = unitOrder(s, l.units, 'highest', new Rng(0)).filter((u) => s[u]! >= threshold);
    for (const u of wholeUnits) {
      for (let w = 0; w < l.fanIn; w++) chosen.push(l.weightOffset + u * l.fanIn + w);
      chosen.push(l.biasOffset + u);
    }
    const selected = wholeUnits.length * (l.fanIn + 1);
    return { layer: l.layer, kind: l.kind, parameters: l.units * (l.fanIn + 1), budget: selected, selected, wholeUnits, partialUnit: null, partialWeights: 0 };
  });
  if (chosen.length === 0) throw new ValueError(`selectByThreshold: no unit has a score ≥ ${threshold}`);
  return finishSelection(layout, chosen, layers, Number.NaN, rule ?? `threshold(${threshold})`);
}

function finishSelection(layout: readonly SelectableLayer[], chosen: number[], layers: LayerSelection[], ratio: number, rule: string): Selection {
  if (chosen.length === 0) throw new ValueError(`select (${rule}): the budget selects no parameter at ratio ${ratio}; raise the ratio`);
  const indices = Int32Array.from(chosen).sort();
  const total = layout.reduce((n, l) => n + l.units * (l.fanIn + 1), 0);
  return { indices, layers, ratio, fraction: indices.length / total, rule };
}

/**
 * A one-line-per-layer description of a selection, for logs and reports.
 * @example console.log(describeSelection(sel))
 */
export function describeSelection(sel: Selection): string {
  const lines = sel.layers.map((l) =>
    `  layer ${l.layer} (${l.kind}): ${l.selected}/${l.parameters} parameters, ${l.wholeUnits.length} whole units` +
    (l.partialUnit === null ? '' : ` + ${l.partialWeights} weights of unit ${l.partialUnit}`));
  return [`selection ${sel.rule}: ${sel.indices.length} parameters (${(100 * sel.fraction).toFixed(2)}%)`, ...lines].join('\n');
}
